// Pillow-exact separable resampling (Image.resize with BILINEAR): coefficient tables and the two passes.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <memory>
#include <thread>

#include "internal.h"

namespace segk {

namespace {
// Pillow's triangle filter (support 1).
double triangle(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}
}  // namespace

Coeffs pilBilinearCoeffs(int inSize, int outSize) {
  // Mirrors Pillow's precompute_coeffs (box = whole image) followed by normalize_coeffs_8bpc.
  Coeffs c;
  c.inSize = inSize;
  c.outSize = outSize;
  const double scale = (double)inSize / (double)outSize;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = 1.0 * filterscale;
  c.ksize = (int)std::ceil(support) * 2 + 1;
  c.start.resize(outSize);
  c.count.resize(outSize);
  c.k.assign((size_t)outSize * c.ksize, 0);
  std::vector<double> w(c.ksize);
  for (int xx = 0; xx < outSize; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = (int)(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = (int)(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      w[x] = triangle((x + xmin - center + 0.5) * ss);
      ww += w[x];
    }
    for (int x = 0; x < xmax; ++x) {
      if (ww != 0.0) w[x] /= ww;
    }
    for (int x = 0; x < xmax; ++x) {
      const double scaled = w[x] * (double)(1 << kPrecisionBits);
      c.k[(size_t)xx * c.ksize + x] = (int32_t)(w[x] < 0 ? -0.5 + scaled : 0.5 + scaled);
    }
    c.start[xx] = xmin;
    c.count[xx] = xmax;
  }
  c.pairStart.resize(outSize);
  c.pairCount.resize(outSize);
  c.pairSlots = 0;
  for (int xx = 0; xx < outSize; ++xx) {
    c.pairStart[xx] = c.start[xx] >> 1;
    c.pairCount[xx] = c.count[xx] == 0 ? 0 : ((c.start[xx] + c.count[xx] - 1) >> 1) - c.pairStart[xx] + 1;
    c.pairSlots = std::max(c.pairSlots, c.pairCount[xx]);
  }
  c.pairOrder.resize(outSize);
  for (int xx = 0; xx < outSize; ++xx) c.pairOrder[xx] = xx;
  std::stable_sort(c.pairOrder.begin(), c.pairOrder.end(),
                   [&](int a, int b) { return c.pairCount[a] < c.pairCount[b]; });
  for (int i = 0; i < outSize; ++i)
    if (i == 0 || c.pairCount[c.pairOrder[i]] != c.pairCount[c.pairOrder[i - 1]]) c.pairGroups.push_back(i);
  c.pairGroups.push_back(outSize);
  c.pairHi.assign((size_t)outSize * c.pairSlots, 0);
  c.pairLo.assign((size_t)outSize * c.pairSlots, 0);
  for (int xx = 0; xx < outSize; ++xx)
    for (int j = 0; j < c.count[xx]; ++j) {
      const int32_t k = c.k[(size_t)xx * c.ksize + j];
      const uint32_t hi = (uint32_t)(k >> kSplitBits) & 0xFFFF, lo = (uint32_t)(k & ((1 << kSplitBits) - 1));
      const int column = c.start[xx] + j;
      const size_t slot = (size_t)xx * c.pairSlots + (column >> 1) - c.pairStart[xx];
      const int shift = (column & 1) ? 16 : 0;
      c.pairHi[slot] |= (int32_t)(hi << shift);
      c.pairLo[slot] |= (int32_t)(lo << shift);
    }
  return c;
}

const Coeffs& cachedCoeffs(int inSize, int outSize) {
  // Per thread: no locking, and a table is never replaced while a kernel of the same thread uses it (kernels
  // take at most two tables, one per axis; four slots are kept, least recently used replaced).
  struct Slot {
    std::unique_ptr<Coeffs> coeffs;
    uint64_t used = 0;
  };
  thread_local Slot slots[4];
  thread_local uint64_t clock = 0;
  ++clock;
  Slot* victim = &slots[0];
  for (Slot& s : slots) {
    if (s.coeffs && s.coeffs->inSize == inSize && s.coeffs->outSize == outSize) {
      s.used = clock;
      return *s.coeffs;
    }
    if (s.used < victim->used) victim = &s;
  }
  victim->coeffs.reset(new Coeffs(pilBilinearCoeffs(inSize, outSize)));
  victim->used = clock;
  return *victim->coeffs;
}

size_t horizontalScratchBytes(const Coeffs& c, int planes) {
  // Column-major 8-row blocks of one plane at a time (scalar, NEON) ...
  const size_t columns = (size_t)8 * (c.inSize + c.ksize + 2 + c.outSize) + 64;
  // ... or (AVX2) every plane's even column pairs widened to int16 (32 bytes per pair) plus its output block.
  const size_t pairs =
      (size_t)planes * (((size_t)c.inSize + 1) / 2 + c.pairSlots + 1) * 32 + (size_t)planes * c.outSize * 8 + 64;
  return std::max(columns, pairs);
}

void runSplit(int threads, int n, int minRange, const std::function<void(int begin, int end)>& job) {
  int parts = std::max(1, std::min(threads, n / std::max(1, minRange)));
  if (parts <= 1) {
    job(0, n);
    return;
  }
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(parts);
  const auto range = [&](int i) {
    try {
      job((int)((long long)n * i / parts), (int)((long long)n * (i + 1) / parts));
    } catch (...) {
      errors[i] = std::current_exception();
    }
  };
  for (int i = 1; i < parts; ++i) {
    try {
      pool.emplace_back(range, i);
    } catch (...) {  // no thread available: run the range here
      range(i);
    }
  }
  range(0);
  for (std::thread& t : pool) t.join();
  for (const std::exception_ptr& e : errors)
    if (e) std::rethrow_exception(e);
}

void resamplePlanar(RowSource& src, int planes, int inW, int inH, int outW, int outH, RowSink& sink,
                    const Ops& ops, int outBegin, int outEnd) {
  if (outEnd < 0) outEnd = outH;
  if (outBegin >= outEnd) return;
  const Coeffs& ch = cachedCoeffs(inW, outW);
  const Coeffs& cv = cachedCoeffs(inH, outH);
  // Buffers every byte of which is written before it is read: no zero-fill.
  std::unique_ptr<uint8_t[]> scratch(new uint8_t[(size_t)8 * planes * inW]);
  uint8_t* scratchRows[8][3];
  for (int r = 0; r < 8; ++r)
    for (int p = 0; p < planes; ++p) scratchRows[r][p] = scratch.get() + ((size_t)r * planes + p) * inW;
  const uint8_t* rowPtrs[8][3];

  if (ch.identity() && cv.identity()) {  // no resampling: Pillow copies
    for (int y = outBegin; y < outEnd; ++y) {
      src.row(y, scratchRows[0], rowPtrs[0]);
      sink.row(y, rowPtrs[0]);
    }
    return;
  }

  // Source rows the vertical pass reads (Pillow's ybox_first .. ybox_last).
  int yFirst = outBegin, yLast = outEnd;
  if (!cv.identity()) {
    yFirst = cv.start[outBegin];
    yLast = cv.start[outEnd - 1] + cv.count[outEnd - 1];
  }
  // Horizontally resized rows live in a ring: an output row is emitted as soon as its rows exist, so only the
  // last ksize + 8 rows can still be needed (the ring stays in cache instead of a full-height buffer).
  const int midRows = std::min(yLast - yFirst, cv.ksize + 16);
  const size_t planeSize = (size_t)midRows * outW;
  std::unique_ptr<uint8_t[]> midBuffer(new uint8_t[(size_t)planes * planeSize]);
  uint8_t* const midData = midBuffer.get();
  const auto midRow = [&](int p, int y) { return midData + p * planeSize + (size_t)((y - yFirst) % midRows) * outW; };
  // Scratch of the SIMD horizontal pass; padding after the input columns is read (with zero weight), so it
  // must be initialised.
  // Aligned to a cache line: the 32-byte column pairs of the AVX2 pass must not straddle lines.
  std::vector<uint8_t> transposeStorage(horizontalScratchBytes(ch, planes) + 64, 0);
  uint8_t* const transposeScratch =
      transposeStorage.data() + ((64 - (reinterpret_cast<uintptr_t>(transposeStorage.data()) & 63)) & 63);
  std::unique_ptr<uint8_t[]> outRows(new uint8_t[(size_t)planes * outW]);

  // Output rows are emitted as soon as the horizontal pass has produced every row they read, so the
  // vertical pass works on rows that are still in cache.
  int nextOut = outBegin;
  std::vector<const uint8_t*> taps(cv.ksize);
  const auto emitReady = [&](int rowsDone) {
    const uint8_t* outPtrs[3];
    while (nextOut < outEnd) {
      const int yy = nextOut;
      const int needed = cv.identity() ? yy + 1 : cv.start[yy] + cv.count[yy];
      if (needed > rowsDone) break;
      for (int p = 0; p < planes; ++p) {
        if (cv.identity()) {
          outPtrs[p] = midRow(p, yy);
        } else {
          uint8_t* d = outRows.get() + (size_t)p * outW;
          for (int i = 0; i < cv.count[yy]; ++i) taps[i] = midRow(p, cv.start[yy] + i);
          ops.vertical(taps.data(), cv.count[yy], &cv.k[(size_t)yy * cv.ksize], outW, d);
          outPtrs[p] = d;
        }
      }
      sink.row(yy, outPtrs);
      ++nextOut;
    }
  };

  const bool blocked = ops.isa != Isa::Scalar && !ch.identity();
  int y = yFirst;
  while (y < yLast) {
    if (blocked && yLast - y >= 8) {
      for (int r = 0; r < 8; ++r) src.row(y + r, scratchRows[r], rowPtrs[r]);
      const uint8_t* s[24];
      uint8_t* d[24];
      for (int p = 0; p < planes; ++p)
        for (int r = 0; r < 8; ++r) {
          s[8 * p + r] = rowPtrs[r][p];
          d[8 * p + r] = midRow(p, y + r);
        }
      ops.horizontal8(s, d, planes, ch, transposeScratch);
      y += 8;
    } else {
      src.row(y, scratchRows[0], rowPtrs[0]);
      for (int p = 0; p < planes; ++p) {
        uint8_t* d = midRow(p, y);
        if (ch.identity())
          std::memcpy(d, rowPtrs[0][p], outW);
        else
          ops.horizontal1(rowPtrs[0][p], d, ch);
      }
      ++y;
    }
    emitReady(y);
  }
  emitReady(yLast);
}

}  // namespace segk
