// AVX2 versions of the hot loops (x86-64, chosen at run time when the CPU has AVX2). Integer kernels do the
// scalar arithmetic lane by lane; float kernels use the same operations in the same order (no FMA), so the
// results are bit-identical to ops_scalar.cc.
#if defined(__x86_64__) || defined(_M_X64)

// Every header comes before the target pragma: inline functions they define (the standard library's, and the
// scalar helpers in internal.h) are emitted as weak symbols shared with the other files, and the linker keeps one
// copy for the whole addon. Compiled under the pragma, that copy could be an AVX2 one that the scalar path then
// runs on a CPU without AVX2 (scripts/native-tests.sh checks that no weak symbol of this file uses AVX).
#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "internal.h"

#pragma GCC push_options
#pragma GCC target("avx2")

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

// Even column pairs of 8 rows widened to int16, the layout of the horizontal pass below: pair m is 32 bytes,
// (row 0: column 2m, 2m + 1), (row 1: ...), ..., (row 7: ...). Built with a 16-bit transpose of each 16 x 8
// block (a 16-bit word of a row is one column pair). An odd last column is paired with zero.
void buildPairs(const uint8_t* const* rows, int n, uint8_t* pairs) {
  int x = 0;
  for (; x + 32 <= n; x += 32) {
    __m256i v[8];
    for (int r = 0; r < 8; ++r) v[r] = _mm256_loadu_si256((const __m256i*)(rows[r] + x));
    __m256i t[8], u[8];
    for (int k = 0; k < 4; ++k) {
      t[2 * k] = _mm256_unpacklo_epi16(v[2 * k], v[2 * k + 1]);
      t[2 * k + 1] = _mm256_unpackhi_epi16(v[2 * k], v[2 * k + 1]);
    }
    for (int k = 0; k < 2; ++k) {  // rows 0-3 (k = 0) and 4-7 (k = 1)
      u[4 * k] = _mm256_unpacklo_epi32(t[4 * k], t[4 * k + 2]);      // words 0, 1
      u[4 * k + 1] = _mm256_unpackhi_epi32(t[4 * k], t[4 * k + 2]);  // words 2, 3
      u[4 * k + 2] = _mm256_unpacklo_epi32(t[4 * k + 1], t[4 * k + 3]);  // words 4, 5
      u[4 * k + 3] = _mm256_unpackhi_epi32(t[4 * k + 1], t[4 * k + 3]);  // words 6, 7
    }
    uint8_t* dst = pairs + (size_t)(x / 2) * 32;
    for (int k = 0; k < 4; ++k) {
      const __m256i even = _mm256_unpacklo_epi64(u[k], u[4 + k]);  // word 2k of rows 0-7 (per 128-bit lane)
      const __m256i odd = _mm256_unpackhi_epi64(u[k], u[4 + k]);   // word 2k + 1
      _mm256_storeu_si256((__m256i*)(dst + 32 * (2 * k)), _mm256_cvtepu8_epi16(_mm256_castsi256_si128(even)));
      _mm256_storeu_si256((__m256i*)(dst + 32 * (2 * k + 1)), _mm256_cvtepu8_epi16(_mm256_castsi256_si128(odd)));
      _mm256_storeu_si256((__m256i*)(dst + 32 * (8 + 2 * k)), _mm256_cvtepu8_epi16(_mm256_extracti128_si256(even, 1)));
      _mm256_storeu_si256((__m256i*)(dst + 32 * (9 + 2 * k)), _mm256_cvtepu8_epi16(_mm256_extracti128_si256(odd, 1)));
    }
  }
  for (; x < n; x += 2) {
    int16_t* d = (int16_t*)(pairs + (size_t)(x / 2) * 32);
    for (int r = 0; r < 8; ++r) {
      d[2 * r] = rows[r][x];
      d[2 * r + 1] = x + 1 < n ? rows[r][x + 1] : 0;
    }
  }
}

