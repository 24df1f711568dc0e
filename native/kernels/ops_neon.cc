// NEON versions of the hot loops (aarch64, e.g. the RDK X5's Cortex-A55). Same arithmetic as ops_scalar.cc:
// exact integer sums, and float operations in the same order without fused multiply-add.
#if defined(__aarch64__)

#include <arm_neon.h>

#include <limits>

#include "internal.h"

namespace segk {
namespace {

// 8x8 byte transpose (see ops_avx2.cc): w[k] = rows 2k and 2k+1 of the transposed block.
inline void transpose8x8(const uint8x8_t v[8], uint8x16_t w[4]) {
  const uint16x8_t t0 = vreinterpretq_u16_u8(vcombine_u8(vzip1_u8(v[0], v[1]), vzip2_u8(v[0], v[1])));
  const uint16x8_t t1 = vreinterpretq_u16_u8(vcombine_u8(vzip1_u8(v[2], v[3]), vzip2_u8(v[2], v[3])));
  const uint16x8_t t2 = vreinterpretq_u16_u8(vcombine_u8(vzip1_u8(v[4], v[5]), vzip2_u8(v[4], v[5])));
  const uint16x8_t t3 = vreinterpretq_u16_u8(vcombine_u8(vzip1_u8(v[6], v[7]), vzip2_u8(v[6], v[7])));
  const uint32x4_t u0 = vreinterpretq_u32_u16(vzip1q_u16(t0, t1));
  const uint32x4_t u1 = vreinterpretq_u32_u16(vzip2q_u16(t0, t1));
  const uint32x4_t u2 = vreinterpretq_u32_u16(vzip1q_u16(t2, t3));
  const uint32x4_t u3 = vreinterpretq_u32_u16(vzip2q_u16(t2, t3));
  w[0] = vreinterpretq_u8_u32(vzip1q_u32(u0, u2));
  w[1] = vreinterpretq_u8_u32(vzip2q_u32(u0, u2));
  w[2] = vreinterpretq_u8_u32(vzip1q_u32(u1, u3));
  w[3] = vreinterpretq_u8_u32(vzip2q_u32(u1, u3));
}

void rowsToCols(const uint8_t* const* rows, int n, uint8_t* cols) {
  int x = 0;
  for (; x + 8 <= n; x += 8) {
    uint8x8_t v[8];
    uint8x16_t w[4];
    for (int r = 0; r < 8; ++r) v[r] = vld1_u8(rows[r] + x);
    transpose8x8(v, w);
    for (int k = 0; k < 4; ++k) vst1q_u8(cols + (size_t)x * 8 + 16 * k, w[k]);
  }
  scalar::rowsToCols(rows, x, n, cols);
}

void colsToRows(const uint8_t* cols, int n, uint8_t* const* rows) {
  int x = 0;
  for (; x + 8 <= n; x += 8) {
    uint8x8_t v[8];
    uint8x16_t w[4];
    for (int i = 0; i < 8; ++i) v[i] = vld1_u8(cols + (size_t)(x + i) * 8);
    transpose8x8(v, w);
    for (int k = 0; k < 4; ++k) {
      vst1_u8(rows[2 * k] + x, vget_low_u8(w[k]));
      vst1_u8(rows[2 * k + 1] + x, vget_high_u8(w[k]));
    }
  }
  scalar::colsToRows(cols, x, n, rows);
}

// Pillow clip of two int32x4 accumulators (shift, clamp to 0..255) into 8 bytes.
inline uint8x8_t clipNarrow(int32x4_t lo, int32x4_t hi) {
  const int16x8_t s = vcombine_s16(vqmovn_s32(vshrq_n_s32(lo, kPrecisionBits)), vqmovn_s32(vshrq_n_s32(hi, kPrecisionBits)));
  return vqmovun_s16(s);
}

inline void widen8(uint8x8_t v, int32x4_t* lo, int32x4_t* hi) {
  const uint16x8_t w = vmovl_u8(v);
  *lo = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(w)));
  *hi = vreinterpretq_s32_u32(vmovl_u16(vget_high_u16(w)));
}

