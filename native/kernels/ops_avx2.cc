// AVX2 versions of the hot loops (x86-64, chosen at run time when the CPU has AVX2). Integer kernels do the
// scalar arithmetic lane by lane; float kernels use the same operations in the same order (no FMA), so the
// results are bit-identical to ops_scalar.cc.
#if defined(__x86_64__) || defined(_M_X64)

#pragma GCC push_options
#pragma GCC target("avx2")
#include <immintrin.h>

#include <limits>

#include "internal.h"

namespace segk {
namespace {

// 8x8 byte transpose: v[i] holds 8 bytes (low half); on return w[0..3] hold the transposed rows in pairs:
// w[k] = (row 2k: v[0..7][2k], row 2k+1: v[0..7][2k+1]).
inline void transpose8x8(const __m128i v[8], __m128i w[4]) {
  const __m128i t0 = _mm_unpacklo_epi8(v[0], v[1]);
  const __m128i t1 = _mm_unpacklo_epi8(v[2], v[3]);
  const __m128i t2 = _mm_unpacklo_epi8(v[4], v[5]);
  const __m128i t3 = _mm_unpacklo_epi8(v[6], v[7]);
  const __m128i u0 = _mm_unpacklo_epi16(t0, t1);
  const __m128i u1 = _mm_unpackhi_epi16(t0, t1);
  const __m128i u2 = _mm_unpacklo_epi16(t2, t3);
  const __m128i u3 = _mm_unpackhi_epi16(t2, t3);
  w[0] = _mm_unpacklo_epi32(u0, u2);
  w[1] = _mm_unpackhi_epi32(u0, u2);
  w[2] = _mm_unpacklo_epi32(u1, u3);
  w[3] = _mm_unpackhi_epi32(u1, u3);
}

void rowsToCols(const uint8_t* const* rows, int n, uint8_t* cols) {
  int x = 0;
  for (; x + 8 <= n; x += 8) {
    __m128i v[8], w[4];
    for (int r = 0; r < 8; ++r) v[r] = _mm_loadl_epi64((const __m128i*)(rows[r] + x));
    transpose8x8(v, w);
    for (int k = 0; k < 4; ++k) _mm_storeu_si128((__m128i*)(cols + (size_t)x * 8 + 16 * k), w[k]);
  }
  scalar::rowsToCols(rows, x, n, cols);
}

void colsToRows(const uint8_t* cols, int n, uint8_t* const* rows) {
  int x = 0;
  for (; x + 8 <= n; x += 8) {
    __m128i v[8], w[4];
    for (int i = 0; i < 8; ++i) v[i] = _mm_loadl_epi64((const __m128i*)(cols + (size_t)(x + i) * 8));
    transpose8x8(v, w);
    for (int k = 0; k < 4; ++k) {
      _mm_storel_epi64((__m128i*)(rows[2 * k] + x), w[k]);
      _mm_storel_epi64((__m128i*)(rows[2 * k + 1] + x), _mm_unpackhi_epi64(w[k], w[k]));
    }
  }
  scalar::colsToRows(cols, x, n, rows);
}

// Horizontal pass on 8 rows at once: the rows are transposed so that one source column (8 rows) is 8 bytes;
// two adjacent columns interleaved give 8 (col j, col j+1) int16 pairs, and vpmaddwd with the pair of
// weights sums two taps for all 8 rows. Weights are split into exact 11-bit halves, so the int32 sums equal
// Pillow's: ss = 2^21 + (sumHi << 11) + sumLo.
void horizontal8(const uint8_t* const* src, uint8_t* const* dst, const Coeffs& c, uint8_t* scratch) {
  uint8_t* t = scratch;
  uint8_t* o = scratch + (size_t)8 * (c.inSize + c.ksize + 2);
  rowsToCols(src, c.inSize, t);
  const __m256i round = _mm256_set1_epi32(1 << (kPrecisionBits - 1));
  // Every output runs all pairSlots tap pairs (zero weights past its count; the column padding after the
  // input is zeroed by the caller): a fixed trip count keeps the loop branch predictable.
  const int slots = c.pairSlots;
  const auto column = [&](int x) {
    const int32_t* hi = &c.pairHi[(size_t)x * slots];
    const int32_t* lo = &c.pairLo[(size_t)x * slots];
    const uint8_t* s = t + (size_t)c.start[x] * 8;
    __m256i accHi = _mm256_setzero_si256(), accLo = round;
    for (int p = 0; p < slots; ++p) {
      const __m256i px = _mm256_cvtepu8_epi16(
          _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i*)(s + 16 * p)), _mm_loadl_epi64((const __m128i*)(s + 16 * p + 8))));
      accHi = _mm256_add_epi32(accHi, _mm256_madd_epi16(px, _mm256_set1_epi32(hi[p])));
      accLo = _mm256_add_epi32(accLo, _mm256_madd_epi16(px, _mm256_set1_epi32(lo[p])));
    }
    return _mm256_srai_epi32(_mm256_add_epi32(_mm256_slli_epi32(accHi, kSplitBits), accLo), kPrecisionBits);
  };
  int x = 0;
  for (; x + 2 <= c.outSize; x += 2) {
    const __m256i a = column(x), b = column(x + 1);
    // 16 int32 -> 16 bytes: column x rows 0-7, then column x + 1 rows 0-7.
    const __m256i p = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xD8);
    const __m256i q = _mm256_permute4x64_epi64(_mm256_packus_epi16(p, p), 0x08);
    _mm_storeu_si128((__m128i*)(o + (size_t)x * 8), _mm256_castsi256_si128(q));
  }
  if (x < c.outSize) {
    const __m256i a = column(x);
    const __m128i p = _mm_packs_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    _mm_storel_epi64((__m128i*)(o + (size_t)x * 8), _mm_packus_epi16(p, p));
  }
  colsToRows(o, c.outSize, dst);
}