// Horizontal pass on 8 rows of up to 3 planes at once. Each plane's rows become even column pairs of int16
// (buildPairs); vpmaddwd of one pair with the pair of weights sums two taps for all 8 rows, and one weight
// broadcast serves every plane. Weights are split into exact 11-bit halves, so the int32 sums equal Pillow's:
// ss = 2^21 + (sumHi << 11) + sumLo. Results are packed column-major and transposed back to rows.
template <int P>
void horizontalPlanes(const uint8_t* const* src, uint8_t* const* dst, const Coeffs& c, uint8_t* scratch) {
  const size_t pairBytes = (((size_t)c.inSize + 1) / 2 + c.pairSlots + 1) * 32;
  uint8_t* pairs[P];
  uint8_t* o[P];
  for (int p = 0; p < P; ++p) {
    pairs[p] = scratch + p * pairBytes;
    o[p] = scratch + P * pairBytes + (size_t)p * c.outSize * 8;
    buildPairs(src + 8 * p, c.inSize, pairs[p]);
  }
  const __m256i round = _mm256_set1_epi32(1 << (kPrecisionBits - 1));
  const int slots = c.pairSlots;
  const uint8_t* const p0 = pairs[0];
  const uint8_t* const p1 = pairs[P > 1 ? 1 : 0];
  const uint8_t* const p2 = pairs[P > 2 ? 2 : 0];
  // Outputs grouped by their number of tap pairs (pairOrder): within a group the inner loop's trip count is
  // constant, so its branch is predicted, and no output runs more pairs than its own.
  for (size_t g = 0; g + 1 < c.pairGroups.size(); ++g) {
    const int n = c.pairCount[c.pairOrder[c.pairGroups[g]]];
    for (int i = c.pairGroups[g]; i < c.pairGroups[g + 1]; ++i) {
      const int x = c.pairOrder[i];
      const int32_t* hi = &c.pairHi[(size_t)x * slots];
      const int32_t* lo = &c.pairLo[(size_t)x * slots];
      const size_t first = (size_t)c.pairStart[x] * 32;
      // Named accumulators (not arrays) keep the loop free of register copies.
      __m256i h0 = _mm256_setzero_si256(), l0 = round, h1 = h0, l1 = round, h2 = h0, l2 = round;
#pragma GCC unroll 4
      for (int j = 0; j < n; ++j) {
        const __m256i wh = _mm256_set1_epi32(hi[j]), wl = _mm256_set1_epi32(lo[j]);
        const size_t at = first + 32 * (size_t)j;
        const __m256i a = _mm256_loadu_si256((const __m256i*)(p0 + at));
        h0 = _mm256_add_epi32(h0, _mm256_madd_epi16(a, wh));
        l0 = _mm256_add_epi32(l0, _mm256_madd_epi16(a, wl));
        if (P > 1) {
          const __m256i b = _mm256_loadu_si256((const __m256i*)(p1 + at));
          h1 = _mm256_add_epi32(h1, _mm256_madd_epi16(b, wh));
          l1 = _mm256_add_epi32(l1, _mm256_madd_epi16(b, wl));
        }
        if (P > 2) {
          const __m256i d = _mm256_loadu_si256((const __m256i*)(p2 + at));
          h2 = _mm256_add_epi32(h2, _mm256_madd_epi16(d, wh));
          l2 = _mm256_add_epi32(l2, _mm256_madd_epi16(d, wl));
        }
      }
      const __m256i acc[3][2] = {{h0, l0}, {h1, l1}, {h2, l2}};
      for (int p = 0; p < P; ++p) {
        const __m256i v =
            _mm256_srai_epi32(_mm256_add_epi32(_mm256_slli_epi32(acc[p][0], kSplitBits), acc[p][1]), kPrecisionBits);
        // 8 int32 (rows 0-7 of column x) -> 8 bytes.
        const __m128i q = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        _mm_storel_epi64((__m128i*)(o[p] + (size_t)x * 8), _mm_packus_epi16(q, q));
      }
    }
  }
  for (int p = 0; p < P; ++p) colsToRows(o[p], c.outSize, dst + 8 * p);
}

void horizontal8(const uint8_t* const* src, uint8_t* const* dst, int planes, const Coeffs& c, uint8_t* scratch) {
  switch (planes) {
    case 1: return horizontalPlanes<1>(src, dst, c, scratch);
    case 2: return horizontalPlanes<2>(src, dst, c, scratch);
    default: return horizontalPlanes<3>(src, dst, c, scratch);
  }
}