// Horizontal pass on 8 transposed rows: one source column (8 rows) per vector, int32 multiply-accumulate.
void horizontal8Plane(const uint8_t* const* src, uint8_t* const* dst, const Coeffs& c, uint8_t* scratch) {
  uint8_t* t = scratch;
  uint8_t* o = scratch + (size_t)8 * (c.inSize + c.ksize + 2);
  rowsToCols(src, c.inSize, t);
  const int32x4_t round = vdupq_n_s32(1 << (kPrecisionBits - 1));
  for (int x = 0; x < c.outSize; ++x) {
    const int32_t* k = &c.k[(size_t)x * c.ksize];
    const uint8_t* s = t + (size_t)c.start[x] * 8;
    int32x4_t lo = round, hi = round;
    for (int j = 0; j < c.count[x]; ++j) {
      int32x4_t a, b;
      widen8(vld1_u8(s + j * 8), &a, &b);
      lo = vmlaq_n_s32(lo, a, k[j]);
      hi = vmlaq_n_s32(hi, b, k[j]);
    }
    vst1_u8(o + (size_t)x * 8, clipNarrow(lo, hi));
  }
  colsToRows(o, c.outSize, dst);
}

void horizontal8(const uint8_t* const* src, uint8_t* const* dst, int planes, const Coeffs& c, uint8_t* scratch) {
  for (int p = 0; p < planes; ++p) horizontal8Plane(src + 8 * p, dst + 8 * p, c, scratch);
}

void vertical(const uint8_t* const* rows, int n, const int32_t* k, int width, uint8_t* dst) {
  const int32x4_t round = vdupq_n_s32(1 << (kPrecisionBits - 1));
  int x = 0;
  for (; x + 8 <= width; x += 8) {
    int32x4_t lo = round, hi = round;
    for (int i = 0; i < n; ++i) {
      int32x4_t a, b;
      widen8(vld1_u8(rows[i] + x), &a, &b);
      lo = vmlaq_n_s32(lo, a, k[i]);
      hi = vmlaq_n_s32(hi, b, k[i]);
    }
    vst1_u8(dst + x, clipNarrow(lo, hi));
  }
  for (; x < width; ++x) {
    int32_t ss = 1 << (kPrecisionBits - 1);
    for (int i = 0; i < n; ++i) ss += (int32_t)rows[i][x] * k[i];
    ss >>= kPrecisionBits;
    dst[x] = (uint8_t)(ss < 0 ? 0 : ss > 255 ? 255 : ss);
  }
}

inline uint8x8_t yuvNarrow(int32x4_t lo, int32x4_t hi) {
  return vqmovun_s16(vcombine_s16(vqmovn_s32(vshrq_n_s32(lo, 17)), vqmovn_s32(vshrq_n_s32(hi, 17))));
}

void yuvRow(const uint8_t* y, const int16_t* chroma, int width, const YuvCoeffs& k, bool bilinear, uint8_t* r,
            uint8_t* g, uint8_t* b) {
  const int16x8_t yOff = vdupq_n_s16((int16_t)k.yOffset);
  const int32x4_t round = vdupq_n_s32(1 << 16);
  int x = 0;
  for (; x + 8 <= width; x += 8) {
    const int16x8_t y16 = vshlq_n_s16(vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(vld1_u8(y + x))), yOff), 4);
    const int16x8_t a = vld1q_s16(chroma + x);  // 4 UV pairs for 8 pixels
    int16x8_t even, odd;
    if (bilinear) {
      const int16x8_t a3 = vaddq_s16(a, vaddq_s16(a, a));
      even = vaddq_s16(a3, vld1q_s16(chroma + x - 2));
      odd = vaddq_s16(a3, vld1q_s16(chroma + x + 2));
    } else {
      even = odd = vshlq_n_s16(a, 2);
    }
    // Per-pixel (U, V) pairs for pixels 0-3 and 4-7, then split into U and V vectors.
    const int16x8_t p0 = vreinterpretq_s16_s32(vzip1q_s32(vreinterpretq_s32_s16(even), vreinterpretq_s32_s16(odd)));
    const int16x8_t p1 = vreinterpretq_s16_s32(vzip2q_s32(vreinterpretq_s32_s16(even), vreinterpretq_s32_s16(odd)));
    const int16x8_t u = vuzp1q_s16(p0, p1), v = vuzp2q_s16(p0, p1);
    const int32x4_t ytLo = vmlal_n_s16(round, vget_low_s16(y16), k.cY);
    const int32x4_t ytHi = vmlal_n_s16(round, vget_high_s16(y16), k.cY);
    vst1_u8(r + x, yuvNarrow(vmlal_n_s16(ytLo, vget_low_s16(v), k.cRV), vmlal_n_s16(ytHi, vget_high_s16(v), k.cRV)));
    vst1_u8(g + x, yuvNarrow(vmlal_n_s16(vmlal_n_s16(ytLo, vget_low_s16(u), k.cGU), vget_low_s16(v), k.cGV),
                             vmlal_n_s16(vmlal_n_s16(ytHi, vget_high_s16(u), k.cGU), vget_high_s16(v), k.cGV)));
    vst1_u8(b + x, yuvNarrow(vmlal_n_s16(ytLo, vget_low_s16(u), k.cBU), vmlal_n_s16(ytHi, vget_high_s16(u), k.cBU)));
  }
  if (x < width) scalar::yuvRow(y + x, chroma + x, width - x, k, bilinear, r + x, g + x, b + x);
}