void vertical(const uint8_t* base, size_t stride, int n, const int32_t* k, int width, uint8_t* dst) {
  const __m256i round = _mm256_set1_epi32(1 << (kPrecisionBits - 1));
  int x = 0;
  for (; x + 16 <= width; x += 16) {
    __m256i a0 = round, a1 = round;
    for (int i = 0; i < n; ++i) {
      const uint8_t* s = base + (size_t)i * stride + x;
      const __m256i kv = _mm256_set1_epi32(k[i]);
      a0 = _mm256_add_epi32(a0, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i*)s)), kv));
      a1 = _mm256_add_epi32(a1, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i*)(s + 8))), kv));
    }
    a0 = _mm256_srai_epi32(a0, kPrecisionBits);
    a1 = _mm256_srai_epi32(a1, kPrecisionBits);
    const __m256i p = _mm256_permute4x64_epi64(_mm256_packs_epi32(a0, a1), 0xD8);
    const __m256i q = _mm256_permute4x64_epi64(_mm256_packus_epi16(p, p), 0x08);
    _mm_storeu_si128((__m128i*)(dst + x), _mm256_castsi256_si128(q));
  }
  if (x < width) scalar::vertical(base + x, stride, n, k, width - x, dst + x);
}

// Packs two int32 vectors whose lanes hold pixels [0-3 | 8-11] and [4-7 | 12-15] (after >> 17) into 16 bytes.
inline __m128i packPixels16(__m256i lo, __m256i hi) {
  const __m256i p = _mm256_packs_epi32(lo, hi);  // pixel order 0..7 | 8..15 as int16
  const __m256i q = _mm256_packus_epi16(p, p);
  return _mm256_castsi256_si128(_mm256_permute4x64_epi64(q, 0x08));
}