void vertical(const uint8_t* const* rows, int n, const int32_t* k, int width, uint8_t* dst) {
  const __m256i round = _mm256_set1_epi32(1 << (kPrecisionBits - 1));
  int x = 0;
  for (; x + 16 <= width; x += 16) {
    __m256i a0 = round, a1 = round;
    for (int i = 0; i < n; ++i) {
      const uint8_t* s = rows[i] + x;
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
  if (x < width) {
    const uint8_t* tail[64];
    for (int i = 0; i < n && i < 64; ++i) tail[i] = rows[i] + x;
    if (n <= 64)
      scalar::vertical(tail, n, k, width - x, dst + x);
    else
      for (; x < width; ++x) {  // more than 64 taps: one column at a time
        int32_t ss = 1 << (kPrecisionBits - 1);
        for (int i = 0; i < n; ++i) ss += (int32_t)rows[i][x] * k[i];
        ss >>= kPrecisionBits;
        dst[x] = (uint8_t)(ss < 0 ? 0 : ss > 255 ? 255 : ss);
      }
  }
}

// Packs two int32 vectors whose lanes hold pixels [0-3 | 8-11] and [4-7 | 12-15] (after >> 17) into 16 bytes.
// The YUV coefficients as AVX2 multiply-add operands.
struct YuvVec {
  __m256i yOff, kY, kR, kG, kB;
};
inline YuvVec yuvVec(const YuvCoeffs& k) {
  return YuvVec{
      _mm256_set1_epi16((int16_t)k.yOffset),
      // (Y16, 8) . (cY, 8192) = Y16 * cY + 2^16: the luma term with the rounding constant folded in.
      _mm256_set1_epi32((int32_t)(uint16_t)k.cY | (8192 << 16)),
      _mm256_set1_epi32((int32_t)((uint32_t)(uint16_t)k.cRV << 16)),
      _mm256_set1_epi32((int32_t)((uint32_t)(uint16_t)k.cGU | ((uint32_t)(uint16_t)k.cGV << 16))),
      _mm256_set1_epi32((int32_t)(uint16_t)k.cBU),
  };
}

// 16 pixels of one row: luma (Y - offset) * 16 as int16, per-pixel-pair chroma (U, V) as int16 (even = the
// pair's left pixel, odd = its right pixel). Returns each channel's 16 int16 results (before the 0..255
// clamp) in pixel order.
struct Rgb16 {
  __m256i r, g, b;
};
inline Rgb16 yuv16(__m256i y16, __m256i even, __m256i odd, const YuvVec& v) {
  // Per-pixel (U, V) pairs, in the lane order [0-3 | 8-11] and [4-7 | 12-15].
  const __m256i eight = _mm256_set1_epi16(8);
  const __m256i uvLo = _mm256_unpacklo_epi32(even, odd);
  const __m256i uvHi = _mm256_unpackhi_epi32(even, odd);
  const __m256i ytLo = _mm256_madd_epi16(_mm256_unpacklo_epi16(y16, eight), v.kY);
  const __m256i ytHi = _mm256_madd_epi16(_mm256_unpackhi_epi16(y16, eight), v.kY);
  const auto channel = [&](__m256i kc) {
    const __m256i lo = _mm256_srai_epi32(_mm256_add_epi32(ytLo, _mm256_madd_epi16(uvLo, kc)), 17);
    const __m256i hi = _mm256_srai_epi32(_mm256_add_epi32(ytHi, _mm256_madd_epi16(uvHi, kc)), 17);
    return _mm256_packs_epi32(lo, hi);  // pixel order 0..15
  };
  return Rgb16{channel(v.kR), channel(v.kG), channel(v.kB)};
}

// Clamps 16 int16 pixels (in yuv16's order) to bytes.
inline __m128i pack16(__m256i p) {
  const __m256i q = _mm256_packus_epi16(p, p);
  return _mm256_castsi256_si128(_mm256_permute4x64_epi64(q, 0x08));
}

void yuvRow(const uint8_t* y, const int16_t* chroma, int width, const YuvCoeffs& k, bool bilinear, uint8_t* r,
            uint8_t* g, uint8_t* b) {
  const YuvVec v = yuvVec(k);
  int x = 0;
  for (; x + 16 <= width; x += 16) {
    const __m256i y16 = _mm256_slli_epi16(
        _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i*)(y + x))), v.yOff), 4);
    const __m256i a = _mm256_loadu_si256((const __m256i*)(chroma + x));  // 8 UV pairs for 16 pixels
    __m256i even, odd;
    if (bilinear) {
      const __m256i a3 = _mm256_add_epi16(a, _mm256_add_epi16(a, a));
      even = _mm256_add_epi16(a3, _mm256_loadu_si256((const __m256i*)(chroma + x - 2)));
      odd = _mm256_add_epi16(a3, _mm256_loadu_si256((const __m256i*)(chroma + x + 2)));
    } else {
      even = odd = _mm256_slli_epi16(a, 2);
    }
    const Rgb16 px = yuv16(y16, even, odd, v);
    _mm_storeu_si128((__m128i*)(r + x), pack16(px.r));
    _mm_storeu_si128((__m128i*)(g + x), pack16(px.g));
    _mm_storeu_si128((__m128i*)(b + x), pack16(px.b));
  }
  if (x < width) scalar::yuvRow(y + x, chroma + x, width - x, k, bilinear, r + x, g + x, b + x);
}

// Clamps two 16-pixel int16 vectors to bytes and stores them as 32 consecutive pixels.
inline void store32(__m256i a, __m256i b, uint8_t* dst) {
  _mm256_storeu_si256((__m256i*)dst, _mm256_permute4x64_epi64(_mm256_packus_epi16(a, b), 0xD8));
}