void yuvRowNearest(const uint8_t* y, const uint8_t* uv, int width, const YuvCoeffs& k, uint8_t* r, uint8_t* g,
                   uint8_t* b) {
  const int16x8_t yOff = vdupq_n_s16((int16_t)k.yOffset);
  const int16x8_t c128 = vdupq_n_s16(128);
  const int32x4_t round = vdupq_n_s32(1 << 16);
  int x = 0;
  for (; x + 16 <= width; x += 16) {
    const uint8x16_t yb = vld1q_u8(y + x);
    const uint8x8x2_t c = vld2_u8(uv + x);  // 8 U and 8 V values, one per pixel pair
    const int16x8_t u8 = vshlq_n_s16(vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(c.val[0])), c128), 4);
    const int16x8_t v8 = vshlq_n_s16(vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(c.val[1])), c128), 4);
    // Each chroma value for both pixels of its pair.
    const int16x8_t uA = vzip1q_s16(u8, u8), uB = vzip2q_s16(u8, u8);
    const int16x8_t vA = vzip1q_s16(v8, v8), vB = vzip2q_s16(v8, v8);
    const auto eight = [&](uint8x8_t y8, int16x8_t u, int16x8_t v, uint8_t* rr, uint8_t* gg, uint8_t* bb) {
      const int16x8_t y16 = vshlq_n_s16(vsubq_s16(vreinterpretq_s16_u16(vmovl_u8(y8)), yOff), 4);
      const int32x4_t ytLo = vmlal_n_s16(round, vget_low_s16(y16), k.cY);
      const int32x4_t ytHi = vmlal_n_s16(round, vget_high_s16(y16), k.cY);
      vst1_u8(rr, yuvNarrow(vmlal_n_s16(ytLo, vget_low_s16(v), k.cRV), vmlal_n_s16(ytHi, vget_high_s16(v), k.cRV)));
      vst1_u8(gg, yuvNarrow(vmlal_n_s16(vmlal_n_s16(ytLo, vget_low_s16(u), k.cGU), vget_low_s16(v), k.cGV),
                            vmlal_n_s16(vmlal_n_s16(ytHi, vget_high_s16(u), k.cGU), vget_high_s16(v), k.cGV)));
      vst1_u8(bb, yuvNarrow(vmlal_n_s16(ytLo, vget_low_s16(u), k.cBU), vmlal_n_s16(ytHi, vget_high_s16(u), k.cBU)));
    };
    eight(vget_low_u8(yb), uA, vA, r + x, g + x, b + x);
    eight(vget_high_u8(yb), uB, vB, r + x + 8, g + x + 8, b + x + 8);
  }
  if (x < width) scalar::yuvRowNearest(y + x, uv + x, width - x, k, r + x, g + x, b + x);
}

inline float32x4_t scaledFloats(uint16x4_t v, float64x2_t scale) {
  const uint32x4_t w = vmovl_u16(v);
  const float64x2_t lo = vmulq_f64(vcvtq_f64_u64(vmovl_u32(vget_low_u32(w))), scale);
  const float64x2_t hi = vmulq_f64(vcvtq_f64_u64(vmovl_u32(vget_high_u32(w))), scale);
  return vcombine_f32(vcvt_f32_f64(lo), vcvt_f32_f64(hi));
}

