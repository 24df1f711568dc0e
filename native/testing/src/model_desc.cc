#include "model_desc.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "json.h"

namespace hbdouble {
namespace {

const char* const kTypeNames[] = {"Y",   "NV12", "NV12_SEPARATE", "YUV444", "RGB", "BGR", "S4",
                                  "U4",  "S8",   "U8",            "F16",    "S16", "U16", "F32",
                                  "S32", "U32",  "F64",           "S64",    "U64"};

[[noreturn]] void Invalid(const std::string& where, const std::string& what) {
  throw LoadError(HB_DNN_INVALID_MODEL, where + ": " + what);
}

const JsonValue& Require(const JsonValue& obj, const std::string& key, const std::string& where) {
  const JsonValue* v = obj.Get(key);
  if (!v) Invalid(where, "missing field \"" + key + "\"");
  return *v;
}

std::string RequireString(const JsonValue& obj, const std::string& key, const std::string& where) {
  const JsonValue& v = Require(obj, key, where);
  if (v.kind != JsonValue::Kind::String) Invalid(where, "\"" + key + "\" must be a string");
  return v.string;
}

double NumberOr(const JsonValue& obj, const std::string& key, double fallback, const std::string& where) {
  const JsonValue* v = obj.Get(key);
  if (!v) return fallback;
  if (v->kind != JsonValue::Kind::Number) Invalid(where, "\"" + key + "\" must be a number");
  return v->number;
}

int IntOr(const JsonValue& obj, const std::string& key, int fallback, const std::string& where) {
  double d = NumberOr(obj, key, fallback, where);
  if (d != std::floor(d) || std::fabs(d) > 2e9) Invalid(where, "\"" + key + "\" must be an integer");
  return static_cast<int>(d);
}

std::vector<double> Numbers(const JsonValue& v, const std::string& key, const std::string& where) {
  if (v.kind != JsonValue::Kind::Array) Invalid(where, "\"" + key + "\" must be an array of numbers");
  std::vector<double> out;
  for (const JsonValue& e : v.array) {
    if (e.kind != JsonValue::Kind::Number) Invalid(where, "\"" + key + "\" must be an array of numbers");
    out.push_back(e.number);
  }
  return out;
}

std::vector<int32_t> Ints(const JsonValue& v, const std::string& key, const std::string& where) {
  std::vector<int32_t> out;
  for (double d : Numbers(v, key, where)) {
    if (d != std::floor(d) || std::fabs(d) > 2e9) Invalid(where, "\"" + key + "\" must hold integers");
    out.push_back(static_cast<int32_t>(d));
  }
  return out;
}

int32_t ParseTensorType(const std::string& s, const std::string& where) {
  for (int i = 0; i < HB_DNN_TENSOR_TYPE_MAX; i++)
    if (s == kTypeNames[i]) return i;
  Invalid(where, "unknown tensorType \"" + s + "\"");
}

int32_t ParseLayout(const std::string& s, const std::string& where) {
  if (s == "NHWC") return HB_DNN_LAYOUT_NHWC;
  if (s == "NCHW") return HB_DNN_LAYOUT_NCHW;
  if (s == "NONE") return HB_DNN_LAYOUT_NONE;
  Invalid(where, "layout must be NHWC, NCHW or NONE, not \"" + s + "\"");
}

hbDNNTensorShape ToShape(const std::vector<int32_t>& dims, const std::string& key, const std::string& where) {
  if (dims.empty() || dims.size() > HB_DNN_TENSOR_MAX_DIMENSIONS) Invalid(where, "\"" + key + "\" must have 1 to 8 dimensions");
  hbDNNTensorShape s{};
  s.numDimensions = static_cast<int32_t>(dims.size());
  for (size_t i = 0; i < dims.size(); i++) {
    if (dims[i] <= 0) Invalid(where, "\"" + key + "\" dimensions must be positive");
    s.dimensionSize[i] = dims[i];
  }
  return s;
}

bool IsNv12(int32_t t) { return t == HB_DNN_IMG_TYPE_NV12 || t == HB_DNN_IMG_TYPE_NV12_SEPARATE; }

std::string ShapeList(const std::vector<int32_t>& dims) {
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); i++) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + ")";
}