void yuvRowNearest(const uint8_t* y, const uint8_t* uv, int width, const YuvCoeffs& k, uint8_t* r, uint8_t* g,
                   uint8_t* b) {
  const YuvVec v = yuvVec(k);
  const __m256i c128 = _mm256_set1_epi16(128);
  int x = 0;
  for (; x + 32 <= width; x += 32) {
    const __m256i yb = _mm256_loadu_si256((const __m256i*)(y + x));
    const __m256i cb = _mm256_loadu_si256((const __m256i*)(uv + x));  // 16 (U, V) pairs
    const auto half = [&](__m128i y8, __m128i c8) {
      const __m256i y16 = _mm256_slli_epi16(_mm256_sub_epi16(_mm256_cvtepu8_epi16(y8), v.yOff), 4);
      const __m256i c16 = _mm256_slli_epi16(_mm256_sub_epi16(_mm256_cvtepu8_epi16(c8), c128), 4);
      return yuv16(y16, c16, c16, v);
    };
    const Rgb16 lo = half(_mm256_castsi256_si128(yb), _mm256_castsi256_si128(cb));
    const Rgb16 hi = half(_mm256_extracti128_si256(yb, 1), _mm256_extracti128_si256(cb, 1));
    store32(lo.r, hi.r, r + x);
    store32(lo.g, hi.g, g + x);
    store32(lo.b, hi.b, b + x);
  }
  if (x < width) scalar::yuvRowNearest(y + x, uv + x, width - x, k, r + x, g + x, b + x);
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

// best/index for 16 elements: where p > best, take p and the class c (strictly greater: the lower class keeps
// ties; an ordered compare, so NaN never wins).
inline void keepGreater16(__m256 p0, __m256 p1, __m256i c, float* best, uint16_t* index) {
  const __m256 b0 = _mm256_loadu_ps(best), b1 = _mm256_loadu_ps(best + 8);
  const __m256 m0 = _mm256_cmp_ps(p0, b0, _CMP_GT_OQ), m1 = _mm256_cmp_ps(p1, b1, _CMP_GT_OQ);
  _mm256_storeu_ps(best, _mm256_blendv_ps(b0, p0, m0));
  _mm256_storeu_ps(best + 8, _mm256_blendv_ps(b1, p1, m1));
  const __m256i idx = _mm256_loadu_si256((const __m256i*)index);
  _mm256_storeu_si256((__m256i*)index, _mm256_blendv_epi8(idx, c, mask16(m0, m1)));
}

void argmaxPlane(const float* plane, int n, int cls, float* best, uint16_t* index) {
  const __m256i c = _mm256_set1_epi16((int16_t)cls);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 p0 = _mm256_loadu_ps(plane + i), p1 = _mm256_loadu_ps(plane + i + 8);
    keepGreater16(p0, p1, c, best + i, index + i);
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
    keepGreater16(p0, p1, c, best + i, index + i);
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

void argmaxRowMax(const float* plane, int n, int cls, float* best, uint16_t* index, float* chunkMax, float* copy) {
  const __m256i c = _mm256_set1_epi16((int16_t)cls);
  const float ninf = -std::numeric_limits<float>::infinity();
  for (int x = 0, k = 0; x < n; x += 64, ++k) {
    const int e = n - x < 64 ? n : x + 64;
    __m256 acc = _mm256_set1_ps(ninf);
    int i = x;
    for (; i + 16 <= e; i += 16) {
      const __m256 p0 = _mm256_loadu_ps(plane + i), p1 = _mm256_loadu_ps(plane + i + 8);
      acc = _mm256_max_ps(p0, _mm256_max_ps(p1, acc));  // a NaN operand returns the second: NaN ignored
      if (copy) {
        _mm256_storeu_ps(copy + i, p0);
        _mm256_storeu_ps(copy + i + 8, p1);
      }
      if (cls == 0) {
        _mm256_storeu_ps(best + i, p0);
        _mm256_storeu_ps(best + i + 8, p1);
        _mm256_storeu_si256((__m256i*)(index + i), _mm256_setzero_si256());
        continue;
      }
      keepGreater16(p0, p1, c, best + i, index + i);
    }
    // Lanes hold no NaN, so any reduction order gives the same maximum (up to the sign of zero).
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
    chunkMax[k] = scalar::argmaxRowSpan(plane, i, e, cls, best, index, copy, _mm_cvtss_f32(h));
  }
}

int argmaxVector(const float* v, int n) {
  if (n < 16 || v[0] != v[0]) return scalar::argmaxVector(v, n);  // a NaN first element is never beaten
  // Without a NaN first element the scalar loop returns the first index of the largest non-NaN value.
  __m256 acc = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  int i = 0;
  for (; i + 8 <= n; i += 8) acc = _mm256_max_ps(_mm256_loadu_ps(v + i), acc);
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
  float m = _mm_cvtss_f32(h);
  for (int j = i; j < n; ++j) m = v[j] > m ? v[j] : m;
  const __m256 mv = _mm256_set1_ps(m);
  for (i = 0; i + 8 <= n; i += 8) {
    const int bits = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(v + i), mv, _CMP_EQ_OQ));
    if (bits) return i + __builtin_ctz((unsigned)bits);
  }
  for (; i < n; ++i)
    if (v[i] == m) return i;
  return 0;
}

