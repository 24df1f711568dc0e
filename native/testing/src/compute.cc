#include "compute.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace hbdouble {
namespace {

float HalfToFloat(uint16_t h) {
  int sign = (h >> 15) & 1, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
  double v;
  if (exp == 0) v = std::ldexp(mant, -24);
  else if (exp == 31) v = mant ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  else v = std::ldexp(mant + 1024, exp - 25);
  return static_cast<float>(sign ? -v : v);
}

uint16_t FloatToHalf(float f) {
  // Round-to-nearest via frexp; enough for the small, exactly representable values tests use.
  uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  double a = std::fabs(static_cast<double>(f));
  if (std::isnan(f)) return 0x7E00;
  if (a >= 65520.0) return sign | 0x7C00;
  if (a < std::ldexp(1.0, -24) / 2) return sign;
  int e;
  std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  int exp = e - 1 + 15;
  if (exp <= 0) return sign | static_cast<uint16_t>(std::lround(a / std::ldexp(1.0, -24)));
  long mant = std::lround((a / std::ldexp(1.0, e - 1) - 1.0) * 1024.0);
  if (mant == 1024) {
    mant = 0;
    exp++;
  }
  if (exp >= 31) return sign | 0x7C00;
  return static_cast<uint16_t>(sign | (exp << 10) | mant);
}

double ReadElement(const uint8_t* p, int32_t type) {
  switch (type) {
    case HB_DNN_TENSOR_TYPE_S8: return *reinterpret_cast<const int8_t*>(p);
    case HB_DNN_TENSOR_TYPE_F16: {
      uint16_t h;
      std::memcpy(&h, p, 2);
      return HalfToFloat(h);
    }
#define READ_AS(T)     \
  {                    \
    T v;               \
    std::memcpy(&v, p, sizeof v); \
    return static_cast<double>(v); \
  }
    case HB_DNN_TENSOR_TYPE_S16: READ_AS(int16_t)
    case HB_DNN_TENSOR_TYPE_U16: READ_AS(uint16_t)
    case HB_DNN_TENSOR_TYPE_F32: READ_AS(float)
    case HB_DNN_TENSOR_TYPE_S32: READ_AS(int32_t)
    case HB_DNN_TENSOR_TYPE_U32: READ_AS(uint32_t)
    case HB_DNN_TENSOR_TYPE_F64: READ_AS(double)
    case HB_DNN_TENSOR_TYPE_S64: READ_AS(int64_t)
    case HB_DNN_TENSOR_TYPE_U64: READ_AS(uint64_t)
#undef READ_AS
    default: return *p;  // image types and U8
  }
}

template <typename T>
void StoreInt(uint8_t* p, double r) {
  double f = std::floor(r);
  double lo = static_cast<double>(std::numeric_limits<T>::lowest());
  double hi = static_cast<double>(std::numeric_limits<T>::max());
  T v = f <= lo ? std::numeric_limits<T>::lowest() : f >= hi ? std::numeric_limits<T>::max() : static_cast<T>(f);
  std::memcpy(p, &v, sizeof v);
}

void WriteElement(uint8_t* p, int32_t type, double r) {
  switch (type) {
    case HB_DNN_TENSOR_TYPE_S8: StoreInt<int8_t>(p, r); break;
    case HB_DNN_TENSOR_TYPE_S16: StoreInt<int16_t>(p, r); break;
    case HB_DNN_TENSOR_TYPE_U16: StoreInt<uint16_t>(p, r); break;
    case HB_DNN_TENSOR_TYPE_S32: StoreInt<int32_t>(p, r); break;
    case HB_DNN_TENSOR_TYPE_U32: StoreInt<uint32_t>(p, r); break;
    case HB_DNN_TENSOR_TYPE_S64: StoreInt<int64_t>(p, r); break;
    case HB_DNN_TENSOR_TYPE_U64: StoreInt<uint64_t>(p, r); break;
    case HB_DNN_TENSOR_TYPE_F16: {
      uint16_t h = FloatToHalf(static_cast<float>(r));
      std::memcpy(p, &h, 2);
      break;
    }
    case HB_DNN_TENSOR_TYPE_F32: {
      float f = static_cast<float>(r);
      std::memcpy(p, &f, 4);
      break;
    }
    case HB_DNN_TENSOR_TYPE_F64: std::memcpy(p, &r, 8); break;
    default: StoreInt<uint8_t>(p, r); break;  // U8 and image types
  }
}

// Reads input 0 at valid coordinates, whatever its type and layout.
class InputReader {
 public:
  explicit InputReader(const InputPlanes& in) : in_(in), ax_(AxesOf(in.props.tensorLayout)) {
    const hbDNNTensorShape& v = in.props.validShape;
    type_ = in.props.tensorType;
    channels_ = v.dimensionSize[ax_.c];
    height_ = v.dimensionSize[ax_.h];
    width_ = v.dimensionSize[ax_.w];
    if (type_ == HB_DNN_IMG_TYPE_NV12 || type_ == HB_DNN_IMG_TYPE_NV12_SEPARATE) {
      // Rows at the caller's alignedShape W; packed UV follows the aligned Y plane.
      rowStride_ = in.props.alignedShape.dimensionSize[ax_.w];
      uvOffset_ = int64_t(rowStride_) * in.props.alignedShape.dimensionSize[ax_.h];
    } else {
      strides_ = EffectiveStrides(in.props);
    }
  }
  int channels() const { return channels_; }
  int height() const { return height_; }
  int width() const { return width_; }