int32_t ParseInputSource(const std::string& s, const std::string& where) {
  if (s == "DDR") return HB_DNN_INPUT_FROM_DDR;
  if (s == "RESIZER") return HB_DNN_INPUT_FROM_RESIZER;
  if (s == "PYRAMID") return HB_DNN_INPUT_FROM_PYRAMID;
  Invalid(where, "inputSource must be DDR, RESIZER or PYRAMID, not \"" + s + "\"");
}

TensorDesc ParseTensor(const JsonValue& j, const std::string& where0, bool isInput) {
  if (j.kind != JsonValue::Kind::Object) Invalid(where0, "each tensor must be an object");
  TensorDesc t;
  t.name = RequireString(j, "name", where0);
  const std::string where = where0 + " tensor \"" + t.name + "\"";
  hbDNNTensorProperties& p = t.base;
  p.tensorType = ParseTensorType(RequireString(j, "tensorType", where), where);
  // Compiled models report NV12 for nv12 inputs; NV12_SEPARATE is what a caller may switch the tensor to.
  if (p.tensorType == HB_DNN_IMG_TYPE_NV12_SEPARATE)
    Invalid(where, "tensorType NV12_SEPARATE: compiled models report NV12 (the caller may switch to NV12_SEPARATE)");
  p.tensorLayout = ParseLayout(RequireString(j, "layout", where), where);
  std::vector<int32_t> valid = Ints(Require(j, "validShape", where), "validShape", where);
  p.validShape = ToShape(valid, "validShape", where);
  // 4-D tensors, plus 3-D (N,H,W) outputs: class maps with the channel axis dropped.
  if (p.validShape.numDimensions != 4 && (isInput || p.validShape.numDimensions != 3))
    Invalid(where, "the double models 4-D tensors (and 3-D (N,H,W) outputs)");
  // The runtime reports alignedShape as 4-D whatever the valid rank (a hardware fact in the vendor docs).
  std::vector<int32_t> aligned = valid;
  if (valid.size() == 3) aligned = p.tensorLayout == HB_DNN_LAYOUT_NCHW ? std::vector<int32_t>{valid[0], 1, valid[1], valid[2]}
                                                                          : std::vector<int32_t>{valid[0], valid[1], valid[2], 1};
  if (const JsonValue* a = j.Get("alignedShape")) aligned = Ints(*a, "alignedShape", where);
  if (aligned.size() != 4) Invalid(where, "alignedShape must have 4 dimensions (the runtime's is always 4-D)");
  Axes ax = AxesOf(p.tensorLayout);
  if (valid[0] != 1) Invalid(where, "the double only models batch size 1");
  if (IsNv12(p.tensorType)) {
    if (!isInput) Invalid(where, "NV12 is an input type");
    if (p.tensorLayout == HB_DNN_LAYOUT_NONE || valid[ax.c] != 3) Invalid(where, "NV12 inputs are (1,3,H,W) NCHW or (1,H,W,3) NHWC");
    if (valid[ax.h] % 2 || valid[ax.w] % 2) Invalid(where, "NV12 height and width must be even");
  }
  p.alignedShape = ToShape(aligned, "alignedShape", where);
  int dropped = -1;
  std::vector<int32_t> alignedForValid = AlignedForValid(p, &dropped);
  if (alignedForValid.empty()) Invalid(where, "alignedShape " + ShapeList(aligned) + " cannot hold validShape " + ShapeList(valid));
  if (ElementBytes(p.tensorType) == 0) Invalid(where, "the double does not model 4-bit tensors");

  if (const JsonValue* s = j.Get("stride")) {
    // One stride per validShape dimension, or one per alignedShape dimension (4) for a 3-D validShape.
    std::vector<int32_t> st = Ints(*s, "stride", where);
    if (st.size() != valid.size() && st.size() != aligned.size()) Invalid(where, "stride must have one entry per dimension");
    for (size_t i = 0; i < st.size(); i++) p.stride[i] = st[i];
  } else if (!IsNv12(p.tensorType)) {
    int64_t step = ElementBytes(p.tensorType);
    for (int i = static_cast<int>(valid.size()) - 1; i >= 0; i--) {
      p.stride[i] = static_cast<int32_t>(step);
      step *= alignedForValid[static_cast<size_t>(i)];
    }
  }
  if (isInput) {
    t.inputSource = IsNv12(p.tensorType) ? HB_DNN_INPUT_FROM_PYRAMID : HB_DNN_INPUT_FROM_DDR;
    if (j.Has("inputSource")) t.inputSource = ParseInputSource(RequireString(j, "inputSource", where), where);
  } else if (j.Has("inputSource")) {
    Invalid(where, "inputSource is for inputs");
  }
  int64_t bytes = ElementBytes(p.tensorType);
  if (IsNv12(p.tensorType)) {
    bytes = int64_t(aligned[ax.h]) * aligned[ax.w] * 3 / 2;  // as the X5 dumps report: H*W*3/2
  } else {
    for (int32_t d : aligned) bytes *= d;
  }
  p.alignedByteSize = static_cast<int32_t>(IntOr(j, "alignedByteSize", static_cast<int>(bytes), where));

  std::string q = "NONE";
  if (j.Has("quantiType")) q = RequireString(j, "quantiType", where);
  if (q == "NONE") p.quantiType = NONE;
  else if (q == "SHIFT") p.quantiType = SHIFT;
  else if (q == "SCALE") p.quantiType = SCALE;
  else Invalid(where, "quantiType must be NONE, SHIFT or SCALE");
  p.quantizeAxis = IntOr(j, "quantizeAxis", 0, where);
  if (const JsonValue* v = j.Get("scales"))
    for (double d : Numbers(*v, "scales", where)) t.scales.push_back(static_cast<float>(d));
  if (const JsonValue* v = j.Get("zeroPoints"))
    for (int32_t z : Ints(*v, "zeroPoints", where)) {
      if (z < -128 || z > 127) Invalid(where, "zeroPoints are int8");
      t.zeroPoints.push_back(static_cast<int8_t>(z));
    }
  if (const JsonValue* v = j.Get("shifts"))
    for (int32_t s : Ints(*v, "shifts", where)) {
      if (s < 0 || s > 255) Invalid(where, "shifts are uint8");
      t.shifts.push_back(static_cast<uint8_t>(s));
    }
  return t;
}