// Stores the first `bytes` (0..16) bytes of v with fixed-size moves (no library call in the hot loop).
inline void storePrefix(__m128i v, int bytes, uint8_t* dst) {
  uint64_t lo = (uint64_t)_mm_cvtsi128_si64(v);
  if (bytes >= 8) {
    std::memcpy(dst, &lo, 8);
    dst += 8;
    bytes -= 8;
    lo = (uint64_t)_mm_extract_epi64(v, 1);
  }
  if (bytes & 4) {
    const uint32_t w = (uint32_t)lo;
    std::memcpy(dst, &w, 4);
    dst += 4;
    lo >>= 32;
  }
  if (bytes & 2) {
    const uint16_t w = (uint16_t)lo;
    std::memcpy(dst, &w, 2);
    dst += 2;
    lo >>= 16;
  }
  if (bytes & 1) *dst = (uint8_t)lo;
}

// Stores the first m (1..8) lanes of ids (int32, each < 2^16) as uint8 or uint16.
inline void storeIds(__m256i ids, int m, bool wide, void* dst) {
  const __m128i p16 = _mm_packus_epi32(_mm256_castsi256_si128(ids), _mm256_extracti128_si256(ids, 1));
  if (wide) {
    if (m == 8)
      _mm_storeu_si128((__m128i*)dst, p16);
    else
      storePrefix(p16, 2 * m, (uint8_t*)dst);
  } else {
    const __m128i p8 = _mm_packus_epi16(p16, p16);
    if (m == 8)
      _mm_storel_epi64((__m128i*)dst, p8);
    else
      storePrefix(p8, m, (uint8_t*)dst);
  }
}

inline uint32_t laneSum(__m256i v) {
  const __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  const __m128i t = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  return (uint32_t)_mm_cvtsi128_si32(_mm_add_epi32(t, _mm_shuffle_epi32(t, 0xB1)));
}

// Cells with up to 8 candidates whose corner values are all finite and below 2^125 in magnitude: no blend can
// be NaN (no infinity, no overflow), so candidate 0's value starts the comparison. XB column blocks of 8 are
// evaluated together (n <= 8 * XB); NC = 0: nc known at run time only. The winner's index selects its class
// with one permute; wins are counted per lane for candidates 1.., candidate 0 gets the rest.
template <int NC, int XB>
void evalFew(const float* wx0, const float* wx1, int n, const float* wy0, const float* wy1, int rows,
             const float* vals, const uint16_t* cls, int ncRuntime, void* out, size_t outStride, bool wide,
             uint32_t* counts) {
  const int nc = NC ? NC : ncRuntime;
  alignas(32) int32_t clsLanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int k = 0; k < nc; ++k) clsLanes[k] = cls[k];
  const __m256i clsv = _mm256_load_si256((const __m256i*)clsLanes);
  const __m256i laneIndex = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const size_t elem = wide ? 2 : 1;
  __m256 t0[8][XB], t1[8][XB];
  __m256i won[8][XB];
  int m[XB];
  for (int j = 0; j < XB; ++j) {
    const int x = 8 * j;
    m[j] = n - x < 8 ? n - x : 8;
    const __m256 a = _mm256_loadu_ps(wx0 + x), b = _mm256_loadu_ps(wx1 + x);
    for (int k = 0; k < nc; ++k) {
      const float* v = vals + 4 * k;
      t0[k][j] = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(v[0]), a), _mm256_mul_ps(_mm256_set1_ps(v[1]), b));
      t1[k][j] = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(v[2]), a), _mm256_mul_ps(_mm256_set1_ps(v[3]), b));
      won[k][j] = _mm256_setzero_si256();
    }
  }
  uint8_t* dst = (uint8_t*)out;
  for (int r = 0; r < rows; ++r, dst += outStride * elem) {
    const __m256 vy0 = _mm256_set1_ps(wy0[r]), vy1 = _mm256_set1_ps(wy1[r]);
    for (int j = 0; j < XB; ++j) {
      __m256 best = _mm256_add_ps(_mm256_mul_ps(t0[0][j], vy0), _mm256_mul_ps(t1[0][j], vy1));
      __m256i bi = _mm256_setzero_si256();
      for (int k = 1; k < nc; ++k) {
        const __m256 val = _mm256_add_ps(_mm256_mul_ps(t0[k][j], vy0), _mm256_mul_ps(t1[k][j], vy1));
        const __m256 mk = _mm256_cmp_ps(val, best, _CMP_GT_OQ);
        best = _mm256_max_ps(val, best);  // = blendv(best, val, val > best) without NaN
        bi = _mm256_blendv_epi8(bi, _mm256_set1_epi32(k), _mm256_castps_si256(mk));
      }
      for (int k = 1; k < nc; ++k) won[k][j] = _mm256_sub_epi32(won[k][j], _mm256_cmpeq_epi32(bi, _mm256_set1_epi32(k)));
      storeIds(_mm256_permutevar8x32_epi32(clsv, bi), m[j], wide, dst + 8 * j * elem);
    }
  }
  uint32_t rest = (uint32_t)(n * rows);
  for (int k = 1; k < nc; ++k) {
    __m256i sum = _mm256_setzero_si256();
    for (int j = 0; j < XB; ++j)
      sum = _mm256_add_epi32(sum, _mm256_and_si256(won[k][j], _mm256_cmpgt_epi32(_mm256_set1_epi32(m[j]), laneIndex)));
    const uint32_t c = laneSum(sum);
    counts[k] += c;
    rest -= c;
  }
  counts[0] += rest;
}

