#include "tensor_layout.h"

#include "bpu_error.h"

namespace segbpu {
namespace {

const char* const kTypeNames[] = {
    "HB_DNN_IMG_TYPE_Y",         "HB_DNN_IMG_TYPE_NV12",      "HB_DNN_IMG_TYPE_NV12_SEPARATE",
    "HB_DNN_IMG_TYPE_YUV444",    "HB_DNN_IMG_TYPE_RGB",       "HB_DNN_IMG_TYPE_BGR",
    "HB_DNN_TENSOR_TYPE_S4",     "HB_DNN_TENSOR_TYPE_U4",     "HB_DNN_TENSOR_TYPE_S8",
    "HB_DNN_TENSOR_TYPE_U8",     "HB_DNN_TENSOR_TYPE_F16",    "HB_DNN_TENSOR_TYPE_S16",
    "HB_DNN_TENSOR_TYPE_U16",    "HB_DNN_TENSOR_TYPE_F32",    "HB_DNN_TENSOR_TYPE_S32",
    "HB_DNN_TENSOR_TYPE_U32",    "HB_DNN_TENSOR_TYPE_F64",    "HB_DNN_TENSOR_TYPE_S64",
    "HB_DNN_TENSOR_TYPE_U64"};

[[noreturn]] void Invalid(const std::string& subject, const std::string& what) {
  throw BpuError("invalid-properties", subject + " has properties segstream cannot read safely: " + what);
}

std::vector<int32_t> Dims(const hbDNNTensorShape& s) {
  return std::vector<int32_t>(s.dimensionSize, s.dimensionSize + s.numDimensions);
}

}  // namespace

const char* TensorTypeName(int32_t t) {
  return t >= 0 && t < HB_DNN_TENSOR_TYPE_MAX ? kTypeNames[t] : "unknown tensor type";
}

const char* LayoutName(int32_t layout) {
  switch (layout) {
    case HB_DNN_LAYOUT_NHWC: return "NHWC";
    case HB_DNN_LAYOUT_NCHW: return "NCHW";
    default: return "NONE";
  }
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

bool IsNv12(int32_t t) { return t == HB_DNN_IMG_TYPE_NV12 || t == HB_DNN_IMG_TYPE_NV12_SEPARATE; }

bool IsIntegerType(int32_t t) {
  switch (t) {
    case HB_DNN_TENSOR_TYPE_S8:
    case HB_DNN_TENSOR_TYPE_U8:
    case HB_DNN_TENSOR_TYPE_S16:
    case HB_DNN_TENSOR_TYPE_U16:
    case HB_DNN_TENSOR_TYPE_S32:
    case HB_DNN_TENSOR_TYPE_U32:
    case HB_DNN_TENSOR_TYPE_S64:
    case HB_DNN_TENSOR_TYPE_U64: return true;
    default: return false;
  }
}

Axes AxesOf(int32_t layout) {
  if (layout == HB_DNN_LAYOUT_NHWC) return {3, 1, 2};
  return {1, 2, 3};
}

int64_t TensorSpec::ValidElements() const {
  int64_t n = 1;
  for (int32_t d : validShape) n *= d;
  return n;
}

int64_t TensorSpec::ValidExtent() const {
  int64_t end = elementBytes;
  for (size_t i = 0; i < validShape.size(); i++) end += int64_t(validShape[i] - 1) * strides[i];
  return end;
}

namespace {

// alignedForValid, and which aligned dimension it leaves out (-1 when the ranks agree); empty when the aligned
// shape cannot hold the valid one.
std::vector<int32_t> MatchAligned(const std::vector<int32_t>& valid, const std::vector<int32_t>& aligned, int* dropped) {
  auto without = [&](int skip) {
    std::vector<int32_t> out;
    for (size_t i = 0; i < aligned.size(); i++)
      if (static_cast<int>(i) != skip) out.push_back(aligned[i]);
    for (size_t i = 0; i < valid.size(); i++)
      if (out[i] < valid[i]) return std::vector<int32_t>{};
    return out;
  };
  *dropped = -1;
  if (aligned.size() == valid.size()) return without(-1);
  if (aligned.size() != valid.size() + 1) return {};
  for (size_t skip = 1; skip < aligned.size(); skip++) {  // never the batch dimension
    if (aligned[skip] != 1) continue;
    std::vector<int32_t> out = without(static_cast<int>(skip));
    if (!out.empty()) {
      *dropped = static_cast<int>(skip);
      return out;
    }
  }
  return {};
}

std::string ShapeText(const std::vector<int32_t>& s) {
  std::string t = "(";
  for (size_t i = 0; i < s.size(); i++) t += (i ? "," : "") + std::to_string(s[i]);
  return t + ")";
}

}  // namespace

TensorSpec MakeTensorSpec(const std::string& name, const hbDNNTensorProperties& p, const std::string& subject) {
  TensorSpec t;
  t.name = name;
  t.props = p;
  const int n = p.validShape.numDimensions, m = p.alignedShape.numDimensions;
  if (n < 1 || n > HB_DNN_TENSOR_MAX_DIMENSIONS || m < 1 || m > HB_DNN_TENSOR_MAX_DIMENSIONS)
    Invalid(subject, "validShape/alignedShape must have 1 to 8 dimensions (got " + std::to_string(n) + " and " + std::to_string(m) + ")");
  t.validShape = Dims(p.validShape);
  t.alignedShape = Dims(p.alignedShape);
  for (int i = 0; i < n; i++)
    if (t.validShape[i] < 1) Invalid(subject, "validShape dimension " + std::to_string(i) + " is " + std::to_string(t.validShape[i]));
  int dropped = -1;
  t.alignedForValid = MatchAligned(t.validShape, t.alignedShape, &dropped);
  if (t.alignedForValid.empty())
    Invalid(subject, "alignedShape " + ShapeText(t.alignedShape) + " does not hold validShape " + ShapeText(t.validShape) +
                         " (equal ranks with no aligned dimension smaller, or one extra size-1 aligned dimension)");
  t.elementBytes = ElementBytes(p.tensorType);
  if (t.elementBytes == 0) return t;  // unsupported type: the caller reports it by name
  t.strides.resize(static_cast<size_t>(n));
  if (dropped >= 0 && p.stride[n] != 0) {
    // Strides reported per aligned dimension (an entry past the valid rank is set): leave out the extra one.
    for (int i = 0, k = 0; i <= n; i++)
      if (i != dropped) t.strides[static_cast<size_t>(k++)] = p.stride[i];
  } else {
    // Image inputs come with zero strides: derive them from the aligned sizes, as for any tensor without strides.
    const bool given = p.stride[n - 1] != 0;
    int64_t step = t.elementBytes;
    for (int i = n - 1; i >= 0; i--) {
      t.strides[i] = given ? p.stride[i] : step;
      step *= t.alignedForValid[i];
    }
  }
  for (int64_t s : t.strides)
    if (s < 0) Invalid(subject, "negative stride");
  if (!IsNv12(p.tensorType) && p.alignedByteSize < t.ValidExtent())
    Invalid(subject, "the valid region read through the strides needs " + std::to_string(t.ValidExtent()) +
                         " bytes but alignedByteSize is " + std::to_string(p.alignedByteSize));

  auto checkAxis = [&](int32_t len, const char* what) {
    if (len < 1) Invalid(subject, std::string(what) + " quantisation without any " + what + " values");
    if (len == 1) return;
    if (p.quantizeAxis < 0 || p.quantizeAxis >= n) Invalid(subject, "quantizeAxis " + std::to_string(p.quantizeAxis) + " out of range");
    if (len != t.validShape[p.quantizeAxis])
      Invalid(subject, std::to_string(len) + " " + what + " values for axis " + std::to_string(p.quantizeAxis) + " of size " +
                           std::to_string(t.validShape[p.quantizeAxis]));
    t.axis = p.quantizeAxis;
  };
  if (p.quantiType == SCALE) {
    checkAxis(p.scale.scaleLen, "scale");
    if (!p.scale.scaleData) Invalid(subject, "scaleData is null");
    t.scales.assign(p.scale.scaleData, p.scale.scaleData + p.scale.scaleLen);
    const int32_t zl = p.scale.zeroPointLen;
    if (zl != 0 && zl != 1 && zl != p.scale.scaleLen)
      Invalid(subject, std::to_string(zl) + " zero points for " + std::to_string(p.scale.scaleLen) + " scales");
    if (zl > 0 && !p.scale.zeroPointData) Invalid(subject, "zeroPointData is null");
    for (int32_t i = 0; i < zl; i++) t.zeroPoints.push_back(p.scale.zeroPointData[i]);
  } else if (p.quantiType == SHIFT) {
    checkAxis(p.shift.shiftLen, "shift");
    if (!p.shift.shiftData) Invalid(subject, "shiftData is null");
    for (int32_t i = 0; i < p.shift.shiftLen; i++) {
      if (p.shift.shiftData[i] > 62) Invalid(subject, "shift " + std::to_string(p.shift.shiftData[i]) + " is too large");
      t.shifts.push_back(p.shift.shiftData[i]);
    }
  } else if (p.quantiType != NONE) {
    Invalid(subject, "unknown quantiType " + std::to_string(static_cast<int>(p.quantiType)));
  }
  return t;
}

}  // namespace segbpu
