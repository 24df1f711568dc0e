// Scalar reference implementations of the hot loops. The SIMD tables must produce identical bytes/floats.
#include <algorithm>
#include <cstring>
#include <limits>

#include "internal.h"

namespace segk {
namespace scalar {

namespace {
inline uint8_t clip8(int32_t ss) {
  const int32_t v = ss >> kPrecisionBits;  // arithmetic shift, like Pillow
  return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}
inline uint8_t yuvClamp(int32_t v) {
  v = (v + (1 << 16)) >> 17;
  return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}
}  // namespace

void horizontal1(const uint8_t* src, uint8_t* dst, const Coeffs& c) {
  for (int x = 0; x < c.outSize; ++x) {
    const int32_t* k = &c.k[(size_t)x * c.ksize];
    const uint8_t* s = src + c.start[x];
    int32_t ss = 1 << (kPrecisionBits - 1);
    for (int j = 0; j < c.count[x]; ++j) ss += (int32_t)s[j] * k[j];
    dst[x] = clip8(ss);
  }
}

// Horizontal pass on column-major 8-row blocks: o[x * 8 + r] from t[(start + j) * 8 + r].
void hcolumns(const uint8_t* t, uint8_t* o, const Coeffs& c, int x0, int x1) {
  for (int x = x0; x < x1; ++x) {
    const int32_t* k = &c.k[(size_t)x * c.ksize];
    for (int r = 0; r < 8; ++r) {
      int32_t ss = 1 << (kPrecisionBits - 1);
      for (int j = 0; j < c.count[x]; ++j) ss += (int32_t)t[(size_t)(c.start[x] + j) * 8 + r] * k[j];
      o[(size_t)x * 8 + r] = clip8(ss);
    }
  }
}

void rowsToCols(const uint8_t* const* rows, int x0, int x1, uint8_t* cols) {
  for (int x = x0; x < x1; ++x)
    for (int r = 0; r < 8; ++r) cols[(size_t)x * 8 + r] = rows[r][x];
}

void colsToRows(const uint8_t* cols, int x0, int x1, uint8_t* const* rows) {
  for (int x = x0; x < x1; ++x)
    for (int r = 0; r < 8; ++r) rows[r][x] = cols[(size_t)x * 8 + r];
}

void vertical(const uint8_t* const* rows, int n, const int32_t* k, int width, uint8_t* dst) {
  for (int x = 0; x < width; ++x) {
    int32_t ss = 1 << (kPrecisionBits - 1);
    for (int i = 0; i < n; ++i) ss += (int32_t)rows[i][x] * k[i];
    dst[x] = clip8(ss);
  }
}

void yuvRow(const uint8_t* y, const int16_t* chroma, int width, const YuvCoeffs& k, bool bilinear, uint8_t* r,
            uint8_t* g, uint8_t* b) {
  for (int x = 0; x < width; ++x) {
    const int i = x & ~1;  // this pixel's UV pair in the interleaved chroma row
    int32_t u, v;
    if (bilinear) {
      const int nb = (x & 1) ? i + 2 : i - 2;
      u = 3 * chroma[i] + chroma[nb];
      v = 3 * chroma[i + 1] + chroma[nb + 1];
    } else {
      u = 4 * chroma[i];
      v = 4 * chroma[i + 1];
    }
    const int32_t yt = (int32_t)(((int)y[x] - k.yOffset) * 16) * k.cY;
    r[x] = yuvClamp(yt + v * k.cRV);
    g[x] = yuvClamp(yt + u * k.cGU + v * k.cGV);
    b[x] = yuvClamp(yt + u * k.cBU);
  }
}

void yuvRowNearest(const uint8_t* y, const uint8_t* uv, int width, const YuvCoeffs& k, uint8_t* r, uint8_t* g,
                   uint8_t* b) {
  for (int x = 0; x < width; ++x) {
    const int i = x & ~1;
    const int32_t u = 16 * ((int)uv[i] - 128), v = 16 * ((int)uv[i + 1] - 128);
    const int32_t yt = (int32_t)(((int)y[x] - k.yOffset) * 16) * k.cY;
    r[x] = yuvClamp(yt + v * k.cRV);
    g[x] = yuvClamp(yt + u * k.cGU + v * k.cGV);
    b[x] = yuvClamp(yt + u * k.cBU);
  }
}

void normalizeRow(const uint8_t* src, int width, float, float mean, float stdv, double rescale, float* dst) {
  for (int x = 0; x < width; ++x) {
    const float scaled = (float)((double)src[x] * rescale);
    dst[x] = (scaled - mean) / stdv;
  }
}

void argmaxPlane(const float* plane, int n, int cls, float* best, uint16_t* index) {
  for (int i = 0; i < n; ++i) {
    if (plane[i] > best[i]) {
      best[i] = plane[i];
      index[i] = (uint16_t)cls;
    }
  }
}

void blendArgmax(const float* a, const float* b, float wa, float wb, int n, int cls, float* best, uint16_t* index) {
  for (int i = 0; i < n; ++i) {
    const float v = a[i] * wa + b[i] * wb;
    if (v > best[i]) {
      best[i] = v;
      index[i] = (uint16_t)cls;
    }
  }
}

void blendRow(const uint8_t* src, const uint16_t* tm, int alpha, int n, uint8_t* dst) {
  const int inv = 256 - alpha;
  for (int i = 0; i < n; ++i)
    dst[i] = (tm[i] >> 8) ? (uint8_t)((src[i] * inv + (tm[i] & 0xFF) * alpha + 128) >> 8) : src[i];
}

void argmaxRowMax(const float* plane, int n, int cls, float* best, uint16_t* index, float* chunkMax, float* copy) {
  for (int x = 0, k = 0; x < n; x += 64, ++k) {
    const int e = std::min(n, x + 64);
    chunkMax[k] = argmaxRowSpan(plane, x, e, cls, best, index, copy, -std::numeric_limits<float>::infinity());
  }
}

int argmaxVector(const float* v, int n) {
  int bi = 0;
  for (int c = 1; c < n; ++c)
    if (v[c] > v[bi]) bi = c;
  return bi;
}

void evalCandidates(const float* wx0, const float* wx1, int n, const float* wy0, const float* wy1, int rows,
                    const float* vals, const uint16_t* cls, int nc, void* out, size_t outStride, bool wide,
                    uint32_t* counts) {
  for (int r = 0; r < rows; ++r) {
    for (int x = 0; x < n; ++x) {
      float best = -std::numeric_limits<float>::infinity();
      int bi = 0;
      for (int k = 0; k < nc; ++k) {
        const float* v = vals + 4 * k;
        const float t0 = v[0] * wx0[x] + v[1] * wx1[x];
        const float t1 = v[2] * wx0[x] + v[3] * wx1[x];
        const float val = t0 * wy0[r] + t1 * wy1[r];
        if (val > best) {
          best = val;
          bi = k;
        }
      }
      if (wide)
        ((uint16_t*)out)[(size_t)r * outStride + x] = cls[bi];
      else
        ((uint8_t*)out)[(size_t)r * outStride + x] = (uint8_t)cls[bi];
      ++counts[bi];
    }
  }
}

uint64_t anyAtLeast4(const float* a, const float* b, const float* c, const float* d, const float* t, int n,
                     float top) {
  uint64_t m = 0;
  for (int i = 0; i < n; ++i)
    if (t[i] <= top && (a[i] >= t[i] || b[i] >= t[i] || c[i] >= t[i] || d[i] >= t[i])) m |= 1ull << i;
  return m;
}

void split3(const uint8_t* src, int n, uint8_t* a, uint8_t* b, uint8_t* c) {
  for (int i = 0; i < n; ++i) {
    a[i] = src[3 * i];
    b[i] = src[3 * i + 1];
    c[i] = src[3 * i + 2];
  }
}

void merge3(const uint8_t* a, const uint8_t* b, const uint8_t* c, int n, uint8_t* dst) {
  for (int i = 0; i < n; ++i) {
    dst[3 * i] = a[i];
    dst[3 * i + 1] = b[i];
    dst[3 * i + 2] = c[i];
  }
}

void split2(const uint8_t* src, int n, uint8_t* a, uint8_t* b) {
  for (int i = 0; i < n; ++i) {
    a[i] = src[2 * i];
    b[i] = src[2 * i + 1];
  }
}

void merge2(const uint8_t* a, const uint8_t* b, int n, uint8_t* dst) {
  for (int i = 0; i < n; ++i) {
    dst[2 * i] = a[i];
    dst[2 * i + 1] = b[i];
  }
}

void halfToFloat(const uint16_t* src, int n, float* dst) {
  for (int i = 0; i < n; ++i) {
    const uint32_t h = src[i];
    const uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {
      bits = sign | 0x7f800000u | (mant ? 0x400000u | (mant << 13) : 0u);
    } else if (exp != 0) {
      bits = sign | ((exp + 112u) << 23) | (mant << 13);
    } else {
      const float f = (float)mant * 0x1p-24f;  // a subnormal (or zero): exact in float32
      std::memcpy(&bits, &f, 4);
      bits |= sign;
    }
    std::memcpy(&dst[i], &bits, 4);
  }
}

void floatToHalf(const float* src, int n, uint16_t* dst) {
  for (int i = 0; i < n; ++i) {
    uint32_t x;
    std::memcpy(&x, &src[i], 4);
    const uint32_t sign = (x >> 16) & 0x8000u, exp = (x >> 23) & 0xffu;
    uint32_t mant = x & 0x7fffffu;
    uint32_t r;
    const int e = (int)exp - 127 + 15;
    if (exp == 0xff) {
      r = 0x7c00u | (mant ? 0x200u | (mant >> 13) : 0u);
    } else if (e >= 31) {
      r = 0x7c00u;
    } else if (e <= 0) {
      if (e < -10) {
        r = 0;
      } else {
        mant |= 0x800000u;
        const int shift = 14 - e;
        const uint32_t halfway = 1u << (shift - 1), rem = mant & ((1u << shift) - 1);
        r = mant >> shift;
        if (rem > halfway || (rem == halfway && (r & 1u))) ++r;
      }
    } else {
      r = ((uint32_t)e << 10) | (mant >> 13);
      const uint32_t rem = mant & 0x1fffu;
      if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) ++r;  // a carry into the exponent is still right
    }
    dst[i] = (uint16_t)(sign | r);
  }
}

namespace {
void horizontal8(const uint8_t* const* src, uint8_t* const* dst, int planes, const Coeffs& c, uint8_t*) {
  for (int r = 0; r < 8 * planes; ++r) horizontal1(src[r], dst[r], c);
}
}  // namespace

}  // namespace scalar

