// Post-processing of segmentation logits into a class map: low-res argmax, the exact reference (bilinear
// upsample of the logits with align_corners=False, as torch.nn.functional.interpolate, then argmax), and a
// boundary-exact method that interpolates only where the low-res neighbourhood disagrees.
#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <vector>

#include "internal.h"

namespace segk {

namespace {

// Float view of logits: value(c, y, x).
struct Grid {
  const float* data;
  size_t cStride, yStride, xStride;
  float at(int c, int y, int x) const { return data[c * cStride + y * yStride + x * xStride]; }
};

Grid gridOf(const float* data, const ArgmaxSpec& s) {
  if (s.nhwc) return Grid{data, 1, (size_t)s.width * s.classes, (size_t)s.classes};
  return Grid{data, (size_t)s.width * s.height, (size_t)s.width, 1};
}

// One axis of torch's upsample_bilinear2d (align_corners=False, no scale factor), in float like torch's CPU
// kernel for float tensors.
struct Axis {
  std::vector<int> i0, i1;
  std::vector<float> w0, w1;
};
Axis linearAxis(int inSize, int outSize) {
  Axis a;
  a.i0.resize(outSize);
  a.i1.resize(outSize);
  a.w0.resize(outSize);
  a.w1.resize(outSize);
  const float scale = (float)inSize / (float)outSize;
  for (int d = 0; d < outSize; ++d) {
    if (inSize == outSize) {
      a.i0[d] = a.i1[d] = d;
      a.w0[d] = 1.0f;
      a.w1[d] = 0.0f;
      continue;
    }
    float src = scale * ((float)d + 0.5f) - 0.5f;
    if (src < 0.0f) src = 0.0f;
    int i0 = std::min((int)std::floor(src), inSize - 1);
    float l1 = std::min(std::max(src - (float)i0, 0.0f), 1.0f);
    a.i0[d] = i0;
    a.i1[d] = i0 + (i0 < inSize - 1 ? 1 : 0);
    a.w1[d] = l1;
    a.w0[d] = 1.0f - l1;
  }
  return a;
}

bool uniformQuant(const ArgmaxSpec& s) { return s.nScales <= 1 && s.nZeroPoints <= 1; }

template <typename T>
float dequant(T q, int c, const ArgmaxSpec& s) {
  const float scale = s.nScales == 0 ? 1.0f : s.scales[s.nScales == 1 ? 0 : c];
  const int64_t zp = s.nZeroPoints == 0 ? 0 : s.zeroPoints[s.nZeroPoints == 1 ? 0 : c];
  return (float)((int64_t)q - zp) * scale;
}

template <typename T>
void dequantizeAll(const T* q, const ArgmaxSpec& s, float* out) {
  const size_t pixels = (size_t)s.width * s.height;
  for (int c = 0; c < s.classes; ++c) {
    const float scale = s.nScales == 0 ? 1.0f : s.scales[s.nScales == 1 ? 0 : c];
    const int64_t zp = s.nZeroPoints == 0 ? 0 : s.zeroPoints[s.nZeroPoints == 1 ? 0 : c];
    if (s.nhwc) {
      for (size_t i = 0; i < pixels; ++i) out[i * s.classes + c] = (float)((int64_t)q[i * s.classes + c] - zp) * scale;
    } else if (sizeof(T) < 4 && zp >= -32768 && zp <= 32767) {
      // int8/int16 minus a small zero point cannot overflow int32: a loop the compiler vectorises.
      const T* src = q + c * pixels;
      float* dst = out + c * pixels;
      const int32_t z = (int32_t)zp;
      for (size_t i = 0; i < pixels; ++i) dst[i] = (float)((int32_t)src[i] - z) * scale;
    } else {
      const T* src = q + c * pixels;
      float* dst = out + c * pixels;
      for (size_t i = 0; i < pixels; ++i) dst[i] = (float)((int64_t)src[i] - zp) * scale;
    }
  }
}

// Low-res argmax of float logits (first maximum wins, like torch.argmax).
void argmaxFloat(const Grid& g, const ArgmaxSpec& s, uint16_t* idx, const Ops& ops) {
  const int n = s.width * s.height;
  if (!s.nhwc) {
    std::vector<float> best(g.data, g.data + n);
    std::fill(idx, idx + n, 0);
    for (int c = 1; c < s.classes; ++c) ops.argmaxPlane(g.data + (size_t)c * n, n, c, best.data(), idx);
    return;
  }
  for (int i = 0; i < n; ++i) {
    const float* v = g.data + (size_t)i * s.classes;
    float best = v[0];
    int bi = 0;
    for (int c = 1; c < s.classes; ++c)
      if (v[c] > best) {
        best = v[c];
        bi = c;
      }
    idx[i] = (uint16_t)bi;
  }
}

// Low-res argmax of integer logits. With one scale and zero point the raw integers order like the
// dequantised values (scales are positive); per-class quantisation compares dequantised values.
template <typename T>
void argmaxInt(const T* q, const ArgmaxSpec& s, uint16_t* idx) {
  const int n = s.width * s.height;
  if (!uniformQuant(s)) {
    // Per-class quantisation: compare dequantised values (plane by plane for NCHW).
    std::vector<float> plane(n), best(n);
    const ArgmaxSpec one = [&] {
      ArgmaxSpec t = s;
      t.nhwc = false;
      return t;
    }();
    for (int c = 0; c < s.classes; ++c) {
      for (int i = 0; i < n; ++i) plane[i] = dequant(s.nhwc ? q[(size_t)i * s.classes + c] : q[(size_t)c * n + i], c, one);
      if (c == 0) {
        best = plane;
        std::fill(idx, idx + n, 0);
      } else {
        for (int i = 0; i < n; ++i)
          if (plane[i] > best[i]) {
            best[i] = plane[i];
            idx[i] = (uint16_t)c;
          }
      }
    }
    return;
  }
  // One scale and zero point: the raw integers order like the dequantised values (scales are positive).
  if (!s.nhwc) {
    std::vector<T> best(q, q + n);
    std::fill(idx, idx + n, 0);
    for (int c = 1; c < s.classes; ++c) {
      const T* p = q + (size_t)c * n;
      for (int i = 0; i < n; ++i) {
        const bool gt = p[i] > best[i];
        best[i] = gt ? p[i] : best[i];
        idx[i] = gt ? (uint16_t)c : idx[i];
      }
    }
    return;
  }
  for (int i = 0; i < n; ++i) {
    const T* v = q + (size_t)i * s.classes;
    T best = v[0];
    int bi = 0;
    for (int c = 1; c < s.classes; ++c)
      if (v[c] > best) {
        best = v[c];
        bi = c;
      }
    idx[i] = (uint16_t)bi;
  }
}

// Output class map + histogram, written directly (element type uint8 or uint16).
template <typename Out>
struct MapOut {
  Out* data;
  int width;
  uint32_t* hist;
  Out* row(int y) const { return data + (size_t)y * width; }
  // Fills [x0, x1) of row r with c and counts it `rows` times (the row is copied rows - 1 times by the caller).
  void fill(Out* r, int x0, int x1, int c, int rows = 1) const {
    std::fill(r + x0, r + x1, (Out)c);
    hist[c] += (uint32_t)(x1 - x0) * (uint32_t)rows;
  }
  void put(Out* r, const uint16_t* idx, int x0, int n) const {
    // Counted per run of equal ids: incrementing one bin pixel by pixel serialises on that counter.
    int run = 0;
    for (int i = 0; i < n; ++i) {
      r[x0 + i] = (Out)idx[i];
      if (i > 0 && idx[i] != idx[i - 1]) {
        hist[idx[i - 1]] += (uint32_t)(i - run);
        run = i;
      }
    }
    if (n > 0) hist[idx[n - 1]] += (uint32_t)(n - run);
  }
};

// Low-res map scaled by nearest neighbour (pixel centres): runs per source column, repeated rows copied.
template <typename Out>
void writeNearest(const uint16_t* low, int W, int H, const MapOut<Out>& out, int outW, int outH) {
  std::vector<int> runStart(W + 1, outW);
  for (int x = outW - 1; x >= 0; --x) runStart[nearestIndex(x, W, outW)] = x;
  for (int sx = W - 1; sx >= 0; --sx)
    if (runStart[sx] > runStart[sx + 1]) runStart[sx] = runStart[sx + 1];  // columns no output samples
  int prev = -1;
  for (int y = 0; y < outH; ++y) {
    const int sy = nearestIndex(y, H, outH);
    Out* r = out.row(y);
    const uint16_t* s = low + (size_t)sy * W;
    if (sy == prev) {
      std::copy(r - outW, r, r);
      for (int sx = 0; sx < W; ++sx) out.hist[s[sx]] += (uint32_t)(runStart[sx + 1] - runStart[sx]);
    } else {
      for (int sx = 0; sx < W; ++sx) out.fill(r, runStart[sx], runStart[sx + 1], s[sx]);
    }
    prev = sy;
  }
}

// Exact reference: separable interpolation, the horizontal step cached per low-res row.
template <typename Out>
void argmaxExact(const Grid& g, const ArgmaxSpec& s, int outW, int outH, const MapOut<Out>& out, const Ops& ops) {
  const Axis ax = linearAxis(s.width, outW), ay = linearAxis(s.height, outH);
  const size_t rowSize = (size_t)s.classes * outW;
  std::vector<float> slot[2] = {std::vector<float>(rowSize), std::vector<float>(rowSize)};
  int slotRow[2] = {-1, -1};
  auto rowOf = [&](int r, int keep) -> const float* {
    for (int i = 0; i < 2; ++i)
      if (slotRow[i] == r) return slot[i].data();
    const int i = slotRow[0] == keep ? 1 : 0;
    float* d = slot[i].data();
    for (int c = 0; c < s.classes; ++c)
      for (int x = 0; x < outW; ++x)
        d[(size_t)c * outW + x] = g.at(c, r, ax.i0[x]) * ax.w0[x] + g.at(c, r, ax.i1[x]) * ax.w1[x];
    slotRow[i] = r;
    return d;
  };
  std::vector<float> best(outW);
  std::vector<uint16_t> idx(outW);
  for (int y = 0; y < outH; ++y) {
    const int y0 = ay.i0[y], y1 = ay.i1[y];
    const float* a = rowOf(y0, y1);
    const float* b = rowOf(y1, y0);
    std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
    std::fill(idx.begin(), idx.end(), 0);
    for (int c = 0; c < s.classes; ++c)
      ops.blendArgmax(a + (size_t)c * outW, b + (size_t)c * outW, ay.w0[y], ay.w1[y], outW, c, best.data(), idx.data());
    out.put(out.row(y), idx.data(), 0, outW);
  }
}

// Largest float <= v (v finite).
float floatAtMost(double v) {
  float f = (float)v;
  if ((double)f > v) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  return f;
}

// Admission threshold of a disagreeing cell whose corner winners give LB' = max over winners of their smallest
// corner value: a class whose largest corner value is below it can neither win nor tie anywhere in the cell.
// In real arithmetic LB' itself would do (a convex combination of values below LB' stays below the winner's
// blend); the margin covers float rounding: each blend is a monotone function of its corner values whose
// result is within 6 ulp-units (2^-21.4 relative) of a constant corner value, so the excluded class's blend
// stays below LB' - 2^-19 |LB'| + 2^-21 |.| < the winner's blend. 2^-120 covers underflowing products.
float admissionThreshold(float lowerBound) {
  const double lb = lowerBound;
  return floatAtMost(lb - std::fabs(lb) * 0x1p-19 - 0x1p-120);
}

// Largest magnitude of a cell's four corner values at which the float blends cannot overflow or be NaN.
constexpr float kTame = 0x1p125f;
float absMax4(const float* v) {
  return std::max(std::max(std::fabs(v[0]), std::fabs(v[1])), std::max(std::fabs(v[2]), std::fabs(v[3])));
}

// True when candidate c (corner values v, all of magnitude <= kTame) can be dropped because class d (corner
// values dv, also tame) dominates it at all four corners. Every blend is a monotone function of the corner
// values with the same weights, so with v <= dv a class is never above d and, when d is the lower class,
// loses ties to it; against a higher class d the corners must be lower by more than the blends' rounding
// error: 2^-18 (|v| + |dv|) + 2^-120, four times the bound used in admissionThreshold, which also covers the
// rounding of this test.
bool dominatedBy(int c, const float* v, float vAbs, int d, const float* dv, float dAbs) {
  if (d < c) return dv[0] >= v[0] && dv[1] >= v[1] && dv[2] >= v[2] && dv[3] >= v[3];
  const float margin = (vAbs + dAbs) * 0x1p-18f + 0x1p-120f;
  return dv[0] - v[0] > margin && dv[1] - v[1] > margin && dv[2] - v[2] > margin && dv[3] - v[3] > margin;
}

// Boundary-exact post-processing. Where the four low-res neighbours of a cell share the argmax, every
// bilinear blend inside the cell has that argmax too (a convex combination keeps l_a >= l_c). Elsewhere only
// candidate classes are interpolated, with the exact path's arithmetic and tie rule (lowest class wins):
// a class whose corner values are all below the cell's admission threshold T (see admissionThreshold) never
// wins there, nor does a class a corner winner dominates (dominatedBy), so the result equals the exact path's.
//
// Logits are processed in bands of low-res rows so that the second look at a band is served from cache (the
// last-level cache: a row of every class plane lies at the same offset of its plane, and planes are often a
// power of two apart, so they evict each other from L1/L2):
//   1. argmax of the band's new rows (the next planes' rows prefetched), and (NCHW) each class's maximum over
//      every 64-pixel chunk of a row;
//   2. per disagreeing cell its corner winners' smallest corner values give T;
//   3. each disagreeing cell collects, in class order and with their four corner values, the classes with a
//      corner value >= T: NCHW compares a class's two rows against the T of 8 cells at a time, skipping
//      (class, chunk) pairs whose chunk maxima are below every T of the chunk (most classes are far below
//      everywhere); NHWC compares a cell's four contiguous class vectors;
//   4. output rows of a cell row: agreeing cells are written as runs into the first row, which is copied to the
//      cell row's other output rows; each disagreeing cell's candidates (winners kept, dominated classes
//      dropped) are evaluated over its block of pixels. A cell with more than kCap candidates scans every
//      class; a cell whose winners have non-finite or huge corner values takes every class (no bound is
//      proven there).
//
// Only the cell rows [cellBegin, cellEnd) and their output rows: ranges can run in parallel (each with its own
// histogram).
template <typename Out>
void argmaxBoundary(const Grid& g, const ArgmaxSpec& s, int outW, int outH, const MapOut<Out>& out, const Ops& ops,
                    int cellBegin, int cellEnd) {
  const int W = s.width, H = s.height, C = s.classes;
  const Axis ax = linearAxis(W, outW), ay = linearAxis(H, outH);
  std::vector<int> x1Of(W), y1Of(H);
  for (int x = 0; x < W; ++x) x1Of[x] = W == outW ? x : std::min(x + 1, W - 1);
  for (int y = 0; y < H; ++y) y1Of[y] = H == outH ? y : std::min(y + 1, H - 1);
  // Output columns of each cell (ax.i0 is non-decreasing).
  std::vector<int> segBegin(W, 0), segEnd(W, 0);
  for (int x = outW - 1; x >= 0; --x) segBegin[ax.i0[x]] = x;
  for (int x = 0; x < outW; ++x) segEnd[ax.i0[x]] = x + 1;
  std::vector<float> wx0(outW + 8, 0.0f), wx1(outW + 8, 0.0f);
  std::copy(ax.w0.begin(), ax.w0.end(), wx0.begin());
  std::copy(ax.w1.begin(), ax.w1.end(), wx1.begin());

  const bool nchw = !s.nhwc;
  const int xStep = W == outW ? 0 : 1;  // x1 - x0 inside the image (0: no horizontal interpolation)
  constexpr int kBand = 4;   // cell rows per band
  constexpr int kRing = kBand + 1;
  constexpr int kCap = 16;   // candidates stored per cell before falling back to a full scan
  constexpr int kChunk = 64; // pixels per chunk maximum
  const int chunksPerRow = (W + kChunk - 1) / kChunk;
  const size_t plane = (size_t)W * H;
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();

  const auto rowOf = [&](int c, int y) -> const float* { return g.data + c * plane + (size_t)y * W; };

  std::vector<uint16_t> low(plane);
  std::vector<float> best((size_t)kRing * W);
  // NCHW: chunk maxima of the rows in the band, ring-indexed by row: [class][row % kRing][chunk].
  std::vector<float> chunkMax(nchw ? (size_t)C * kRing * chunksPerRow : 0), callMax((size_t)kRing * chunksPerRow);
  int lowDone = cellBegin;  // rows [cellBegin, lowDone) of `low` are computed

  // Per cell of the band: class if the corners agree, kDisagree (candidates collected) or kAllClasses; T (NaN
  // where nothing is collected); collected candidates.
  constexpr int kDisagree = -1, kAllClasses = -2;
  const size_t bandCells = (size_t)kBand * W;
  std::vector<int> cellClass(bandCells);
  std::vector<float> cellT(bandCells), minT((size_t)kBand * chunksPerRow);
  std::vector<uint8_t> candCount(bandCells);  // kCap + 1: more than kCap
  struct Work {
    int c, y0, chunk;
    float bound;
  };
  std::vector<Work> work;
  std::vector<uint16_t> bandCls(bandCells * kCap);
  std::vector<float> bandVals(bandCells * kCap * 4), tFill(64);
  // Candidates of the cell being written (class ids ascending, 4 corner values each).
  std::vector<uint16_t> candCls(C);
  std::vector<float> candVals((size_t)4 * C);
  std::vector<uint32_t> counts(C);
  int nextY = (int)(std::lower_bound(ay.i0.begin(), ay.i0.end(), cellBegin) - ay.i0.begin());

  const auto cornerValues = [&](int c, int y0, int y1, int x0, int x1, float* v) {
    if (nchw) {
      const float* r0 = rowOf(c, y0);
      const float* r1 = rowOf(c, y1);
      v[0] = r0[x0], v[1] = r0[x1], v[2] = r1[x0], v[3] = r1[x1];
    } else {
      v[0] = g.at(c, y0, x0), v[1] = g.at(c, y0, x1), v[2] = g.at(c, y1, x0), v[3] = g.at(c, y1, x1);
    }
  };
  const auto collect = [&](size_t cell, int c, const float* v) {
    const int n = candCount[cell];
    if (n < kCap) {
      bandCls[cell * kCap + n] = (uint16_t)c;
      std::copy(v, v + 4, &bandVals[(cell * kCap + n) * 4]);
    }
    if (n <= kCap) candCount[cell] = (uint8_t)(n + 1);
  };

  for (int cb = cellBegin; cb < cellEnd; cb += kBand) {
    const int ce = std::min(cellEnd, cb + kBand);
    const int rEnd = y1Of[ce - 1] + 1;  // pixel rows [cb, rEnd)
    // 1. Argmax (and chunk maxima) of the rows not yet seen.
    if (lowDone < rEnd) {
      const int r0 = std::max(lowDone, cb);
      const int rows = rEnd - r0;
      if (nchw) {
        const bool whole = W % kChunk == 0;  // chunks never straddle rows: one call per class
        // The next planes' rows are fetched ahead: short strided segments defeat the hardware prefetcher.
        constexpr int kAhead = 4;
        const size_t segBytes = (size_t)rows * W * sizeof(float);
        for (int c = 0; c < C; ++c) {
          const float* src = g.data + c * plane;
          if (c + kAhead < C) {
            const char* ahead = (const char*)(src + kAhead * plane + (size_t)r0 * W);
            for (size_t o = 0; o < segBytes; o += 64) __builtin_prefetch(ahead + o);
          }
          if (whole) {
            ops.argmaxRowMax(src + (size_t)r0 * W, rows * W, c, best.data(), &low[(size_t)r0 * W], callMax.data(), nullptr);
          } else {
            for (int r = 0; r < rows; ++r)
              ops.argmaxRowMax(src + (size_t)(r0 + r) * W, W, c, best.data() + (size_t)r * W, &low[(size_t)(r0 + r) * W],
                               callMax.data() + (size_t)r * chunksPerRow, nullptr);
          }
          for (int r = 0; r < rows; ++r)
            std::copy(&callMax[(size_t)r * chunksPerRow], &callMax[(size_t)(r + 1) * chunksPerRow],
                      &chunkMax[((size_t)c * kRing + (r0 + r) % kRing) * chunksPerRow]);
        }
      } else {
        for (int i = r0 * W; i < rEnd * W; ++i) low[i] = (uint16_t)ops.argmaxVector(g.data + (size_t)i * C, C);
      }
      lowDone = rEnd;
    }

    // 2. Cells of the band: agreement and admission thresholds.
    std::fill(minT.begin(), minT.end(), inf);
    bool anyCollect = false;
    for (int y0 = cb; y0 < ce; ++y0) {
      const int y1 = y1Of[y0];
      for (int x0 = 0; x0 < W; ++x0) {
        const int x1 = x1Of[x0];
        const uint16_t w[4] = {low[(size_t)y0 * W + x0], low[(size_t)y0 * W + x1], low[(size_t)y1 * W + x0],
                               low[(size_t)y1 * W + x1]};
        const size_t cell = (size_t)(y0 - cb) * W + x0;
        candCount[cell] = 0;
        cellT[cell] = nan;
        if (w[1] == w[0] && w[2] == w[0] && w[3] == w[0]) {
          cellClass[cell] = w[0];
          continue;
        }
        float bound = -inf;
        bool tame = true;
        for (int k = 0; k < 4; ++k) {
          if ((k > 0 && w[k] == w[0]) || (k > 1 && w[k] == w[1]) || (k > 2 && w[k] == w[2])) continue;
          float v[4];
          cornerValues(w[k], y0, y1, x0, x1, v);
          tame = tame && absMax4(v) <= kTame;  // false for NaN
          bound = std::max(bound, std::min(std::min(v[0], v[1]), std::min(v[2], v[3])));
        }
        if (!tame) {
          cellClass[cell] = kAllClasses;
          continue;
        }
        cellClass[cell] = kDisagree;
        const float t = admissionThreshold(bound);
        cellT[cell] = t;
        float& m = minT[(size_t)(y0 - cb) * chunksPerRow + x0 / kChunk];
        m = std::min(m, t);
        anyCollect = true;
      }
    }

    // 3. Candidates of the disagreeing cells, in class order, with their corner values.
    if (anyCollect && nchw) {
      // (class, cell row, chunk) triples whose chunk maxima reach the chunk's smallest T, in class order; their
      // rows are fetched a few triples ahead (the band is no longer in L2: every class's row lies at the same
      // offset of a plane, and planes are often a power of two apart).
      work.clear();
      for (int c = 0; c < C; ++c)
        for (int y0 = cb; y0 < ce; ++y0) {
          const int y1 = y1Of[y0];
          const float* cm0 = &chunkMax[((size_t)c * kRing + y0 % kRing) * chunksPerRow];
          const float* cm1 = &chunkMax[((size_t)c * kRing + y1 % kRing) * chunksPerRow];
          for (int k = 0; k < chunksPerRow; ++k) {
            // The chunk's cells read pixels [xs, xe] (xe, the right neighbour of the last cell, belongs to the
            // next chunk): skip unless a maximum reaches the chunk's smallest T. The logits themselves are read
            // only when the next chunk's maximum does and this chunk's does not.
            const float mt = minT[(size_t)(y0 - cb) * chunksPerRow + k];
            const float here = std::max(cm0[k], cm1[k]);
            const int xe = std::min(W, (k + 1) * kChunk);
            const float next = xe < W && xStep ? std::max(cm0[k + 1], cm1[k + 1]) : -inf;
            bool pass = here >= mt;
            if (!pass && next >= mt) pass = std::max(rowOf(c, y0)[xe], rowOf(c, y1)[xe]) >= mt;
            if (pass) work.push_back(Work{c, y0, k, std::max(here, next)});
          }
        }
      constexpr size_t kAhead = 6;
      const auto prefetch = [&](const Work& w) {
        const int xs = w.chunk * kChunk, n = std::min(W, xs + kChunk + 1) - xs;
        for (const float* row : {rowOf(w.c, w.y0) + xs, rowOf(w.c, y1Of[w.y0]) + xs})
          for (int i = 0; i < n; i += 16) __builtin_prefetch(row + i);
      };
      for (size_t i = 0; i < std::min(kAhead, work.size()); ++i) prefetch(work[i]);
      for (size_t i = 0; i < work.size(); ++i) {
        if (i + kAhead < work.size()) prefetch(work[i + kAhead]);
        const Work& w = work[i];
        const int c = w.c, y0 = w.y0, y1 = y1Of[y0];
        const float* row0 = rowOf(c, y0);
        const float* row1 = rowOf(c, y1);
        const size_t cellRow = (size_t)(y0 - cb) * W;
        const int xs = w.chunk * kChunk, xe = std::min(W, xs + kChunk);
        // Cells whose right neighbour is inside the chunk's reach; the image's last column has x1 = x0.
        const int n = (xe == W && xStep ? xe - 1 : xe) - xs;
        uint64_t m = n > 0 ? ops.anyAtLeast4(row0 + xs, row0 + xs + xStep, row1 + xs, row1 + xs + xStep,
                                             &cellT[cellRow + xs], n, w.bound)
                           : 0;
        for (; m; m &= m - 1) {
          const int x0 = xs + __builtin_ctzll(m);
          const float v[4] = {row0[x0], row0[x0 + xStep], row1[x0], row1[x0 + xStep]};
          collect(cellRow + x0, c, v);
        }
        if (xe == W && xStep) {  // last column: x1 = x0
          const int x0 = W - 1;
          const float t = cellT[cellRow + x0];
          if (row0[x0] >= t || row1[x0] >= t) {
            const float v[4] = {row0[x0], row0[x0], row1[x0], row1[x0]};
            collect(cellRow + x0, c, v);
          }
        }
      }
    } else if (anyCollect) {
      for (int y0 = cb; y0 < ce; ++y0) {
        const int y1 = y1Of[y0];
        for (int x0 = 0; x0 < W; ++x0) {
          const size_t cell = (size_t)(y0 - cb) * W + x0;
          if (cellClass[cell] != kDisagree) continue;
          const int x1 = x1Of[x0];
          const float* p[4] = {g.data + ((size_t)y0 * W + x0) * C, g.data + ((size_t)y0 * W + x1) * C,
                               g.data + ((size_t)y1 * W + x0) * C, g.data + ((size_t)y1 * W + x1) * C};
          std::fill(tFill.begin(), tFill.end(), cellT[cell]);
          for (int c0 = 0; c0 < C; c0 += 64)
            for (uint64_t m = ops.anyAtLeast4(p[0] + c0, p[1] + c0, p[2] + c0, p[3] + c0, tFill.data(),
                                              std::min(64, C - c0), inf);
                 m; m &= m - 1) {
              const int c = c0 + __builtin_ctzll(m);
              const float v[4] = {p[0][c], p[1][c], p[2][c], p[3][c]};
              collect(cell, c, v);
            }
        }
      }
    }

    // 4. Output rows whose upper low-res row lies in this band, one cell row at a time.
    while (nextY < outH && ay.i0[nextY] < ce) {
      const int y0 = ay.i0[nextY], y1 = y1Of[y0];
      int rowsEnd = nextY;
      while (rowsEnd < outH && ay.i0[rowsEnd] == y0) ++rowsEnd;
      const int rows = rowsEnd - nextY;
      const size_t cellRow = (size_t)(y0 - cb) * W;
      // Agreeing cells as runs of equal classes in the first output row.
      Out* first = out.row(nextY);
      int runStart = 0, runClass = -1, runEnd = 0;
      const auto flush = [&] {
        if (runClass >= 0) out.fill(first, runStart, runEnd, runClass, rows);
      };
      for (int x0 = 0; x0 < W; ++x0) {
        const int xb = segBegin[x0], xe = segEnd[x0];
        if (xe <= xb) continue;
        const int known = cellClass[cellRow + x0];
        if (known >= 0 && known == runClass && xb == runEnd) {
          runEnd = xe;
          continue;
        }
        flush();
        runClass = known;
        runStart = xb;
        runEnd = xe;
      }
      flush();
      for (int y = nextY + 1; y < rowsEnd; ++y) std::copy(first, first + outW, out.row(y));
      // Disagreeing cells: candidates, then their block of output pixels.
      for (int x0 = 0; x0 < W; ++x0) {
        const int xb = segBegin[x0], xe = segEnd[x0];
        const size_t cell = cellRow + x0;
        const int kind = cellClass[cell];
        if (xe <= xb || kind >= 0) continue;
        const int x1 = x1Of[x0];
        int nc = 0;
        if (kind == kAllClasses) {
          for (int c = 0; c < C; ++c) {
            cornerValues(c, y0, y1, x0, x1, &candVals[(size_t)4 * nc]);
            candCls[nc++] = (uint16_t)c;
          }
        } else {
          const float t = cellT[cell];
          const int w4[4] = {low[(size_t)y0 * W + x0], low[(size_t)y0 * W + x1], low[(size_t)y1 * W + x0],
                             low[(size_t)y1 * W + x1]};
          const auto isWinner = [&](int c) { return c == w4[0] || c == w4[1] || c == w4[2] || c == w4[3]; };
          const bool overflow = candCount[cell] > kCap;
          if (overflow) {  // every class with a corner value >= T
            for (int c = 0; c < C; ++c) {
              float* v = &candVals[(size_t)4 * nc];
              cornerValues(c, y0, y1, x0, x1, v);
              if (v[0] >= t || v[1] >= t || v[2] >= t || v[3] >= t) candCls[nc++] = (uint16_t)c;
            }
          } else {
            nc = candCount[cell];
            std::copy(&bandCls[cell * kCap], &bandCls[cell * kCap + nc], candCls.begin());
            std::copy(&bandVals[cell * kCap * 4], &bandVals[(cell * kCap + nc) * 4], candVals.begin());
          }
          // Drop the classes a corner winner dominates (the winners are among the candidates, tame).
          if (nc > 2) {
            int win[4], nw = 0;
            float winVals[16], winAbs[4];
            for (int i = 0; i < nc && nw < 4; ++i)
              if (isWinner(candCls[i])) {
                win[nw] = candCls[i];
                std::copy(&candVals[(size_t)4 * i], &candVals[(size_t)4 * i + 4], &winVals[4 * nw]);
                winAbs[nw] = absMax4(&winVals[4 * nw]);
                ++nw;
              }
            int kept = 0;
            for (int i = 0; i < nc; ++i) {
              const float* v = &candVals[(size_t)4 * i];
              bool drop = false;
              if (!isWinner(candCls[i])) {
                const float vAbs = absMax4(v);
                for (int j = 0; j < nw && !drop && vAbs <= kTame; ++j)
                  drop = dominatedBy(candCls[i], v, vAbs, win[j], &winVals[4 * j], winAbs[j]);
              }
              if (drop) continue;
              if (kept != i) {  // kept < i: moving down never overwrites an unread candidate
                candCls[kept] = candCls[i];
                std::copy(v, v + 4, &candVals[(size_t)4 * kept]);
              }
              ++kept;
            }
            nc = kept;
          }
        }
        std::fill(counts.begin(), counts.begin() + nc, 0u);
        ops.evalCandidates(&wx0[xb], &wx1[xb], xe - xb, &ay.w0[nextY], &ay.w1[nextY], rows, candVals.data(),
                           candCls.data(), nc, out.row(nextY) + xb, (size_t)outW, sizeof(Out) == 2, counts.data());
        for (int k = 0; k < nc; ++k) out.hist[candCls[k]] += counts[k];
      }
      nextY = rowsEnd;
    }
  }
}

}  // namespace

namespace {
template <typename Out>
void argmaxInto(const void* logits, const float* floats, const ArgmaxSpec& s, const ClassMapMut& map, uint32_t* hist,
                const Ops& ops) {
  std::fill(hist, hist + s.classes, 0u);
  const MapOut<Out> out{(Out*)map.data, map.width, hist};
  if (s.mode == PostMode::LowRes || (s.outW == s.width && s.outH == s.height)) {
    std::vector<uint16_t> idx((size_t)s.width * s.height);
    if (floats)
      argmaxFloat(gridOf(floats, s), s, idx.data(), ops);
    else if (s.type == LogitType::I8)
      argmaxInt((const int8_t*)logits, s, idx.data());
    else if (s.type == LogitType::I16)
      argmaxInt((const int16_t*)logits, s, idx.data());
    else
      argmaxInt((const int32_t*)logits, s, idx.data());
    writeNearest(idx.data(), s.width, s.height, out, s.outW, s.outH);
  } else if (s.mode == PostMode::Exact) {
    argmaxExact(gridOf(floats, s), s, s.outW, s.outH, out, ops);
  } else {
    // Ranges of logit rows in parallel, each counting into its own histogram.
    std::mutex merge;
    runSplit(s.threads, s.height, 8, [&](int begin, int end) {
      std::vector<uint32_t> local(s.classes, 0);
      argmaxBoundary(gridOf(floats, s), s, s.outW, s.outH, MapOut<Out>{out.data, out.width, local.data()}, ops, begin, end);
      std::lock_guard<std::mutex> lock(merge);
      for (int c = 0; c < s.classes; ++c) hist[c] += local[c];
    });
  }
}
}  // namespace

void argmax(const void* logits, const ArgmaxSpec& s, const ClassMapMut& out, uint32_t* histogram, Isa isa) {
  const Ops& ops = opsFor(isa);
  const size_t total = (size_t)s.classes * s.width * s.height;
  const bool upsampled = s.mode != PostMode::LowRes && !(s.outW == s.width && s.outH == s.height);
  std::vector<float> dequantised;
  const float* floats = nullptr;
  if (s.type == LogitType::F32) {
    floats = (const float*)logits;
  } else if (s.type == LogitType::F16) {
    // Widening is exact, so every mode gives what it gives on the same logits in float32.
    dequantised.resize(total);
    halfToFloat((const uint16_t*)logits, total, dequantised.data(), isa);
    floats = dequantised.data();
  } else if (upsampled) {
    dequantised.resize(total);
    switch (s.type) {
      case LogitType::I8: dequantizeAll((const int8_t*)logits, s, dequantised.data()); break;
      case LogitType::I16: dequantizeAll((const int16_t*)logits, s, dequantised.data()); break;
      default: dequantizeAll((const int32_t*)logits, s, dequantised.data()); break;
    }
    floats = dequantised.data();
  }
  if (out.wide)
    argmaxInto<uint16_t>(logits, floats, s, out, histogram, ops);
  else
    argmaxInto<uint8_t>(logits, floats, s, out, histogram, ops);
}

void resizeClassMap(const ClassMapView& in, const ClassMapMut& out) {
  std::vector<int> xs(out.width);
  for (int x = 0; x < out.width; ++x) xs[x] = nearestIndex(x, in.width, out.width);
  for (int y = 0; y < out.height; ++y) {
    const size_t sy = (size_t)nearestIndex(y, in.height, out.height) * in.width;
    const size_t dy = (size_t)y * out.width;
    for (int x = 0; x < out.width; ++x) {
      const unsigned v = in.wide ? ((const uint16_t*)in.data)[sy + xs[x]] : ((const uint8_t*)in.data)[sy + xs[x]];
      if (out.wide)
        ((uint16_t*)out.data)[dy + x] = (uint16_t)v;
      else
        ((uint8_t*)out.data)[dy + x] = (uint8_t)v;
    }
  }
}

}  // namespace segk
