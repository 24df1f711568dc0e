#include "tensor_io.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "bpu_error.h"

namespace segbpu {
namespace {

// Calls fn(byteOffset, flatIndex, rowIndex) for every row (last dimension) of the valid region, in row-major
// order; `index` holds the current outer coordinates.
template <typename Fn>
void ForEachRow(const TensorSpec& t, Fn&& fn) {
  const size_t n = t.validShape.size();
  std::vector<int32_t> index(n, 0);
  const int64_t rowLength = t.validShape[n - 1];
  int64_t flat = 0;
  for (;;) {
    int64_t offset = 0;
    for (size_t i = 0; i + 1 < n; i++) offset += int64_t(index[i]) * t.strides[i];
    fn(offset, flat, index);
    flat += rowLength;
    // Advance the outer coordinates (all but the last).
    size_t d = n - 1;
    for (;;) {
      if (d == 0) return;
      d--;
      if (++index[d] < t.validShape[d]) break;
      index[d] = 0;
    }
  }
}

float HalfToFloat(uint16_t h) {
  const int exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
  float v;
  if (exp == 0) v = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31) v = mant ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else v = std::ldexp(static_cast<float>(mant + 1024), exp - 25);
  return (h & 0x8000) ? -v : v;
}

template <typename Raw>
Raw Load(const uint8_t* p) {
  Raw v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Per-row dequantisation parameters: constant unless the quantisation axis is the last one.
struct Dequant {
  const TensorSpec& t;
  bool perElement;  // axis is the last dimension
  double Scale(int i) const {
    if (!t.scales.empty()) return t.scales[t.scales.size() == 1 ? 0 : i];
    if (!t.shifts.empty()) return std::ldexp(1.0, -t.shifts[t.shifts.size() == 1 ? 0 : i]);
    return 1.0;
  }
  double Zero(int i) const {
    if (t.zeroPoints.empty()) return 0.0;
    return t.zeroPoints[t.zeroPoints.size() == 1 ? 0 : i];
  }
};

template <typename Raw>
void DequantizeTo(const TensorSpec& t, const uint8_t* src, float* dst) {
  const bool quantised = IsIntegerType(t.props.tensorType) && (t.props.quantiType == SCALE || t.props.quantiType == SHIFT);
  Dequant q{t, t.axis == static_cast<int>(t.validShape.size()) - 1};
  const int64_t lastStride = t.strides.back();
  const int32_t rowLength = t.validShape.back();
  ForEachRow(t, [&](int64_t offset, int64_t flat, const std::vector<int32_t>& index) {
    const uint8_t* row = src + offset;
    float* out = dst + flat;
    if (!quantised) {
      for (int32_t i = 0; i < rowLength; i++) out[i] = static_cast<float>(Load<Raw>(row + i * lastStride));
      return;
    }
    if (q.perElement) {
      for (int32_t i = 0; i < rowLength; i++)
        out[i] = static_cast<float>((static_cast<double>(Load<Raw>(row + i * lastStride)) - q.Zero(i)) * q.Scale(i));
      return;
    }
    const int a = t.axis < 0 ? 0 : index[t.axis];
    const double scale = q.Scale(a), zero = q.Zero(a);
    for (int32_t i = 0; i < rowLength; i++)
      out[i] = static_cast<float>((static_cast<double>(Load<Raw>(row + i * lastStride)) - zero) * scale);
  });
}

template <typename Raw, typename Out>
void CopyRawTo(const TensorSpec& t, const uint8_t* src, Out* dst) {
  const int64_t lastStride = t.strides.back();
  const int32_t rowLength = t.validShape.back();
  ForEachRow(t, [&](int64_t offset, int64_t flat, const std::vector<int32_t>&) {
    const uint8_t* row = src + offset;
    for (int32_t i = 0; i < rowLength; i++) {
      const Raw v = Load<Raw>(row + i * lastStride);
      // Saturate into the destination; class ids and int logits fit, this only guards odd models.
      if (static_cast<double>(v) > static_cast<double>(std::numeric_limits<Out>::max())) dst[flat + i] = std::numeric_limits<Out>::max();
      else if (static_cast<double>(v) < static_cast<double>(std::numeric_limits<Out>::lowest())) dst[flat + i] = std::numeric_limits<Out>::lowest();
      else dst[flat + i] = static_cast<Out>(v);
    }
  });
}

template <typename Raw>
void ReadAs(const TensorSpec& t, const uint8_t* src, OutputType type, void* dst) {
  switch (type) {
    case OutputType::Float32: DequantizeTo<Raw>(t, src, static_cast<float*>(dst)); break;
    case OutputType::Int8: CopyRawTo<Raw>(t, src, static_cast<int8_t*>(dst)); break;
    case OutputType::Uint8: CopyRawTo<Raw>(t, src, static_cast<uint8_t*>(dst)); break;
    case OutputType::Int16: CopyRawTo<Raw>(t, src, static_cast<int16_t*>(dst)); break;
    case OutputType::Int32: CopyRawTo<Raw>(t, src, static_cast<int32_t*>(dst)); break;
  }
}

}  // namespace

int OutputTypeBytes(OutputType t) {
  switch (t) {
    case OutputType::Float32:
    case OutputType::Int32: return 4;
    case OutputType::Int16: return 2;
    default: return 1;
  }
}

void CheckNv12Bounds(const Nv12Source& s) {
  auto fail = [&](const std::string& what) {
    throw BpuError("invalid-argument", "NV12 image " + std::to_string(s.width) + "x" + std::to_string(s.height) + ": " + what);
  };
  if (s.width < 2 || s.height < 2 || s.width % 2 || s.height % 2) fail("width and height must be even and >= 2");
  if (s.strideY < s.width || s.strideUV < s.width) fail("row strides must be >= the width");
  if (s.offsetUV < 0) fail("negative UV offset");
  const int64_t yEnd = s.strideY * (s.height - 1) + s.width;
  const int64_t uvEnd = s.offsetUV + s.strideUV * (s.height / 2 - 1) + s.width;
  if (yEnd > static_cast<int64_t>(s.length) || uvEnd > static_cast<int64_t>(s.length))
    fail("planes end at byte " + std::to_string(yEnd > uvEnd ? yEnd : uvEnd) + " but the buffer holds " + std::to_string(s.length));
}

void CopyNv12Packed(const Nv12Source& s, uint8_t* dst) {
  const size_t w = static_cast<size_t>(s.width);
  for (int y = 0; y < s.height; y++) std::memcpy(dst + y * w, s.data + y * s.strideY, w);
  uint8_t* uv = dst + size_t(s.height) * w;
  for (int y = 0; y < s.height / 2; y++) std::memcpy(uv + y * w, s.data + s.offsetUV + y * s.strideUV, w);
}

void CopyNv12Planes(const Nv12Source& s, int64_t stride, uint8_t* dstY, uint8_t* dstUV) {
  if (stride == s.strideY && stride == s.strideUV) {
    // Same stride as the source: each plane is one block (the last row stops at the width).
    std::memcpy(dstY, s.data, static_cast<size_t>(stride * (s.height - 1) + s.width));
    std::memcpy(dstUV, s.data + s.offsetUV, static_cast<size_t>(stride * (s.height / 2 - 1) + s.width));
    return;
  }
  for (int y = 0; y < s.height; y++) std::memcpy(dstY + y * stride, s.data + y * s.strideY, size_t(s.width));
  for (int y = 0; y < s.height / 2; y++)
    std::memcpy(dstUV + y * stride, s.data + s.offsetUV + y * s.strideUV, size_t(s.width));
}

void WriteTensor(const TensorSpec& t, const uint8_t* src, uint8_t* dst) {
  const int eb = t.elementBytes;
  const int64_t lastStride = t.strides.back();
  const int32_t rowLength = t.validShape.back();
  ForEachRow(t, [&](int64_t offset, int64_t flat, const std::vector<int32_t>&) {
    const uint8_t* from = src + flat * eb;
    uint8_t* to = dst + offset;
    if (lastStride == eb) {
      std::memcpy(to, from, size_t(rowLength) * eb);
      return;
    }
    for (int32_t i = 0; i < rowLength; i++) std::memcpy(to + i * lastStride, from + i * eb, size_t(eb));
  });
}

void ReadOutput(const TensorSpec& t, const uint8_t* src, OutputType type, void* dst) {
  switch (t.props.tensorType) {
    case HB_DNN_TENSOR_TYPE_S8: ReadAs<int8_t>(t, src, type, dst); break;
    case HB_DNN_TENSOR_TYPE_U8: ReadAs<uint8_t>(t, src, type, dst); break;
    case HB_DNN_TENSOR_TYPE_S16: ReadAs<int16_t>(t, src, type, dst); break;
    case HB_DNN_TENSOR_TYPE_U16: ReadAs<uint16_t>(t, src, type, dst); break;
    case HB_DNN_TENSOR_TYPE_S32: ReadAs<int32_t>(t, src, type, dst); break;
    case HB_DNN_TENSOR_TYPE_U32: ReadAs<uint32_t>(t, src, type, dst); break;
    case HB_DNN_TENSOR_TYPE_S64: ReadAs<int64_t>(t, src, type, dst); break;
    case HB_DNN_TENSOR_TYPE_U64: ReadAs<uint64_t>(t, src, type, dst); break;
    case HB_DNN_TENSOR_TYPE_F32: ReadAs<float>(t, src, type, dst); break;
    case HB_DNN_TENSOR_TYPE_F64: ReadAs<double>(t, src, type, dst); break;
    case HB_DNN_TENSOR_TYPE_F16: {
      // Convert through a float copy of the rows: F16 outputs are rare, clarity over speed.
      if (type != OutputType::Float32) throw BpuError("invalid-argument", "F16 outputs can only be read as float32");
      const int64_t lastStride = t.strides.back();
      const int32_t rowLength = t.validShape.back();
      float* out = static_cast<float*>(dst);
      ForEachRow(t, [&](int64_t offset, int64_t flat, const std::vector<int32_t>&) {
        for (int32_t i = 0; i < rowLength; i++) out[flat + i] = HalfToFloat(Load<uint16_t>(src + offset + i * lastStride));
      });
      break;
    }
    default:
      throw BpuError("unsupported-output-type", std::string("cannot read an output of type ") + TensorTypeName(t.props.tensorType));
  }
}

}  // namespace segbpu
