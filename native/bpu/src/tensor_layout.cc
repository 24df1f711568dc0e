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

TensorSpec MakeTensorSpec(const std::string& name, const hbDNNTensorProperties& p, const std::string& subject) {
  TensorSpec t;
  t.name = name;
  t.props = p;
  const int n = p.validShape.numDimensions;
  if (n < 1 || n > HB_DNN_TENSOR_MAX_DIMENSIONS || p.alignedShape.numDimensions != n)
    Invalid(subject, "validShape/alignedShape must have the same 1 to 8 dimensions (got " + std::to_string(n) + " and " +
                         std::to_string(p.alignedShape.numDimensions) + ")");
  t.validShape = Dims(p.validShape);
  t.alignedShape = Dims(p.alignedShape);
  for (int i = 0; i < n; i++) {
    if (t.validShape[i] < 1) Invalid(subject, "validShape dimension " + std::to_string(i) + " is " + std::to_string(t.validShape[i]));
    if (t.alignedShape[i] < t.validShape[i]) Invalid(subject, "alignedShape dimension " + std::to_string(i) + " is smaller than validShape's");
  }
  t.elementBytes = ElementBytes(p.tensorType);
  if (t.elementBytes == 0) return t;  // unsupported type: the caller reports it by name
  // Image inputs come with zero strides: derive them from the aligned shape, as for any tensor without strides.
  const bool given = p.stride[n - 1] != 0;
  t.strides.resize(static_cast<size_t>(n));
  int64_t step = t.elementBytes;
  for (int i = n - 1; i >= 0; i--) {
    t.strides[i] = given ? p.stride[i] : step;
    if (t.strides[i] < 0) Invalid(subject, "negative stride");
    step *= t.alignedShape[i];
  }
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
