// Palette overlay of a class map onto a frame: NV12 blended in YUV space (no RGB round trip) or RGB, with the
// class histogram counted from the same map. Each plane samples the map at its own resolution (nearest,
// pixel centres): luma and RGB per pixel, NV12 chroma per 2x2 chroma sample.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "internal.h"

namespace segk {

namespace {

int alphaOf(double opacity) {
  const long a = std::lround(opacity * 256.0);
  return (int)(a < 0 ? 0 : a > 256 ? 256 : a);
}

// Per-class table of (colour | mask << 8) entries, `comps` per class. For 8-bit maps it covers every id
// (ids past the palette get mask 0), so the per-pixel lookup needs no bounds check.
struct ClassTable {
  int comps;
  std::vector<uint16_t> entries;
  ClassTable(const OverlaySpec& s, int comps_, const uint8_t* colours, bool wide) : comps(comps_) {
    const int ids = wide ? s.paletteSize : 256;
    entries.assign((size_t)ids * comps, 0);
    for (int c = 0; c < s.paletteSize && c < ids; ++c)
      if (s.drawn[c])
        for (int k = 0; k < comps; ++k) entries[(size_t)c * comps + k] = (uint16_t)(colours[(size_t)c * comps + k] | 0xFF00);
  }
  const uint16_t* of(unsigned c) const {
    static const uint16_t none[3] = {0, 0, 0};
    return (size_t)c * comps < entries.size() ? &entries[(size_t)c * comps] : none;
  }
};

// Target/mask entries for one output row sampling map row `mrow` at `xs` (empty: one map pixel per output).
template <typename M, int K>
void buildRow(const M* mrow, int width, const std::vector<int>& xs, const ClassTable& t, uint16_t* tm) {
  for (int x = 0; x < width; ++x) {
    const uint16_t* e = t.of(xs.empty() ? mrow[x] : mrow[xs[x]]);
    for (int k = 0; k < K; ++k) tm[K * x + k] = e[k];
  }
}

std::vector<int> columnsOf(int mapW, int width) {
  std::vector<int> xs;
  if (mapW == width) return xs;
  xs.resize(width);
  for (int x = 0; x < width; ++x) xs[x] = nearestIndex(x, mapW, width);
  return xs;
}

// Histogram of the class map, ids past the palette not counted. Four interleaved sub-histograms keep runs of
// one class from serialising on a single counter.
template <typename M>
void countMap(const M* map, size_t n, int paletteSize, uint32_t* hist) {
  const int ids = sizeof(M) == 1 ? 256 : 65536;
  std::vector<uint32_t> sub((size_t)4 * ids, 0);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    ++sub[map[i]];
    ++sub[(size_t)ids + map[i + 1]];
    ++sub[(size_t)2 * ids + map[i + 2]];
    ++sub[(size_t)3 * ids + map[i + 3]];
  }
  for (; i < n; ++i) ++sub[map[i]];
  // A palette may be longer than the ids the map type can hold (a uint8 map, a 1024-colour palette): those
  // entries count 0, and the sub-histograms are never read past their own end.
  const int counted = paletteSize < ids ? paletteSize : ids;
  for (int c = 0; c < counted; ++c) hist[c] = sub[c] + sub[(size_t)ids + c] + sub[(size_t)2 * ids + c] + sub[(size_t)3 * ids + c];
  for (int c = counted; c < paletteSize; ++c) hist[c] = 0;
}

template <typename M>
void overlayNv12T(const Nv12View& in, Color color, const ClassMapView& map, const OverlaySpec& s,
                  const Nv12Mut& out, uint32_t* hist, const Ops& ops) {
  const int W = in.width, H = in.height;
  const M* m = (const M*)map.data;
  std::vector<uint8_t> lumaPal(s.paletteSize), chromaPal((size_t)2 * s.paletteSize);
  for (int c = 0; c < s.paletteSize; ++c) {
    double Y, U, V;
    rgbToYuvDouble(color, s.palette[3 * c], s.palette[3 * c + 1], s.palette[3 * c + 2], &Y, &U, &V);
    const auto q = [](double v) {
      const double r = std::floor(v + 0.5);
      return (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
    };
    lumaPal[c] = q(Y);
    chromaPal[2 * c] = q(U);
    chromaPal[2 * c + 1] = q(V);
  }
  const bool wide = sizeof(M) == 2;
  const ClassTable luma(s, 1, lumaPal.data(), wide), chroma(s, 2, chromaPal.data(), wide);
  const int alpha = alphaOf(s.opacity);
  std::vector<uint16_t> tm(W);
  const std::vector<int> lumaXs = columnsOf(map.width, W), chromaXs = columnsOf(map.width, W / 2);
  for (int y = 0; y < H; ++y) {
    buildRow<M, 1>(m + (size_t)nearestIndex(y, map.height, H) * map.width, W, lumaXs, luma, tm.data());
    ops.blendRow(in.data + (size_t)y * in.strideY, tm.data(), alpha, W, out.data + (size_t)y * out.strideY);
  }
  for (int j = 0; j < H / 2; ++j) {
    buildRow<M, 2>(m + (size_t)nearestIndex(j, map.height, H / 2) * map.width, W / 2, chromaXs, chroma, tm.data());
    ops.blendRow(in.data + in.offsetUV + (size_t)j * in.strideUV, tm.data(), alpha, W,
                 out.data + out.offsetUV + (size_t)j * out.strideUV);
  }
  countMap(m, (size_t)map.width * map.height, s.paletteSize, hist);
}

template <typename M>
void overlayRgbT(const RgbView& in, const ClassMapView& map, const OverlaySpec& s, const RgbMut& out, uint32_t* hist,
                 const Ops& ops) {
  const int W = in.width, H = in.height;
  const M* m = (const M*)map.data;
  const ClassTable rgb(s, 3, s.palette, sizeof(M) == 2);
  const int alpha = alphaOf(s.opacity);
  std::vector<uint16_t> tm((size_t)3 * W);
  const std::vector<int> xs = columnsOf(map.width, W);
  for (int y = 0; y < H; ++y) {
    buildRow<M, 3>(m + (size_t)nearestIndex(y, map.height, H) * map.width, W, xs, rgb, tm.data());
    ops.blendRow(in.data + (size_t)y * in.stride, tm.data(), alpha, 3 * W, out.data + (size_t)y * out.stride);
  }
  countMap(m, (size_t)map.width * map.height, s.paletteSize, hist);
}

}  // namespace

void overlayNv12(const Nv12View& in, Color color, const ClassMapView& map, const OverlaySpec& spec,
                 const Nv12Mut& out, uint32_t* histogram, Isa isa) {
  const Ops& ops = opsFor(isa);
  if (map.wide)
    overlayNv12T<uint16_t>(in, color, map, spec, out, histogram, ops);
  else
    overlayNv12T<uint8_t>(in, color, map, spec, out, histogram, ops);
}

void overlayRgb(const RgbView& in, const ClassMapView& map, const OverlaySpec& spec, const RgbMut& out,
                uint32_t* histogram, Isa isa) {
  const Ops& ops = opsFor(isa);
  if (map.wide)
    overlayRgbT<uint16_t>(in, map, spec, out, histogram, ops);
  else
    overlayRgbT<uint8_t>(in, map, spec, out, histogram, ops);
}

}  // namespace segk