void yuvRow(const uint8_t* y, const int16_t* chroma, int width, const YuvCoeffs& k, bool bilinear, uint8_t* r,
            uint8_t* g, uint8_t* b) {
  const __m256i yOff = _mm256_set1_epi16((int16_t)k.yOffset);
  const __m256i eight = _mm256_set1_epi16(8);
  // (Y16, 8) . (cY, 8192) = Y16 * cY + 2^16: the luma term with the rounding constant folded in.
  const __m256i kY = _mm256_set1_epi32((int32_t)(uint16_t)k.cY | (8192 << 16));
  const __m256i kR = _mm256_set1_epi32((int32_t)((uint32_t)(uint16_t)k.cRV << 16));
  const __m256i kG = _mm256_set1_epi32((int32_t)((uint32_t)(uint16_t)k.cGU | ((uint32_t)(uint16_t)k.cGV << 16)));
  const __m256i kB = _mm256_set1_epi32((int32_t)(uint16_t)k.cBU);
  int x = 0;
  for (; x + 16 <= width; x += 16) {
    const __m256i y16 = _mm256_slli_epi16(
        _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i*)(y + x))), yOff), 4);
    const __m256i a = _mm256_loadu_si256((const __m256i*)(chroma + x));  // 8 UV pairs for 16 pixels
    __m256i even, odd;
    if (bilinear) {
      const __m256i a3 = _mm256_add_epi16(a, _mm256_add_epi16(a, a));
      even = _mm256_add_epi16(a3, _mm256_loadu_si256((const __m256i*)(chroma + x - 2)));
      odd = _mm256_add_epi16(a3, _mm256_loadu_si256((const __m256i*)(chroma + x + 2)));
    } else {
      even = odd = _mm256_slli_epi16(a, 2);
    }
    // Per-pixel (U, V) pairs, in the lane order [0-3 | 8-11] and [4-7 | 12-15].
    const __m256i uvLo = _mm256_unpacklo_epi32(even, odd);
    const __m256i uvHi = _mm256_unpackhi_epi32(even, odd);
    const __m256i ytLo = _mm256_madd_epi16(_mm256_unpacklo_epi16(y16, eight), kY);
    const __m256i ytHi = _mm256_madd_epi16(_mm256_unpackhi_epi16(y16, eight), kY);
    const auto channel = [&](__m256i kc) {
      const __m256i lo = _mm256_srai_epi32(_mm256_add_epi32(ytLo, _mm256_madd_epi16(uvLo, kc)), 17);
      const __m256i hi = _mm256_srai_epi32(_mm256_add_epi32(ytHi, _mm256_madd_epi16(uvHi, kc)), 17);
      return packPixels16(lo, hi);
    };
    _mm_storeu_si128((__m128i*)(r + x), channel(kR));
    _mm_storeu_si128((__m128i*)(g + x), channel(kG));
    _mm_storeu_si128((__m128i*)(b + x), channel(kB));
  }
  if (x < width) scalar::yuvRow(y + x, chroma + x, width - x, k, bilinear, r + x, g + x, b + x);
}

void normalizeRow(const uint8_t* src, int width, float rs, float mean, float stdv, double rescale, float* dst) {
  const __m256d scale = _mm256_set1_pd(rescale);
  const __m256 m = _mm256_set1_ps(mean), sd = _mm256_set1_ps(stdv);
  int x = 0;
  for (; x + 8 <= width; x += 8) {
    const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i*)(src + x)));
    const __m128 lo = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(v)), scale));
    const __m128 hi = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(v, 1)), scale));
    const __m256 f = _mm256_set_m128(hi, lo);
    _mm256_storeu_ps(dst + x, _mm256_div_ps(_mm256_sub_ps(f, m), sd));
  }
  if (x < width) scalar::normalizeRow(src + x, width - x, rs, mean, stdv, rescale, dst + x);
}

// Merges two 8-lane float compare masks into one 16-lane int16 mask in element order.
inline __m256i mask16(__m256 m0, __m256 m1) {
  return _mm256_permute4x64_epi64(_mm256_packs_epi32(_mm256_castps_si256(m0), _mm256_castps_si256(m1)), 0xD8);
}