ComputeDesc ParseCompute(const JsonValue* j, const std::string& where) {
  ComputeDesc c;
  if (!j) return c;
  if (j->kind != JsonValue::Kind::Object) Invalid(where, "\"compute\" must be an object");
  std::string kind = RequireString(*j, "kind", where);
  if (kind == "affine") c.kind = ComputeDesc::Kind::Affine;
  else if (kind == "bands") c.kind = ComputeDesc::Kind::Bands;
  else if (kind == "grid") c.kind = ComputeDesc::Kind::Grid;
  else Invalid(where, "compute kind must be affine, bands or grid");
  c.gain = NumberOr(*j, "gain", 1, where);
  c.channelStep = NumberOr(*j, "channelStep", 0, where);
  c.offset = NumberOr(*j, "offset", 0, where);
  c.classes = IntOr(*j, "classes", 0, where);
  c.sourceChannel = IntOr(*j, "sourceChannel", 0, where);
  c.cellHeight = IntOr(*j, "cellHeight", 1, where);
  c.cellWidth = IntOr(*j, "cellWidth", 1, where);
  c.high = NumberOr(*j, "high", 0, where);
  c.step = NumberOr(*j, "step", 1, where);
  if (c.kind != ComputeDesc::Kind::Affine && c.classes < 1) Invalid(where, "bands and grid need \"classes\" >= 1");
  if (c.cellHeight < 1 || c.cellWidth < 1) Invalid(where, "cellHeight and cellWidth must be >= 1");
  return c;
}

}  // namespace