// Two candidates (the common disagreeing cell: its two corner winners): candidate 1 wins where its value is
// strictly greater. Same preconditions as evalFew.
void evalTwo(const float* wx0, const float* wx1, int n, const float* wy0, const float* wy1, int rows, const float* vals,
             const uint16_t* cls, void* out, size_t outStride, bool wide, uint32_t* counts) {
  const __m256i cls0 = _mm256_set1_epi32(cls[0]), cls1 = _mm256_set1_epi32(cls[1]);
  const __m256 a00 = _mm256_set1_ps(vals[0]), a01 = _mm256_set1_ps(vals[1]), a10 = _mm256_set1_ps(vals[2]),
               a11 = _mm256_set1_ps(vals[3]);
  const __m256 b00 = _mm256_set1_ps(vals[4]), b01 = _mm256_set1_ps(vals[5]), b10 = _mm256_set1_ps(vals[6]),
               b11 = _mm256_set1_ps(vals[7]);
  const size_t elem = wide ? 2 : 1;
  uint32_t won = 0;
  for (int x = 0; x < n; x += 8) {
    const int m = n - x < 8 ? n - x : 8;
    const unsigned valid = (1u << m) - 1;
    const __m256 u = _mm256_loadu_ps(wx0 + x), w = _mm256_loadu_ps(wx1 + x);
    const __m256 ta0 = _mm256_add_ps(_mm256_mul_ps(a00, u), _mm256_mul_ps(a01, w));
    const __m256 ta1 = _mm256_add_ps(_mm256_mul_ps(a10, u), _mm256_mul_ps(a11, w));
    const __m256 tb0 = _mm256_add_ps(_mm256_mul_ps(b00, u), _mm256_mul_ps(b01, w));
    const __m256 tb1 = _mm256_add_ps(_mm256_mul_ps(b10, u), _mm256_mul_ps(b11, w));
    uint8_t* dst = (uint8_t*)out + x * elem;
    for (int r = 0; r < rows; ++r, dst += outStride * elem) {
      const __m256 vy0 = _mm256_set1_ps(wy0[r]), vy1 = _mm256_set1_ps(wy1[r]);
      const __m256 va = _mm256_add_ps(_mm256_mul_ps(ta0, vy0), _mm256_mul_ps(ta1, vy1));
      const __m256 vb = _mm256_add_ps(_mm256_mul_ps(tb0, vy0), _mm256_mul_ps(tb1, vy1));
      const __m256 mk = _mm256_cmp_ps(vb, va, _CMP_GT_OQ);
      won += (uint32_t)__builtin_popcount((unsigned)_mm256_movemask_ps(mk) & valid);
      storeIds(_mm256_blendv_epi8(cls0, cls1, _mm256_castps_si256(mk)), m, wide, dst);
    }
  }
  counts[1] += won;
  counts[0] += (uint32_t)(n * rows) - won;
}