void argmaxPlane(const float* plane, int n, int cls, float* best, uint16_t* index) {
  const __m256i c = _mm256_set1_epi16((int16_t)cls);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 p0 = _mm256_loadu_ps(plane + i), p1 = _mm256_loadu_ps(plane + i + 8);
    const __m256 b0 = _mm256_loadu_ps(best + i), b1 = _mm256_loadu_ps(best + i + 8);
    const __m256 m0 = _mm256_cmp_ps(p0, b0, _CMP_GT_OQ), m1 = _mm256_cmp_ps(p1, b1, _CMP_GT_OQ);
    _mm256_storeu_ps(best + i, _mm256_blendv_ps(b0, p0, m0));
    _mm256_storeu_ps(best + i + 8, _mm256_blendv_ps(b1, p1, m1));
    const __m256i idx = _mm256_loadu_si256((const __m256i*)(index + i));
    _mm256_storeu_si256((__m256i*)(index + i), _mm256_blendv_epi8(idx, c, mask16(m0, m1)));
  }
  if (i < n) scalar::argmaxPlane(plane + i, n - i, cls, best + i, index + i);
}

void blendArgmax(const float* a, const float* b, float wa, float wb, int n, int cls, float* best, uint16_t* index) {
  const __m256i c = _mm256_set1_epi16((int16_t)cls);
  const __m256 va = _mm256_set1_ps(wa), vb = _mm256_set1_ps(wb);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 p0 = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(a + i), va), _mm256_mul_ps(_mm256_loadu_ps(b + i), vb));
    const __m256 p1 =
        _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(a + i + 8), va), _mm256_mul_ps(_mm256_loadu_ps(b + i + 8), vb));
    const __m256 b0 = _mm256_loadu_ps(best + i), b1 = _mm256_loadu_ps(best + i + 8);
    const __m256 m0 = _mm256_cmp_ps(p0, b0, _CMP_GT_OQ), m1 = _mm256_cmp_ps(p1, b1, _CMP_GT_OQ);
    _mm256_storeu_ps(best + i, _mm256_blendv_ps(b0, p0, m0));
    _mm256_storeu_ps(best + i + 8, _mm256_blendv_ps(b1, p1, m1));
    const __m256i idx = _mm256_loadu_si256((const __m256i*)(index + i));
    _mm256_storeu_si256((__m256i*)(index + i), _mm256_blendv_epi8(idx, c, mask16(m0, m1)));
  }
  if (i < n) scalar::blendArgmax(a + i, b + i, wa, wb, n - i, cls, best + i, index + i);
}

void blendRow(const uint8_t* src, const uint16_t* tm, int alpha, int n, uint8_t* dst) {
  // 16-bit unsigned arithmetic: src * (256 - a) + target * a + 128 <= 65408 never wraps.
  const __m256i a = _mm256_set1_epi16((int16_t)alpha), inv = _mm256_set1_epi16((int16_t)(256 - alpha));
  const __m256i half = _mm256_set1_epi16(128), low = _mm256_set1_epi16(0x00FF);
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i s8 = _mm256_loadu_si256((const __m256i*)(src + i));
    const __m256i p0 = _mm256_loadu_si256((const __m256i*)(tm + i));       // pixels 0-15
    const __m256i p1 = _mm256_loadu_si256((const __m256i*)(tm + i + 16));  // pixels 16-31
    // Targets as 16-bit lanes in the order unpacklo/hi_epi8 give for s8: [0-7 | 16-23] and [8-15 | 24-31].
    const __m256i t0 = _mm256_and_si256(p0, low), t1 = _mm256_and_si256(p1, low);
    const __m256i tA = _mm256_permute2x128_si256(t0, t1, 0x20);
    const __m256i tB = _mm256_permute2x128_si256(t0, t1, 0x31);
    const __m256i zero = _mm256_setzero_si256();
    const __m256i sLo = _mm256_unpacklo_epi8(s8, zero), sHi = _mm256_unpackhi_epi8(s8, zero);
    const auto mix = [&](__m256i s, __m256i t) {
      return _mm256_srli_epi16(_mm256_add_epi16(_mm256_add_epi16(_mm256_mullo_epi16(s, inv), _mm256_mullo_epi16(t, a)), half), 8);
    };
    const __m256i blended = _mm256_packus_epi16(mix(sLo, tA), mix(sHi, tB));
    const __m256i mA = _mm256_srli_epi16(p0, 8), mB = _mm256_srli_epi16(p1, 8);  // masks of 0-15, 16-31
    const __m256i m = _mm256_permute4x64_epi64(_mm256_packus_epi16(mA, mB), 0xD8);
    _mm256_storeu_si256((__m256i*)(dst + i), _mm256_blendv_epi8(s8, blended, m));
  }
  if (i < n) scalar::blendRow(src + i, tm + i, alpha, n - i, dst + i);
}

