// Pillow-exact separable resampling (Image.resize with BILINEAR): coefficient tables and the two passes.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

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
  c.pairSlots = (c.ksize + 1) / 2;
  c.pairHi.assign((size_t)outSize * c.pairSlots, 0);
  c.pairLo.assign((size_t)outSize * c.pairSlots, 0);
  for (int xx = 0; xx < outSize; ++xx)
    for (int j = 0; j < c.count[xx]; ++j) {
      const int32_t k = c.k[(size_t)xx * c.ksize + j];
      const uint32_t hi = (uint32_t)(k >> kSplitBits) & 0xFFFF, lo = (uint32_t)(k & ((1 << kSplitBits) - 1));
      const int shift = (j & 1) ? 16 : 0;
      c.pairHi[(size_t)xx * c.pairSlots + j / 2] |= (int32_t)(hi << shift);
      c.pairLo[(size_t)xx * c.pairSlots + j / 2] |= (int32_t)(lo << shift);
    }
  return c;
}

void resamplePlanar(RowSource& src, int planes, int inW, int inH, int outW, int outH, RowSink& sink,
                    const Ops& ops) {
  const Coeffs ch = pilBilinearCoeffs(inW, outW);
  const Coeffs cv = pilBilinearCoeffs(inH, outH);
  // Buffers every byte of which is written before it is read: no zero-fill.
  std::unique_ptr<uint8_t[]> scratch(new uint8_t[(size_t)8 * planes * inW]);
  uint8_t* scratchRows[8][3];
  for (int r = 0; r < 8; ++r)
    for (int p = 0; p < planes; ++p) scratchRows[r][p] = scratch.get() + ((size_t)r * planes + p) * inW;
  const uint8_t* rowPtrs[8][3];

  if (ch.identity() && cv.identity()) {  // no resampling: Pillow copies
    for (int y = 0; y < inH; ++y) {
      src.row(y, scratchRows[0], rowPtrs[0]);
      sink.row(y, rowPtrs[0]);
    }
    return;
  }

  // Source rows the vertical pass reads (Pillow's ybox_first .. ybox_last).
  int yFirst = 0, yLast = inH;
  if (!cv.identity()) {
    yFirst = cv.start[0];
    yLast = cv.start[outH - 1] + cv.count[outH - 1];
  }
  const int midRows = yLast - yFirst;
  const size_t planeSize = (size_t)midRows * outW;
  std::unique_ptr<uint8_t[]> midBuffer(new uint8_t[(size_t)planes * planeSize]);
  uint8_t* const midData = midBuffer.get();
  // Column blocks for the SIMD horizontal pass; the padding after the input columns is read (with zero
  // weight) by tap pairs that end at the last column, so it must be initialised.
  std::vector<uint8_t> transposeScratch((size_t)8 * (inW + ch.ksize + 2 + outW) + 64, 0);
  std::unique_ptr<uint8_t[]> outRows(new uint8_t[(size_t)planes * outW]);

  // Output rows are emitted as soon as the horizontal pass has produced every row they read, so the
  // vertical pass works on rows that are still in cache.
  int nextOut = 0;
  const auto emitReady = [&](int rowsDone) {
    const uint8_t* outPtrs[3];
    while (nextOut < outH) {
      const int yy = nextOut;
      const int needed = cv.identity() ? yy + 1 : cv.start[yy] + cv.count[yy];
      if (needed > rowsDone) break;
      for (int p = 0; p < planes; ++p) {
        if (cv.identity()) {
          outPtrs[p] = midData + p * planeSize + (size_t)(yy - yFirst) * outW;
        } else {
          uint8_t* d = outRows.get() + (size_t)p * outW;
          ops.vertical(midData + p * planeSize + (size_t)(cv.start[yy] - yFirst) * outW, outW, cv.count[yy],
                       &cv.k[(size_t)yy * cv.ksize], outW, d);
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
      for (int p = 0; p < planes; ++p) {
        const uint8_t* s[8];
        uint8_t* d[8];
        for (int r = 0; r < 8; ++r) {
          s[r] = rowPtrs[r][p];
          d[r] = midData + p * planeSize + (size_t)(y + r - yFirst) * outW;
        }
        ops.horizontal8(s, d, ch, transposeScratch.data());
      }
      y += 8;
    } else {
      src.row(y, scratchRows[0], rowPtrs[0]);
      for (int p = 0; p < planes; ++p) {
        uint8_t* d = midData + p * planeSize + (size_t)(y - yFirst) * outW;
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