void normalizeRow(const uint8_t* src, int width, float rs, float mean, float stdv, double rescale, float* dst) {
  const float64x2_t scale = vdupq_n_f64(rescale);
  const float32x4_t m = vdupq_n_f32(mean), sd = vdupq_n_f32(stdv);
  int x = 0;
  for (; x + 8 <= width; x += 8) {
    const uint16x8_t v = vmovl_u8(vld1_u8(src + x));
    vst1q_f32(dst + x, vdivq_f32(vsubq_f32(scaledFloats(vget_low_u16(v), scale), m), sd));
    vst1q_f32(dst + x + 4, vdivq_f32(vsubq_f32(scaledFloats(vget_high_u16(v), scale), m), sd));
  }
  if (x < width) scalar::normalizeRow(src + x, width - x, rs, mean, stdv, rescale, dst + x);
}

// best/index for 8 elements: where p > best, take p and the class c (strictly greater: the lower class keeps ties).
inline void keepGreater8(float32x4_t p0, float32x4_t p1, uint16x8_t c, float* best, uint16_t* index) {
  const float32x4_t b0 = vld1q_f32(best), b1 = vld1q_f32(best + 4);
  const uint32x4_t m0 = vcgtq_f32(p0, b0), m1 = vcgtq_f32(p1, b1);
  vst1q_f32(best, vbslq_f32(m0, p0, b0));
  vst1q_f32(best + 4, vbslq_f32(m1, p1, b1));
  const uint16x8_t m = vcombine_u16(vmovn_u32(m0), vmovn_u32(m1));
  vst1q_u16(index, vbslq_u16(m, c, vld1q_u16(index)));
}

void argmaxPlane(const float* plane, int n, int cls, float* best, uint16_t* index) {
  const uint16x8_t c = vdupq_n_u16((uint16_t)cls);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const float32x4_t p0 = vld1q_f32(plane + i), p1 = vld1q_f32(plane + i + 4);
    keepGreater8(p0, p1, c, best + i, index + i);
  }
  if (i < n) scalar::argmaxPlane(plane + i, n - i, cls, best + i, index + i);
}

void blendArgmax(const float* a, const float* b, float wa, float wb, int n, int cls, float* best, uint16_t* index) {
  const uint16x8_t c = vdupq_n_u16((uint16_t)cls);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const float32x4_t p0 = vaddq_f32(vmulq_n_f32(vld1q_f32(a + i), wa), vmulq_n_f32(vld1q_f32(b + i), wb));
    const float32x4_t p1 = vaddq_f32(vmulq_n_f32(vld1q_f32(a + i + 4), wa), vmulq_n_f32(vld1q_f32(b + i + 4), wb));
    keepGreater8(p0, p1, c, best + i, index + i);
  }
  if (i < n) scalar::blendArgmax(a + i, b + i, wa, wb, n - i, cls, best + i, index + i);
}

void blendRow(const uint8_t* src, const uint16_t* tm, int alpha, int n, uint8_t* dst) {
  const uint16_t a = (uint16_t)alpha, inv = (uint16_t)(256 - alpha);
  const uint16x8_t half = vdupq_n_u16(128);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint8x8_t s8 = vld1_u8(src + i);
    const uint8x8x2_t tmv = vld2_u8((const uint8_t*)(tm + i));  // val[0]: targets, val[1]: masks
    const uint16x8_t s = vmovl_u8(s8), t = vmovl_u8(tmv.val[0]);
    const uint16x8_t v = vaddq_u16(vaddq_u16(vmulq_n_u16(s, inv), vmulq_n_u16(t, a)), half);  // < 2^16
    vst1_u8(dst + i, vbsl_u8(tmv.val[1], vmovn_u16(vshrq_n_u16(v, 8)), s8));
  }
  if (i < n) scalar::blendRow(src + i, tm + i, alpha, n - i, dst + i);
}