void evalCandidates(const float* wx0, const float* wx1, int n, const float* wy0, const float* wy1, int rows,
                    const float* vals, const uint16_t* cls, int nc, uint16_t* out) {
  // The horizontal blends t0, t1 depend on the column only: computed once per candidate and column block,
  // then reused by every output row of the cell.
  constexpr int kCache = 32;
  if (nc > kCache) {
    for (int r = 0; r < rows; ++r) scalar::evalCandidates(wx0, wx1, n, wy0 + r, wy1 + r, 1, vals, cls, nc, out + (size_t)r * n);
    return;
  }
  __m256 t0[kCache], t1[kCache];
  for (int x = 0; x < n; x += 8) {
    const __m256 a = _mm256_loadu_ps(wx0 + x), b = _mm256_loadu_ps(wx1 + x);
    for (int k = 0; k < nc; ++k) {
      const float* v = vals + 4 * k;
      t0[k] = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(v[0]), a), _mm256_mul_ps(_mm256_set1_ps(v[1]), b));
      t1[k] = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(v[2]), a), _mm256_mul_ps(_mm256_set1_ps(v[3]), b));
    }
    const int m = n - x < 8 ? n - x : 8;
    for (int r = 0; r < rows; ++r) {
      const __m256 vy0 = _mm256_set1_ps(wy0[r]), vy1 = _mm256_set1_ps(wy1[r]);
      __m256 best = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
      __m256i bi = _mm256_set1_epi32(cls[0]);
      for (int k = 0; k < nc; ++k) {
        const __m256 val = _mm256_add_ps(_mm256_mul_ps(t0[k], vy0), _mm256_mul_ps(t1[k], vy1));
        const __m256 mk = _mm256_cmp_ps(val, best, _CMP_GT_OQ);
        best = _mm256_blendv_ps(best, val, mk);
        bi = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(bi), _mm256_castsi256_ps(_mm256_set1_epi32(cls[k])), mk));
      }
      alignas(32) int32_t tmp[8];
      _mm256_store_si256((__m256i*)tmp, bi);
      uint16_t* o = out + (size_t)r * n + x;
      for (int i = 0; i < m; ++i) o[i] = (uint16_t)tmp[i];
    }
  }
}

uint64_t atLeast(const float* plane, const float* threshold, int n) {
  uint64_t m = 0;
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 c = _mm256_cmp_ps(_mm256_loadu_ps(plane + i), _mm256_loadu_ps(threshold + i), _CMP_GE_OQ);
    m |= (uint64_t)(unsigned)_mm256_movemask_ps(c) << i;
  }
  if (i < n) m |= scalar::atLeast(plane + i, threshold + i, n - i) << i;
  return m;
}

// pshufb tables for 16 pixels of 3 interleaved channels (48 bytes in three 16-byte chunks).
struct Shuffle3 {
  alignas(16) int8_t split[3][3][16];  // [channel][chunk]
  alignas(16) int8_t merge[3][3][16];  // [chunk][channel]
  Shuffle3() {
    for (int ch = 0; ch < 3; ++ch)
      for (int chunk = 0; chunk < 3; ++chunk)
        for (int i = 0; i < 16; ++i) {
          const int g = 3 * i + ch;
          split[ch][chunk][i] = (g / 16 == chunk) ? (int8_t)(g % 16) : (int8_t)-128;
          const int out = 16 * chunk + i;  // byte of the interleaved chunk
          merge[chunk][ch][i] = (out % 3 == ch) ? (int8_t)(out / 3) : (int8_t)-128;
        }
  }
};
const Shuffle3& shuffle3() {
  static const Shuffle3 s;
  return s;
}