template <int XB>
bool evalFewDispatch(const float* wx0, const float* wx1, int n, const float* wy0, const float* wy1, int rows,
                     const float* vals, const uint16_t* cls, int nc, void* out, size_t outStride, bool wide,
                     uint32_t* counts) {
  switch (nc) {
    case 1: evalFew<1, XB>(wx0, wx1, n, wy0, wy1, rows, vals, cls, nc, out, outStride, wide, counts); return true;
    case 2: evalFew<2, XB>(wx0, wx1, n, wy0, wy1, rows, vals, cls, nc, out, outStride, wide, counts); return true;
    case 3: evalFew<3, XB>(wx0, wx1, n, wy0, wy1, rows, vals, cls, nc, out, outStride, wide, counts); return true;
    case 4: evalFew<4, XB>(wx0, wx1, n, wy0, wy1, rows, vals, cls, nc, out, outStride, wide, counts); return true;
    default:
      if (nc > 8) return false;
      evalFew<0, XB>(wx0, wx1, n, wy0, wy1, rows, vals, cls, nc, out, outStride, wide, counts);
      return true;
  }
}

void evalCandidates(const float* wx0, const float* wx1, int n, const float* wy0, const float* wy1, int rows,
                    const float* vals, const uint16_t* cls, int nc, void* out, size_t outStride, bool wide,
                    uint32_t* counts) {
  // The horizontal blends t0, t1 depend on the column only: computed once per candidate and column block,
  // then reused by every output row of the cell.
  bool tame = nc <= 8;
  for (int i = 0; tame && i < 4 * nc; ++i) tame = std::fabs(vals[i]) <= 0x1p125f;  // false for NaN
  if (tame && nc == 2) {
    evalTwo(wx0, wx1, n, wy0, wy1, rows, vals, cls, out, outStride, wide, counts);
    return;
  }
  if (tame) {
    const size_t elem = wide ? 2 : 1;
    int x = 0;
    for (; x + 16 < n; x += 16)
      evalFewDispatch<2>(wx0 + x, wx1 + x, 16, wy0, wy1, rows, vals, cls, nc, (uint8_t*)out + x * elem, outStride, wide, counts);
    if (n - x > 8)
      evalFewDispatch<2>(wx0 + x, wx1 + x, n - x, wy0, wy1, rows, vals, cls, nc, (uint8_t*)out + x * elem, outStride, wide, counts);
    else
      evalFewDispatch<1>(wx0 + x, wx1 + x, n - x, wy0, wy1, rows, vals, cls, nc, (uint8_t*)out + x * elem, outStride, wide, counts);
    return;
  }
  constexpr int kCache = 32;
  if (nc > kCache) {
    scalar::evalCandidates(wx0, wx1, n, wy0, wy1, rows, vals, cls, nc, out, outStride, wide, counts);
    return;
  }
  __m256 t0[kCache], t1[kCache];
  const float ninf = -std::numeric_limits<float>::infinity();
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
      __m256 best = _mm256_set1_ps(ninf);
      __m256i bi = _mm256_setzero_si256();
      for (int k = 0; k < nc; ++k) {
        const __m256 val = _mm256_add_ps(_mm256_mul_ps(t0[k], vy0), _mm256_mul_ps(t1[k], vy1));
        const __m256 mk = _mm256_cmp_ps(val, best, _CMP_GT_OQ);
        best = _mm256_max_ps(val, best);
        bi = _mm256_blendv_epi8(bi, _mm256_set1_epi32(k), _mm256_castps_si256(mk));
      }
      alignas(32) int32_t kk[8];
      _mm256_store_si256((__m256i*)kk, bi);
      for (int i = 0; i < m; ++i) {
        if (wide)
          ((uint16_t*)out)[(size_t)r * outStride + x + i] = cls[kk[i]];
        else
          ((uint8_t*)out)[(size_t)r * outStride + x + i] = (uint8_t)cls[kk[i]];
        ++counts[kk[i]];
      }
    }
  }
}

uint64_t anyAtLeast4(const float* a, const float* b, const float* c, const float* d, const float* t, int n,
                     float top) {
  const __m256 topv = _mm256_set1_ps(top);
  uint64_t m = 0;
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 tv = _mm256_loadu_ps(t + i);
    if (!_mm256_movemask_ps(_mm256_cmp_ps(tv, topv, _CMP_LE_OQ))) continue;  // no value reaches these
    const __m256 ab = _mm256_or_ps(_mm256_cmp_ps(_mm256_loadu_ps(a + i), tv, _CMP_GE_OQ),
                                   _mm256_cmp_ps(_mm256_loadu_ps(b + i), tv, _CMP_GE_OQ));
    const __m256 cd = _mm256_or_ps(_mm256_cmp_ps(_mm256_loadu_ps(c + i), tv, _CMP_GE_OQ),
                                   _mm256_cmp_ps(_mm256_loadu_ps(d + i), tv, _CMP_GE_OQ));
    m |= (uint64_t)(unsigned)_mm256_movemask_ps(_mm256_or_ps(ab, cd)) << i;
  }
  if (i < n) m |= scalar::anyAtLeast4(a + i, b + i, c + i, d + i, t + i, n - i, top) << i;
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

