// Post-processing of segmentation logits into a class map: low-res argmax, the exact reference (bilinear
// upsample of the logits with align_corners=False, as torch.nn.functional.interpolate, then argmax), and a
// boundary-exact method that interpolates only where the low-res neighbourhood disagrees.
#include <algorithm>
#include <cmath>
#include <limits>
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
  void fill(Out* r, int x0, int x1, int c) const {
    std::fill(r + x0, r + x1, (Out)c);
    hist[c] += (uint32_t)(x1 - x0);
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

// Candidate classes of disagreeing cells with their four corner values (y0x0, y0x1, y1x0, y1x1).
struct Candidates {
  std::vector<uint16_t> cls;
  std::vector<float> vals;
  void add(const Grid& g, int c, int y0, int y1, int x0, int x1) {
    cls.push_back((uint16_t)c);
    const float v[4] = {g.at(c, y0, x0), g.at(c, y0, x1), g.at(c, y1, x0), g.at(c, y1, x1)};
    vals.insert(vals.end(), v, v + 4);
  }
};

// Exact candidate set by scanning every class: LB = max_c min(corners); keep c with max(corners) >= LB.
void scanAllClasses(const Grid& g, int C, int y0, int y1, int x0, int x1, Candidates& out) {
  float lower = -std::numeric_limits<float>::infinity();
  for (int c = 0; c < C; ++c) {
    const float m = std::min(std::min(g.at(c, y0, x0), g.at(c, y0, x1)), std::min(g.at(c, y1, x0), g.at(c, y1, x1)));
    lower = std::max(lower, m);
  }
  for (int c = 0; c < C; ++c) {
    const float m = std::max(std::max(g.at(c, y0, x0), g.at(c, y0, x1)), std::max(g.at(c, y1, x0), g.at(c, y1, x1)));
    if (m >= lower) out.add(g, c, y0, y1, x0, x1);
  }
}

// Boundary-exact post-processing. Where the four low-res neighbours of a cell share the argmax, every
// bilinear blend inside the cell has that argmax too (a convex combination keeps l_a >= l_c). Elsewhere only
// candidate classes are interpolated: with LB = max over classes of the cell's minimum corner value, a class
// whose maximum corner value is below LB can never win inside the cell.
//
// Logits are processed in bands of low-res rows so that the second look at a band is served from cache:
//   1. argmax of the band's rows;
//   2. per disagreeing cell a lower bound LB' <= LB from its corner winners, and per pixel the smallest LB'
//      of the cells it is a corner of (tau);
//   3. NCHW: one vectorised pass over the band of every class plane lists, per pixel, the classes >= tau;
//   4. a cell's candidates are the union of its corners' lists (a candidate must reach LB' at some corner),
//      kept when their maximum corner value reaches LB'. NHWC logits, or a corner with too many listed
//      classes, scan every class for the cell instead (contiguous in NHWC).
template <typename Out>
void argmaxBoundary(const Grid& g, const ArgmaxSpec& s, int outW, int outH, const MapOut<Out>& out, const Ops& ops) {
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
  constexpr int kBand = 4;     // cell rows per band (5 pixel rows of every plane stay in L2)
  constexpr int kListCap = 8;  // classes listed per pixel before falling back to a full scan
  const size_t plane = (size_t)W * H;
  std::vector<uint16_t> low(plane);
  std::vector<float> best;
  int lowDone = 0;  // rows [0, lowDone) of `low` are computed

  std::vector<int> cellClass((size_t)kBand * W);
  std::vector<float> cellBound((size_t)kBand * W);
  std::vector<float> tau((size_t)(kBand + 1) * W);
  std::vector<uint16_t> list((size_t)(kBand + 1) * W * kListCap);
  std::vector<uint8_t> listCount((size_t)(kBand + 1) * W);
  std::vector<int> candBegin((size_t)kBand * W), candEnd((size_t)kBand * W);
  Candidates cand;
  std::vector<uint16_t> merged, idx(outW + 8);
  int nextY = 0;

  for (int cb = 0; cb < H; cb += kBand) {
    const int ce = std::min(H, cb + kBand);
    const int rEnd = y1Of[ce - 1] + 1;  // pixel rows [cb, rEnd)
    if (lowDone < rEnd) {
      const int r0 = std::max(lowDone, cb);
      const int n = (rEnd - r0) * W;
      if (nchw) {
        best.assign(g.data + (size_t)r0 * W, g.data + (size_t)r0 * W + n);
        std::fill(low.begin() + (size_t)r0 * W, low.begin() + (size_t)r0 * W + n, 0);
        for (int c = 1; c < C; ++c)
          ops.argmaxPlane(g.data + c * plane + (size_t)r0 * W, n, c, best.data(), &low[(size_t)r0 * W]);
      } else {
        for (int i = r0 * W; i < rEnd * W; ++i) {
          const float* v = g.data + (size_t)i * C;
          int bi = 0;
          for (int c = 1; c < C; ++c)
            if (v[c] > v[bi]) bi = c;
          low[i] = (uint16_t)bi;
        }
      }
      lowDone = rEnd;
    }

    // Cells of the band: agreement, lower bounds, per-pixel thresholds.
    std::fill(tau.begin(), tau.end(), std::numeric_limits<float>::infinity());
    bool anyDisagree = false;
    for (int y0 = cb; y0 < ce; ++y0) {
      const int y1 = y1Of[y0];
      for (int x0 = 0; x0 < W; ++x0) {
        const int x1 = x1Of[x0];
        const uint16_t w[4] = {low[(size_t)y0 * W + x0], low[(size_t)y0 * W + x1], low[(size_t)y1 * W + x0],
                               low[(size_t)y1 * W + x1]};
        const size_t cell = (size_t)(y0 - cb) * W + x0;
        if (w[1] == w[0] && w[2] == w[0] && w[3] == w[0]) {
          cellClass[cell] = w[0];
          continue;
        }
        cellClass[cell] = -1;
        anyDisagree = true;
        float bound = -std::numeric_limits<float>::infinity();
        for (int k = 0; k < 4; ++k) {
          const int a = w[k];
          const float m = std::min(std::min(g.at(a, y0, x0), g.at(a, y0, x1)), std::min(g.at(a, y1, x0), g.at(a, y1, x1)));
          bound = std::max(bound, m);
        }
        cellBound[cell] = bound;
        const size_t p[4] = {(size_t)(y0 - cb) * W + x0, (size_t)(y0 - cb) * W + x1, (size_t)(y1 - cb) * W + x0,
                             (size_t)(y1 - cb) * W + x1};
        for (size_t q : p) tau[q] = std::min(tau[q], bound);
      }
    }

    // Per-pixel lists of classes reaching tau: one vectorised pass over the band of every plane.
    std::fill(listCount.begin(), listCount.end(), 0);
    if (anyDisagree && nchw) {
      const int pixels = (rEnd - cb) * W;
      for (int c = 0; c < C; ++c) {
        const float* src = g.data + c * plane + (size_t)cb * W;
        for (int i = 0; i < pixels; i += 64) {
          uint64_t m = ops.atLeast(src + i, tau.data() + i, std::min(64, pixels - i));
          while (m) {
            const int p = i + __builtin_ctzll(m);
            m &= m - 1;
            if (listCount[p] < kListCap) list[(size_t)p * kListCap + listCount[p]] = (uint16_t)c;
            if (listCount[p] <= kListCap) ++listCount[p];  // kListCap + 1 marks an overflow
          }
        }
      }
    }

    // Candidates of each disagreeing cell.
    cand.cls.clear();
    cand.vals.clear();
    for (int y0 = cb; y0 < ce; ++y0) {
      const int y1 = y1Of[y0];
      for (int x0 = 0; x0 < W; ++x0) {
        const size_t cell = (size_t)(y0 - cb) * W + x0;
        candBegin[cell] = candEnd[cell] = (int)cand.cls.size();
        if (cellClass[cell] >= 0) continue;
        const int x1 = x1Of[x0];
        const size_t p[4] = {(size_t)(y0 - cb) * W + x0, (size_t)(y0 - cb) * W + x1, (size_t)(y1 - cb) * W + x0,
                             (size_t)(y1 - cb) * W + x1};
        bool overflow = !nchw;
        for (size_t q : p) overflow = overflow || listCount[q] > kListCap;
        if (overflow) {
          scanAllClasses(g, C, y0, y1, x0, x1, cand);
        } else {
          merged.clear();
          for (size_t q : p) merged.insert(merged.end(), &list[q * kListCap], &list[q * kListCap] + listCount[q]);
          std::sort(merged.begin(), merged.end());
          merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
          const float bound = cellBound[cell];
          for (uint16_t c : merged) {
            const float m =
                std::max(std::max(g.at(c, y0, x0), g.at(c, y0, x1)), std::max(g.at(c, y1, x0), g.at(c, y1, x1)));
            if (m >= bound) cand.add(g, c, y0, y1, x0, x1);
          }
        }
        candEnd[cell] = (int)cand.cls.size();
      }
    }

    // Output rows whose upper low-res row lies in this band, one cell row at a time: every output row of a
    // cell row shares its cells' classes and candidates.
    while (nextY < outH && ay.i0[nextY] < ce) {
      const int y0 = ay.i0[nextY];
      int rowsEnd = nextY;
      while (rowsEnd < outH && ay.i0[rowsEnd] == y0) ++rowsEnd;
      const int rows = rowsEnd - nextY;
      for (int x0 = 0; x0 < W; ++x0) {
        const int xb = segBegin[x0], xe = segEnd[x0];
        if (xe <= xb) continue;
        const size_t cell = (size_t)(y0 - cb) * W + x0;
        const int known = cellClass[cell];
        if (known >= 0) {
          for (int y = nextY; y < rowsEnd; ++y) {
            Out* r = out.row(y);
            for (int x = xb; x < xe; ++x) r[x] = (Out)known;
          }
          out.hist[known] += (uint32_t)((xe - xb) * rows);
          continue;
        }
        const int cbeg = candBegin[cell], n = xe - xb;
        if (idx.size() < (size_t)n * rows) idx.resize((size_t)n * rows);
        ops.evalCandidates(&wx0[xb], &wx1[xb], n, &ay.w0[nextY], &ay.w1[nextY], rows, &cand.vals[(size_t)cbeg * 4],
                           &cand.cls[cbeg], candEnd[cell] - cbeg, idx.data());
        for (int y = nextY; y < rowsEnd; ++y) out.put(out.row(y), &idx[(size_t)(y - nextY) * n], xb, n);
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
    argmaxBoundary(gridOf(floats, s), s, s.outW, s.outH, out, ops);
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