  double At(int c, int y, int x) const {
    if (type_ == HB_DNN_IMG_TYPE_NV12 || type_ == HB_DNN_IMG_TYPE_NV12_SEPARATE) {
      if (c == 0) return in_.plane0[int64_t(y) * rowStride_ + x];
      const uint8_t* uv = type_ == HB_DNN_IMG_TYPE_NV12 ? in_.plane0 + uvOffset_ : in_.plane1;
      return uv[int64_t(y / 2) * rowStride_ + (x & ~1) + (c == 1 ? 0 : 1)];
    }
    int64_t off = int64_t(c) * strides_[ax_.c] + int64_t(y) * strides_[ax_.h] + int64_t(x) * strides_[ax_.w];
    return ReadElement(in_.plane0 + off, type_);
  }

 private:
  const InputPlanes& in_;
  Axes ax_;
  int32_t type_;
  int channels_, height_, width_;
  int64_t rowStride_ = 0, uvOffset_ = 0;
  std::vector<int64_t> strides_;
};

}  // namespace

void Compute(const ModelDesc& model, const InputPlanes& input, const std::vector<OutputPlane>& outputs) {
  InputReader in(input);
  const ComputeDesc& f = model.compute;
  for (const OutputPlane& out : outputs) {
    const hbDNNTensorProperties& p = out.desc->base;
    std::memset(out.data, 0xA5, out.size);  // padding sentinel: reading it gives values no test expects
    const std::vector<int64_t> st = EffectiveStrides(p);
    const bool flat = p.validShape.numDimensions == 3;  // (N,H,W): one channel, no channel axis
    const Axes ax = flat ? Axes{0, 0, 1, 2} : AxesOf(p.tensorLayout);
    const int C = flat ? 1 : p.validShape.dimensionSize[ax.c];
    const int H = p.validShape.dimensionSize[ax.h], W = p.validShape.dimensionSize[ax.w];
    const int64_t strideC = flat ? 0 : st[ax.c], strideH = st[ax.h], strideW = st[ax.w];
    const int eb = ElementBytes(p.tensorType);
    for (int h = 0; h < H; h++) {
      const int y = static_cast<int>(int64_t(h) * in.height() / H);
      for (int w = 0; w < W; w++) {
        const int x = static_cast<int>(int64_t(w) * in.width() / W);
        int band = 0;
        if (f.kind == ComputeDesc::Kind::Bands) {
          double v = in.At(f.sourceChannel % in.channels(), y, x);
          band = static_cast<int>(std::floor(v * f.classes / 256.0));
          band = band < 0 ? 0 : band >= f.classes ? f.classes - 1 : band;
        } else if (f.kind == ComputeDesc::Kind::Grid) {
          band = (h / f.cellHeight + w / f.cellWidth) % f.classes;
        }
        for (int c = 0; c < C; c++) {
          double r;
          if (f.kind == ComputeDesc::Kind::Affine) r = in.At(c % in.channels(), y, x) * f.gain + c * f.channelStep + f.offset;
          else if (C == 1) r = band;
          else r = f.high - f.step * std::abs(c - band);
          int64_t off = int64_t(c) * strideC + int64_t(h) * strideH + int64_t(w) * strideW;
          if (off < 0 || off + eb > int64_t(out.size)) continue;  // strides that leave the buffer: write nothing
          WriteElement(out.data + off, p.tensorType, r);
        }
      }
    }
  }
}

}  // namespace hbdouble