hbDNNTensorProperties TensorDesc::Properties() const {
  hbDNNTensorProperties p = base;
  p.scale.scaleLen = static_cast<int32_t>(scales.size());
  p.scale.scaleData = scales.empty() ? nullptr : const_cast<float*>(scales.data());
  p.scale.zeroPointLen = static_cast<int32_t>(zeroPoints.size());
  p.scale.zeroPointData = zeroPoints.empty() ? nullptr : const_cast<int8_t*>(zeroPoints.data());
  p.shift.shiftLen = static_cast<int32_t>(shifts.size());
  p.shift.shiftData = shifts.empty() ? nullptr : const_cast<uint8_t*>(shifts.data());
  return p;
}

int ElementBytes(int32_t t) {
  switch (t) {
    case HB_DNN_IMG_TYPE_Y:
    case HB_DNN_IMG_TYPE_NV12:
    case HB_DNN_IMG_TYPE_NV12_SEPARATE:
    case HB_DNN_IMG_TYPE_YUV444:
    case HB_DNN_IMG_TYPE_RGB:
    case HB_DNN_IMG_TYPE_BGR:
    case HB_DNN_TENSOR_TYPE_S8:
    case HB_DNN_TENSOR_TYPE_U8: return 1;
    case HB_DNN_TENSOR_TYPE_F16:
    case HB_DNN_TENSOR_TYPE_S16:
    case HB_DNN_TENSOR_TYPE_U16: return 2;
    case HB_DNN_TENSOR_TYPE_F32:
    case HB_DNN_TENSOR_TYPE_S32:
    case HB_DNN_TENSOR_TYPE_U32: return 4;
    case HB_DNN_TENSOR_TYPE_F64:
    case HB_DNN_TENSOR_TYPE_S64:
    case HB_DNN_TENSOR_TYPE_U64: return 8;
    default: return 0;
  }
}

const char* TensorTypeName(int32_t t) { return t >= 0 && t < HB_DNN_TENSOR_TYPE_MAX ? kTypeNames[t] : "?"; }

std::vector<int32_t> AlignedForValid(const hbDNNTensorProperties& p, int* dropped) {
  const int n = p.validShape.numDimensions, m = p.alignedShape.numDimensions;
  const int32_t* v = p.validShape.dimensionSize;
  const int32_t* a = p.alignedShape.dimensionSize;
  auto fits = [&](int skip) {
    std::vector<int32_t> out;
    for (int i = 0; i < m; i++)
      if (i != skip) out.push_back(a[i]);
    for (int i = 0; i < n; i++)
      if (out[static_cast<size_t>(i)] < v[i]) return std::vector<int32_t>{};
    return out;
  };
  if (dropped) *dropped = -1;
  if (m == n) return fits(-1);
  if (m != n + 1) return {};
  for (int skip = 1; skip < m; skip++) {  // never the batch dimension
    if (a[skip] != 1) continue;
    std::vector<int32_t> out = fits(skip);
    if (!out.empty()) {
      if (dropped) *dropped = skip;
      return out;
    }
  }
  return {};
}