const Ops& scalarOps() {
  static const Ops ops = {Isa::Scalar,           scalar::horizontal8,    scalar::horizontal1, scalar::vertical,
                          scalar::yuvRow,        scalar::yuvRowNearest,  scalar::normalizeRow,   scalar::argmaxPlane, scalar::blendArgmax,
                          scalar::blendRow,      scalar::argmaxRowMax,   scalar::argmaxVector, scalar::evalCandidates,
                          scalar::anyAtLeast4,   scalar::split3,         scalar::merge3,      scalar::split2,
                          scalar::merge2,        scalar::halfToFloat,    scalar::floatToHalf};
  return ops;
}

Isa bestIsa() {
  static const Isa best = [] {
#if defined(SEGK_FORCE_SCALAR)
    return Isa::Scalar;
#elif defined(__x86_64__) || defined(_M_X64)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") ? Isa::Avx2 : Isa::Scalar;
#elif defined(__aarch64__)
    return Isa::Neon;
#else
    return Isa::Scalar;
#endif
  }();
  return best;
}

const char* isaName(Isa isa) {
  switch (isa) {
    case Isa::Avx2: return "avx2";
    case Isa::Neon: return "neon";
    default: return "scalar";
  }
}

const Ops& opsFor(Isa isa) {
#if defined(SEGK_FORCE_SCALAR)
  (void)isa;
  return scalarOps();
#endif
#if defined(__x86_64__) || defined(_M_X64)
  if (isa == Isa::Avx2 && bestIsa() == Isa::Avx2) return avx2Ops();
#endif
#if defined(__aarch64__)
  if (isa == Isa::Neon) return neonOps();
#endif
  return scalarOps();
}

}  // namespace segk