void argmaxRowMax(const float* plane, int n, int cls, float* best, uint16_t* index, float* chunkMax, float* copy) {
  const uint16x8_t c = vdupq_n_u16((uint16_t)cls);
  const float ninf = -std::numeric_limits<float>::infinity();
  for (int x = 0, k = 0; x < n; x += 64, ++k) {
    const int e = n - x < 64 ? n : x + 64;
    float32x4_t acc = vdupq_n_f32(ninf);
    int i = x;
    for (; i + 8 <= e; i += 8) {
      const float32x4_t p0 = vld1q_f32(plane + i), p1 = vld1q_f32(plane + i + 4);
      if (copy) {
        vst1q_f32(copy + i, p0);
        vst1q_f32(copy + i + 4, p1);
      }
      // vmaxnmq ignores a NaN operand (acc never holds one).
      acc = vmaxnmq_f32(acc, vmaxnmq_f32(p0, p1));
      if (cls == 0) {
        vst1q_f32(best + i, p0);
        vst1q_f32(best + i + 4, p1);
        vst1q_u16(index + i, vdupq_n_u16(0));
        continue;
      }
      keepGreater8(p0, p1, c, best + i, index + i);
    }
    chunkMax[k] = scalar::argmaxRowSpan(plane, i, e, cls, best, index, copy, vmaxnmvq_f32(acc));
  }
}

int argmaxVector(const float* v, int n) {
  if (n < 8 || v[0] != v[0]) return scalar::argmaxVector(v, n);  // a NaN first element is never beaten
  // Without a NaN first element the scalar loop returns the first index of the largest non-NaN value.
  float32x4_t acc = vdupq_n_f32(-std::numeric_limits<float>::infinity());
  int i = 0;
  for (; i + 4 <= n; i += 4) acc = vmaxnmq_f32(acc, vld1q_f32(v + i));
  float m = vmaxnmvq_f32(acc);
  for (int j = i; j < n; ++j) m = v[j] > m ? v[j] : m;
  for (i = 0; i < n; ++i)
    if (v[i] == m) return i;
  return 0;
}

void evalCandidates(const float* wx0, const float* wx1, int n, const float* wy0, const float* wy1, int rows,
                    const float* vals, const uint16_t* cls, int nc, void* out, size_t outStride, bool wide,
                    uint32_t* counts) {
  constexpr int kCache = 32;
  if (nc > kCache) {
    scalar::evalCandidates(wx0, wx1, n, wy0, wy1, rows, vals, cls, nc, out, outStride, wide, counts);
    return;
  }
  float32x4_t t0[kCache], t1[kCache];
  uint32x4_t won[kCache];  // per candidate and lane: minus the number of rows it won
  for (int x = 0; x < n; x += 4) {
    const float32x4_t a = vld1q_f32(wx0 + x), b = vld1q_f32(wx1 + x);
    for (int k = 0; k < nc; ++k) {
      const float* v = vals + 4 * k;
      t0[k] = vaddq_f32(vmulq_n_f32(a, v[0]), vmulq_n_f32(b, v[1]));
      t1[k] = vaddq_f32(vmulq_n_f32(a, v[2]), vmulq_n_f32(b, v[3]));
      won[k] = vdupq_n_u32(0);
    }
    const int m = n - x < 4 ? n - x : 4;
    for (int r = 0; r < rows; ++r) {
      float32x4_t best = vdupq_n_f32(-std::numeric_limits<float>::infinity());
      uint32x4_t bi = vdupq_n_u32(0);
      for (int k = 0; k < nc; ++k) {
        const float32x4_t val = vaddq_f32(vmulq_n_f32(t0[k], wy0[r]), vmulq_n_f32(t1[k], wy1[r]));
        const uint32x4_t mk = vcgtq_f32(val, best);
        best = vbslq_f32(mk, val, best);
        bi = vbslq_u32(mk, vdupq_n_u32((uint32_t)k), bi);
      }
      for (int k = 0; k < nc; ++k) won[k] = vaddq_u32(won[k], vceqq_u32(bi, vdupq_n_u32((uint32_t)k)));
      uint32_t kk[4];
      vst1q_u32(kk, bi);
      if (wide) {
        uint16_t* o = (uint16_t*)out + (size_t)r * outStride + x;
        for (int i = 0; i < m; ++i) o[i] = cls[kk[i]];
      } else {
        uint8_t* o = (uint8_t*)out + (size_t)r * outStride + x;
        for (int i = 0; i < m; ++i) o[i] = (uint8_t)cls[kk[i]];
      }
    }
    for (int k = 0; k < nc; ++k) {
      uint32_t lanes[4];
      vst1q_u32(lanes, won[k]);
      uint32_t sum = 0;
      for (int i = 0; i < m; ++i) sum += lanes[i];
      counts[k] += 0u - sum;
    }
  }
}