std::vector<int64_t> EffectiveStrides(const hbDNNTensorProperties& p) {
  const int n = p.validShape.numDimensions;
  int dropped = -1;
  const std::vector<int32_t> aligned = AlignedForValid(p, &dropped);
  std::vector<int64_t> s(static_cast<size_t>(n));
  if (aligned.empty()) return s;
  // Strides given per aligned dimension (an entry past the valid rank is set): leave out the dropped one.
  if (dropped >= 0 && p.stride[n] != 0) {
    for (int i = 0, k = 0; i <= n; i++)
      if (i != dropped) s[static_cast<size_t>(k++)] = p.stride[i];
    return s;
  }
  const bool given = n > 0 && p.stride[n - 1] != 0;
  int64_t step = ElementBytes(p.tensorType);
  for (int i = n - 1; i >= 0; i--) {
    s[static_cast<size_t>(i)] = given ? p.stride[i] : step;
    step *= aligned[static_cast<size_t>(i)];
  }
  return s;
}

Axes AxesOf(int32_t layout) {
  if (layout == HB_DNN_LAYOUT_NHWC) return {0, 3, 1, 2};
  return {0, 1, 2, 3};
}

std::vector<ModelDesc> LoadModelFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw LoadError(HB_DNN_CAN_NOT_OPEN_FILE, "cannot open model file '" + path + "': " + std::strerror(errno));
  std::stringstream buf;
  buf << in.rdbuf();
  std::vector<ModelDesc> models = LoadModelText(buf.str(), "'" + path + "'");
  for (ModelDesc& m : models) m.file = path;
  return models;
}

std::vector<ModelDesc> LoadModelText(const std::string& text, const std::string& where) {
  JsonValue root;
  try {
    root = ParseJson(text);
  } catch (const JsonError& e) {
    throw LoadError(HB_DNN_INVALID_MODEL, where + " is not a test-double model (" + e.what() +
                                              "); a compiled .bin needs the board's libdnn");
  }
  const JsonValue* format = root.Get("format");
  if (!format || format->kind != JsonValue::Kind::String || format->string != "segstream-hb-dnn-double/1")
    Invalid(where, "not a test-double model (\"format\" must be \"segstream-hb-dnn-double/1\")");
  std::string march = RequireString(root, "march", where);
  std::string incompatibleAt = "load";
  if (root.Has("incompatibleAt")) incompatibleAt = RequireString(root, "incompatibleAt", where);
  if (incompatibleAt != "load" && incompatibleAt != "wait") Invalid(where, "\"incompatibleAt\" must be \"load\" or \"wait\"");
  if (march != "bayes-e" && incompatibleAt == "load")
    throw LoadError(HB_DNN_INCOMPATIBLE_MODEL, "Incompatible Platform: " + where + " was compiled for march " + march +
                                                   ", this BPU is bayes-e (RDK X5)");
  const JsonValue& models = Require(root, "models", where);
  if (models.kind != JsonValue::Kind::Array || models.array.empty()) Invalid(where, "\"models\" must be a non-empty array");
  std::vector<ModelDesc> out;
  for (const JsonValue& m : models.array) {
    if (m.kind != JsonValue::Kind::Object) Invalid(where, "each model must be an object");
    ModelDesc d;
    d.file = where;
    d.march = march;
    d.incompatibleAtWait = march != "bayes-e";
    d.name = RequireString(m, "name", where);
    if (d.name.empty()) Invalid(where, "model names must not be empty");
    const std::string mw = where + " model \"" + d.name + "\"";
    d.inferDelayMs = IntOr(m, "inferDelayMs", 0, mw);
    d.compute = ParseCompute(m.Get("compute"), mw);
    const JsonValue& ins = Require(m, "inputs", mw);
    const JsonValue& outs = Require(m, "outputs", mw);
    if (ins.kind != JsonValue::Kind::Array || ins.array.empty()) Invalid(mw, "\"inputs\" must be a non-empty array");
    if (outs.kind != JsonValue::Kind::Array || outs.array.empty()) Invalid(mw, "\"outputs\" must be a non-empty array");
    for (const JsonValue& t : ins.array) d.inputs.push_back(ParseTensor(t, mw + " input", true));
    for (const JsonValue& t : outs.array) d.outputs.push_back(ParseTensor(t, mw + " output", false));
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace hbdouble
