// Internal building blocks shared by the kernel translation units: PIL resample coefficients, the YUV
// coefficients, and the per-instruction-set table of hot loops (scalar, AVX2, NEON).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "kernels.h"

namespace segk {

// Pillow's fixed-point precision for 8-bit resampling (PRECISION_BITS = 32 - 8 - 2).
constexpr int kPrecisionBits = 22;

// Coefficients of one resampling axis, exactly as Pillow's precompute_coeffs + normalize_coeffs_8bpc.
struct Coeffs {
  int inSize = 0, outSize = 0, ksize = 0;
  std::vector<int32_t> start;  // first source index per output
  std::vector<int32_t> count;  // taps per output
  std::vector<int32_t> k;      // outSize * ksize fixed-point weights (zero-padded)
  // The same weights as int16 pairs for multiply-add instructions: k = hi * 2^11 + lo with 0 <= lo < 2^11
  // (Pillow's bilinear weights are never negative). Pairs are aligned to even source columns: output x uses
  // pairCount[x] pairs of columns (2m, 2m + 1), m = pairStart[x] ..; entry x * pairSlots + j holds the weights
  // of columns 2 (pairStart[x] + j) and that + 1 (zero outside start .. start + count) as two int16 in an int32.
  int pairSlots = 0;
  std::vector<int32_t> pairStart, pairCount;
  // Outputs ordered by pairCount (then x); group g is pairOrder[pairGroups[g] .. pairGroups[g + 1]).
  std::vector<int32_t> pairOrder, pairGroups;
  std::vector<int32_t> pairHi, pairLo;
  bool identity() const { return inSize == outSize; }
};
constexpr int kSplitBits = 11;
Coeffs pilBilinearCoeffs(int inSize, int outSize);
// The coefficients of (inSize, outSize), computed once per thread and size pair (a few recent pairs kept).
const Coeffs& cachedCoeffs(int inSize, int outSize);
// Scratch bytes every instruction set's horizontal8 needs.
size_t horizontalScratchBytes(const Coeffs& c, int planes);

// Integer YUV -> RGB: chroma values arrive centred and scaled by 16 (bilinear upsampling keeps 4 fraction
// bits); each output = (yTerm + chromaTerm + 2^16) >> 17, clamped to 0..255.
struct YuvCoeffs {
  int yOffset;        // 16 for limited range, 0 for full
  int16_t cY;         // luma gain * 2^13
  int16_t cRV;        // V -> R
  int16_t cGU, cGV;   // U, V -> G (negative)
  int16_t cBU;        // U -> B
};
YuvCoeffs yuvCoeffs(Color color);
// Double-precision forward matrix (encoder) and its exact inverse (reference decode in tests).
void rgbToYuvDouble(Color color, double r, double g, double b, double* y, double* u, double* v);

// Hot loops per instruction set. Each function has the same results on every instruction set.
struct Ops {
  Isa isa;
  // Horizontal PIL pass over the same 8 rows of `planes` (1..3) planes: row r of plane p is src[8 * p + r],
  // its output dst[8 * p + r]. scratch: horizontalScratchBytes(c, planes) bytes, zero-initialised once.
  void (*horizontal8)(const uint8_t* const* src, uint8_t* const* dst, int planes, const Coeffs& c, uint8_t* scratch);
  // Horizontal PIL pass over one row (used for the tail rows and the scalar path).
  void (*horizontal1)(const uint8_t* src, uint8_t* dst, const Coeffs& c);
  // Vertical PIL pass for one output row: taps rows[i], i < n, weights k.
  void (*vertical)(const uint8_t* const* rows, int n, const int32_t* k, int width, uint8_t* dst);
  // One NV12 row to planar RGB. chroma: the vertically upsampled chroma row, interleaved UV, centred
  // (value - 128) and scaled by 4, with one replicated UV pair before index 0 and after the last pair.
  // Horizontal upsampling: bilinear 3/4 + 1/4 of the neighbour pair, or replication (x4).
  void (*yuvRow)(const uint8_t* y, const int16_t* chroma, int width, const YuvCoeffs& k, bool bilinear, uint8_t* r,
                 uint8_t* g, uint8_t* b);
  // yuvRow with replicated chroma straight from an NV12 chroma row: uv holds width / 2 (U, V) byte pairs (the
  // same result as yuvRow with chroma[i] = 4 * uv[i] - 512 and bilinear false). width is even.
  void (*yuvRowNearest)(const uint8_t* y, const uint8_t* uv, int width, const YuvCoeffs& k, uint8_t* r, uint8_t* g,
                        uint8_t* b);
  // Rescale + normalise one planar row: out[x] = ((float)(v * rescale) - mean) / std in float32.
  void (*normalizeRow)(const uint8_t* src, int width, float rescaleScale, float mean, float std, double rescale,
                       float* dst);
  // Low-res argmax step over one class plane: where plane[i] > best[i], best = plane, index = cls.
  void (*argmaxPlane)(const float* plane, int n, int cls, float* best, uint16_t* index);
  // Exact-mode vertical blend and argmax step: v = a * wa + b * wb; if v > best: best = v, index = cls.
  void (*blendArgmax)(const float* a, const float* b, float wa, float wb, int n, int cls, float* best,
                      uint16_t* index);
  // Overlay blend of one row: with tm[i] = target | mask << 8 (mask 0 or 0xFF) and alpha in 0..256,
  // dst = mask ? (src * (256 - alpha) + target * alpha + 128) >> 8 : src.
  void (*blendRow)(const uint8_t* src, const uint16_t* tm, int alpha, int n, uint8_t* dst);
  // Low-res argmax step over n pixels of one class plane, as argmaxPlane (cls 0: best = plane, index = 0
  // instead), plus the plane's maximum over each 64-pixel chunk (NaN ignored; -inf if the chunk has no number)
  // into chunkMax[0 .. ceil(n / 64)), and (copy != nullptr) a copy of the n values.
  void (*argmaxRowMax)(const float* plane, int n, int cls, float* best, uint16_t* index, float* chunkMax, float* copy);
  // Index of the first maximum of v[0 .. n) as `bi = 0; if (v[c] > v[bi]) bi = c` computes it (NHWC pixel).
  int (*argmaxVector)(const float* v, int n);
  // Boundary-mode evaluation of one cell: n output columns x `rows` output rows. For each pixel the candidate
  // with the largest (v00*wx0 + v01*wx1)*wy0 + (v10*wx0 + v11*wx1)*wy1 (first wins ties: the exact path's
  // arithmetic); its class cls[k] goes to out[r * outStride + x] (uint8, or uint16 when wide; exactly n per
  // row) and counts[k] counts the pixels candidate k wins. vals: 4 corner values per candidate; wx0/wx1
  // readable for n rounded up to 8; nc >= 1.
  void (*evalCandidates)(const float* wx0, const float* wx1, int n, const float* wy0, const float* wy1, int rows,
                         const float* vals, const uint16_t* cls, int nc, void* out, size_t outStride, bool wide,
                         uint32_t* counts);
  // Bit i (i < n <= 64) set where a[i], b[i], c[i] or d[i] >= t[i] (a NaN compares false). `top` is at least
  // every value of a, b, c, d (NaN aside): groups of elements whose thresholds all exceed it are not read.
  uint64_t (*anyAtLeast4)(const float* a, const float* b, const float* c, const float* d, const float* t, int n,
                          float top);
  // Interleaved <-> planar conversions of n pixels.
  void (*split3)(const uint8_t* src, int n, uint8_t* a, uint8_t* b, uint8_t* c);
  void (*merge3)(const uint8_t* a, const uint8_t* b, const uint8_t* c, int n, uint8_t* dst);
  void (*split2)(const uint8_t* src, int n, uint8_t* a, uint8_t* b);
  void (*merge2)(const uint8_t* a, const uint8_t* b, int n, uint8_t* dst);
  // IEEE half precision (bit patterns) <-> float32 over n values. Half -> float is exact; float -> half rounds to
  // nearest even, overflows to infinity and keeps subnormals. A NaN stays a NaN of the same sign with its top
  // payload bits and the quiet bit set (what F16C and the NEON conversions produce), on every instruction set.
  void (*halfToFloat)(const uint16_t* src, int n, float* dst);
  void (*floatToHalf)(const float* src, int n, uint16_t* dst);
};

// Scalar loops, also used by the SIMD tables for row tails.
namespace scalar {
void horizontal1(const uint8_t* src, uint8_t* dst, const Coeffs& c);
void hcolumns(const uint8_t* t, uint8_t* o, const Coeffs& c, int x0, int x1);
void vertical(const uint8_t* const* rows, int n, const int32_t* k, int width, uint8_t* dst);
void yuvRow(const uint8_t* y, const int16_t* chroma, int width, const YuvCoeffs& k, bool bilinear, uint8_t* r,
            uint8_t* g, uint8_t* b);
void yuvRowNearest(const uint8_t* y, const uint8_t* uv, int width, const YuvCoeffs& k, uint8_t* r, uint8_t* g,
                   uint8_t* b);
void normalizeRow(const uint8_t* src, int width, float rescaleScale, float mean, float std, double rescale,
                  float* dst);
void argmaxPlane(const float* plane, int n, int cls, float* best, uint16_t* index);
void blendArgmax(const float* a, const float* b, float wa, float wb, int n, int cls, float* best, uint16_t* index);
void blendRow(const uint8_t* src, const uint16_t* tm, int alpha, int n, uint8_t* dst);
void argmaxRowMax(const float* plane, int n, int cls, float* best, uint16_t* index, float* chunkMax, float* copy);
// argmaxRowMax's element loop over [i, e), continuing the running maximum m; returns the new maximum. Shared by
// every ISA for the row tails so the tie and copy rules cannot drift apart.
inline float argmaxRowSpan(const float* plane, int i, int e, int cls, float* best, uint16_t* index, float* copy,
                           float m) {
  for (; i < e; ++i) {
    const float v = plane[i];
    if (copy) copy[i] = v;
    m = v > m ? v : m;
    if (cls == 0) {
      best[i] = v;
      index[i] = 0;
    } else if (v > best[i]) {
      best[i] = v;
      index[i] = (uint16_t)cls;
    }
  }
  return m;
}
int argmaxVector(const float* v, int n);
void evalCandidates(const float* wx0, const float* wx1, int n, const float* wy0, const float* wy1, int rows,
                    const float* vals, const uint16_t* cls, int nc, void* out, size_t outStride, bool wide,
                    uint32_t* counts);
uint64_t anyAtLeast4(const float* a, const float* b, const float* c, const float* d, const float* t, int n,
                     float top);
void split3(const uint8_t* src, int n, uint8_t* a, uint8_t* b, uint8_t* c);
void merge3(const uint8_t* a, const uint8_t* b, const uint8_t* c, int n, uint8_t* dst);
void split2(const uint8_t* src, int n, uint8_t* a, uint8_t* b);
void merge2(const uint8_t* a, const uint8_t* b, int n, uint8_t* dst);
void halfToFloat(const uint16_t* src, int n, float* dst);
void floatToHalf(const float* src, int n, uint16_t* dst);
// 8 rows <-> column-major blocks (8 bytes per column: one byte per row), columns [x0, x1).
void rowsToCols(const uint8_t* const* rows, int x0, int x1, uint8_t* cols);
void colsToRows(const uint8_t* cols, int x0, int x1, uint8_t* const* rows);
}  // namespace scalar

const Ops& opsFor(Isa isa);
const Ops& scalarOps();
#if defined(__x86_64__) || defined(_M_X64)
const Ops& avx2Ops();
#endif
#if defined(__aarch64__)
const Ops& neonOps();
#endif

// Generic separable resampler: pulls planar source rows, runs Pillow's horizontal then vertical pass
// (8-bit rounding between passes, as Pillow does), pushes planar output rows.
class RowSource {
 public:
  virtual ~RowSource() = default;
  // Makes planar rows of source row y available: either fills scratch[p] (inW bytes each) and points out[p]
  // at it, or points out[p] at existing memory.
  virtual void row(int y, uint8_t* const* scratch, const uint8_t** out) = 0;
};
class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual void row(int y, const uint8_t* const* planes) = 0;
};
// Output rows [outBegin, outEnd) only (the source rows they read are decoded): ranges can run in parallel,
// each with its own source and sink.
void resamplePlanar(RowSource& src, int planes, int inW, int inH, int outW, int outH, RowSink& sink,
                    const Ops& ops, int outBegin = 0, int outEnd = -1);

// Runs job(begin, end) over up to `threads` contiguous ranges covering [0, n), each at least minRange long
// (except a lone range), the first on the calling thread; rethrows the first exception after every range ends.
void runSplit(int threads, int n, int minRange, const std::function<void(int begin, int end)>& job);

}  // namespace segk