uint64_t anyAtLeast4(const float* a, const float* b, const float* c, const float* d, const float* t, int n,
                     float top) {
  static const uint32_t kBits[4] = {1, 2, 4, 8};
  const uint32x4_t bits = vld1q_u32(kBits);
  const float32x4_t topv = vdupq_n_f32(top);
  uint64_t m = 0;
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t tv = vld1q_f32(t + i);
    if (!vmaxvq_u32(vcleq_f32(tv, topv))) continue;  // no value reaches these thresholds
    const uint32x4_t any = vorrq_u32(vorrq_u32(vcgeq_f32(vld1q_f32(a + i), tv), vcgeq_f32(vld1q_f32(b + i), tv)),
                                     vorrq_u32(vcgeq_f32(vld1q_f32(c + i), tv), vcgeq_f32(vld1q_f32(d + i), tv)));
    m |= (uint64_t)vaddvq_u32(vandq_u32(any, bits)) << i;
  }
  if (i < n) m |= scalar::anyAtLeast4(a + i, b + i, c + i, d + i, t + i, n - i, top) << i;
  return m;
}

void split3(const uint8_t* src, int n, uint8_t* a, uint8_t* b, uint8_t* c) {
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const uint8x16x3_t v = vld3q_u8(src + 3 * i);
    vst1q_u8(a + i, v.val[0]);
    vst1q_u8(b + i, v.val[1]);
    vst1q_u8(c + i, v.val[2]);
  }
  if (i < n) scalar::split3(src + 3 * i, n - i, a + i, b + i, c + i);
}

void merge3(const uint8_t* a, const uint8_t* b, const uint8_t* c, int n, uint8_t* dst) {
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    uint8x16x3_t v;
    v.val[0] = vld1q_u8(a + i);
    v.val[1] = vld1q_u8(b + i);
    v.val[2] = vld1q_u8(c + i);
    vst3q_u8(dst + 3 * i, v);
  }
  if (i < n) scalar::merge3(a + i, b + i, c + i, n - i, dst + 3 * i);
}

void split2(const uint8_t* src, int n, uint8_t* a, uint8_t* b) {
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const uint8x16x2_t v = vld2q_u8(src + 2 * i);
    vst1q_u8(a + i, v.val[0]);
    vst1q_u8(b + i, v.val[1]);
  }
  if (i < n) scalar::split2(src + 2 * i, n - i, a + i, b + i);
}

void merge2(const uint8_t* a, const uint8_t* b, int n, uint8_t* dst) {
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    uint8x16x2_t v;
    v.val[0] = vld1q_u8(a + i);
    v.val[1] = vld1q_u8(b + i);
    vst2q_u8(dst + 2 * i, v);
  }
  if (i < n) scalar::merge2(a + i, b + i, n - i, dst + 2 * i);
}

// The architecture's own conversions (FCVTL / FCVTN: exact widening, round to nearest even, NaN quietened with
// its top payload bits), 4 lanes at a time; the same bits as scalar::halfToFloat / floatToHalf.
void halfToFloat(const uint16_t* src, int n, float* dst) {
  int i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(dst + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(src + i))));
  if (i < n) scalar::halfToFloat(src + i, n - i, dst + i);
}

void floatToHalf(const float* src, int n, uint16_t* dst) {
  int i = 0;
  for (; i + 4 <= n; i += 4) vst1_u16(dst + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(src + i))));
  if (i < n) scalar::floatToHalf(src + i, n - i, dst + i);
}

}  // namespace

const Ops& neonOps() {
  static const Ops ops = {Isa::Neon,    horizontal8,  scalar::horizontal1, vertical,       yuvRow,
                          yuvRowNearest, normalizeRow, argmaxPlane,  blendArgmax,         blendRow,       argmaxRowMax,
                          argmaxVector, evalCandidates, anyAtLeast4,       split3,         merge3,
                          split2,       merge2,         halfToFloat,       floatToHalf};
  return ops;
}

}  // namespace segk

#endif