inline __m128i lut(const int8_t* t) { return _mm_load_si128((const __m128i*)t); }

void split3(const uint8_t* src, int n, uint8_t* a, uint8_t* b, uint8_t* c) {
  const Shuffle3& s = shuffle3();
  uint8_t* out[3] = {a, b, c};
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i v[3] = {_mm_loadu_si128((const __m128i*)(src + 3 * i)),
                          _mm_loadu_si128((const __m128i*)(src + 3 * i + 16)),
                          _mm_loadu_si128((const __m128i*)(src + 3 * i + 32))};
    for (int ch = 0; ch < 3; ++ch) {
      const __m128i r = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(v[0], lut(s.split[ch][0])),
                                                  _mm_shuffle_epi8(v[1], lut(s.split[ch][1]))),
                                     _mm_shuffle_epi8(v[2], lut(s.split[ch][2])));
      _mm_storeu_si128((__m128i*)(out[ch] + i), r);
    }
  }
  if (i < n) scalar::split3(src + 3 * i, n - i, a + i, b + i, c + i);
}

void merge3(const uint8_t* a, const uint8_t* b, const uint8_t* c, int n, uint8_t* dst) {
  const Shuffle3& s = shuffle3();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i v[3] = {_mm_loadu_si128((const __m128i*)(a + i)), _mm_loadu_si128((const __m128i*)(b + i)),
                          _mm_loadu_si128((const __m128i*)(c + i))};
    for (int chunk = 0; chunk < 3; ++chunk) {
      const __m128i r = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(v[0], lut(s.merge[chunk][0])),
                                                  _mm_shuffle_epi8(v[1], lut(s.merge[chunk][1]))),
                                     _mm_shuffle_epi8(v[2], lut(s.merge[chunk][2])));
      _mm_storeu_si128((__m128i*)(dst + 3 * i + 16 * chunk), r);
    }
  }
  if (i < n) scalar::merge3(a + i, b + i, c + i, n - i, dst + 3 * i);
}

void split2(const uint8_t* src, int n, uint8_t* a, uint8_t* b) {
  const __m128i lowBytes = _mm_set1_epi16(0x00FF);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i v0 = _mm_loadu_si128((const __m128i*)(src + 2 * i));
    const __m128i v1 = _mm_loadu_si128((const __m128i*)(src + 2 * i + 16));
    _mm_storeu_si128((__m128i*)(a + i), _mm_packus_epi16(_mm_and_si128(v0, lowBytes), _mm_and_si128(v1, lowBytes)));
    _mm_storeu_si128((__m128i*)(b + i), _mm_packus_epi16(_mm_srli_epi16(v0, 8), _mm_srli_epi16(v1, 8)));
  }
  if (i < n) scalar::split2(src + 2 * i, n - i, a + i, b + i);
}

void merge2(const uint8_t* a, const uint8_t* b, int n, uint8_t* dst) {
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i va = _mm_loadu_si128((const __m128i*)(a + i)), vb = _mm_loadu_si128((const __m128i*)(b + i));
    _mm_storeu_si128((__m128i*)(dst + 2 * i), _mm_unpacklo_epi8(va, vb));
    _mm_storeu_si128((__m128i*)(dst + 2 * i + 16), _mm_unpackhi_epi8(va, vb));
  }
  if (i < n) scalar::merge2(a + i, b + i, n - i, dst + 2 * i);
}

}  // namespace

const Ops& avx2Ops() {
  static const Ops ops = {Isa::Avx2,  horizontal8,    scalar::horizontal1, vertical, yuvRow, normalizeRow,
                          argmaxPlane, blendArgmax, blendRow, evalCandidates, atLeast, split3, merge3, split2, merge2};
  return ops;
}

}  // namespace segk

#pragma GCC pop_options

#endif