// Half -> float, 8 lanes: integer re-biasing for normal values, NaN/infinity and subnormals blended in (a
// subnormal is mant * 2^-24, exact in float). Same bits as scalar::halfToFloat.
void halfToFloat(const uint16_t* src, int n, float* dst) {
  int i = 0;
  const __m256i expMask = _mm256_set1_epi32(0x7c00), mantMask = _mm256_set1_epi32(0x3ff);
  for (; i + 8 <= n; i += 8) {
    const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i*)(src + i)));
    const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(h, _mm256_set1_epi32(0x8000)), 16);
    const __m256i exp = _mm256_and_si256(h, expMask), mant = _mm256_and_si256(h, mantMask);
    const __m256i normal = _mm256_add_epi32(_mm256_slli_epi32(_mm256_and_si256(h, _mm256_set1_epi32(0x7fff)), 13),
                                            _mm256_set1_epi32(112 << 23));
    const __m256i mantIsZero = _mm256_cmpeq_epi32(mant, _mm256_setzero_si256());
    const __m256i special = _mm256_or_si256(
        _mm256_or_si256(_mm256_set1_epi32(0x7f800000), _mm256_slli_epi32(mant, 13)),
        _mm256_andnot_si256(mantIsZero, _mm256_set1_epi32(0x400000)));
    const __m256i sub = _mm256_castps_si256(_mm256_mul_ps(_mm256_cvtepi32_ps(mant), _mm256_set1_ps(0x1p-24f)));
    __m256i r = normal;
    r = _mm256_blendv_epi8(r, special, _mm256_cmpeq_epi32(exp, expMask));
    r = _mm256_blendv_epi8(r, sub, _mm256_cmpeq_epi32(exp, _mm256_setzero_si256()));
    _mm256_storeu_si256((__m256i*)(dst + i), _mm256_or_si256(r, sign));
  }
  if (i < n) scalar::halfToFloat(src + i, n - i, dst + i);
}

// Float -> half, 8 lanes: rounding to nearest even by adding 0xfff plus the kept mantissa's lowest bit before the
// shift (normal results; a carry into the exponent gives the next binade or infinity), and by a float addition of
// 0.5 for subnormal results (the sum's last bit is worth 2^-24, the half's subnormal step). Same bits as
// scalar::floatToHalf.
void floatToHalf(const float* src, int n, uint16_t* dst) {
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i x = _mm256_loadu_si256((const __m256i*)(src + i));
    const __m256i sign = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(0x8000));
    const __m256i a = _mm256_and_si256(x, _mm256_set1_epi32(0x7fffffff));
    const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(a, 13), _mm256_set1_epi32(1));
    const __m256i normal = _mm256_srli_epi32(
        _mm256_add_epi32(_mm256_add_epi32(a, _mm256_set1_epi32(0xfff - (112 << 23))), odd), 13);
    const __m256i sub = _mm256_sub_epi32(
        _mm256_castps_si256(_mm256_add_ps(_mm256_castsi256_ps(a), _mm256_set1_ps(0.5f))), _mm256_set1_epi32(0x3f000000));
    const __m256i nan = _mm256_or_si256(_mm256_set1_epi32(0x7e00),
                                        _mm256_srli_epi32(_mm256_and_si256(a, _mm256_set1_epi32(0x7fffff)), 13));
    __m256i r = normal;
    r = _mm256_blendv_epi8(r, sub, _mm256_cmpgt_epi32(_mm256_set1_epi32(113 << 23), a));
    r = _mm256_blendv_epi8(r, _mm256_set1_epi32(0x7c00), _mm256_cmpgt_epi32(a, _mm256_set1_epi32((143 << 23) - 1)));
    r = _mm256_blendv_epi8(r, nan, _mm256_cmpgt_epi32(a, _mm256_set1_epi32(0x7f800000)));
    r = _mm256_or_si256(r, sign);
    // 8 x 32 -> 8 x 16 (values <= 0xffff): pack within each 128-bit half, then gather the two halves' results.
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08);
    _mm_storeu_si128((__m128i*)(dst + i), _mm256_castsi256_si128(packed));
  }
  if (i < n) scalar::floatToHalf(src + i, n - i, dst + i);
}

}  // namespace

const Ops& avx2Ops() {
  static const Ops ops = {Isa::Avx2,    horizontal8,  scalar::horizontal1, vertical,       yuvRow,
                          yuvRowNearest, normalizeRow, argmaxPlane,  blendArgmax,         blendRow,       argmaxRowMax,
                          argmaxVector, evalCandidates, anyAtLeast4,       split3,         merge3,
                          split2,       merge2,         halfToFloat,       floatToHalf};
  return ops;
}

}  // namespace segk

#pragma GCC pop_options

#endif
