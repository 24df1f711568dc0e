// Palette overlay of a class map onto a frame: NV12 blended in YUV space (no RGB round trip) or RGB, with the
// class histogram counted from the same map.
#include <cmath>
#include <vector>

#include "internal.h"

namespace segk {

namespace {

int alphaOf(double opacity) {
  const long a = std::lround(opacity * 256.0);
  return (int)(a < 0 ? 0 : a > 256 ? 256 : a);
}

template <typename M>
void countClasses(const M* map, size_t n, int paletteSize, uint32_t* hist) {
  for (int c = 0; c < paletteSize; ++c) hist[c] = 0;
  for (size_t i = 0; i < n; ++i)
    if (map[i] < paletteSize) ++hist[map[i]];
}

// Per-class lookup: the class's colour component when the class is drawn, -1 otherwise.
struct ClassTable {
  std::vector<int16_t> v[3];
  ClassTable(const OverlaySpec& s, const uint8_t* comps /* 3 per class */) {
    for (auto& t : v) t.assign(s.paletteSize, -1);
    for (int c = 0; c < s.paletteSize; ++c)
      if (s.drawn[c])
        for (int k = 0; k < 3; ++k) v[k][c] = comps[3 * c + k];
  }
  int get(int k, unsigned c) const { return c < v[k].size() ? v[k][c] : -1; }
};

template <typename M>
void overlayNv12T(const Nv12View& in, Color color, const ClassMapView& map, const OverlaySpec& s,
                  const Nv12Mut& out, uint32_t* hist, const Ops& ops) {
  const int W = in.width, H = in.height;
  const M* m = (const M*)map.data;
  std::vector<uint8_t> yuvPal((size_t)3 * s.paletteSize);
  for (int c = 0; c < s.paletteSize; ++c) {
    double Y, U, V;
    rgbToYuvDouble(color, s.palette[3 * c], s.palette[3 * c + 1], s.palette[3 * c + 2], &Y, &U, &V);
    const double vals[3] = {Y, U, V};
    for (int k = 0; k < 3; ++k) {
      const double r = std::floor(vals[k] + 0.5);
      yuvPal[3 * c + k] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
    }
  }
  const ClassTable table(s, yuvPal.data());
  const int alpha = alphaOf(s.opacity);
  std::vector<int> mx(W);
  for (int x = 0; x < W; ++x) mx[x] = nearestIndex(x, map.width, W);
  std::vector<uint8_t> target(W);
  for (int y = 0; y < H; ++y) {
    const M* mrow = m + (size_t)nearestIndex(y, map.height, H) * map.width;
    const uint8_t* src = in.data + (size_t)y * in.strideY;
    for (int x = 0; x < W; ++x) {
      const int t = table.get(0, mrow[mx[x]]);
      target[x] = t < 0 ? src[x] : (uint8_t)t;
    }
    ops.blendRow(src, target.data(), alpha, W, out.data + (size_t)y * out.strideY);
  }
  // Each chroma sample moves toward the mean target of its 2x2 luma block (undrawn pixels keep their own).
  for (int j = 0; j < H / 2; ++j) {
    const M* m0 = m + (size_t)nearestIndex(2 * j, map.height, H) * map.width;
    const M* m1 = m + (size_t)nearestIndex(2 * j + 1, map.height, H) * map.width;
    const uint8_t* src = in.data + in.offsetUV + (size_t)j * in.strideUV;
    for (int i = 0; i < W / 2; ++i) {
      const unsigned cls[4] = {m0[mx[2 * i]], m0[mx[2 * i + 1]], m1[mx[2 * i]], m1[mx[2 * i + 1]]};
      for (int k = 0; k < 2; ++k) {
        int sum = 0;
        for (unsigned c : cls) {
          const int t = table.get(1 + k, c);
          sum += t < 0 ? src[2 * i + k] : t;
        }
        target[2 * i + k] = (uint8_t)((sum + 2) >> 2);
      }
    }
    ops.blendRow(src, target.data(), alpha, W, out.data + out.offsetUV + (size_t)j * out.strideUV);
  }
  countClasses(m, (size_t)map.width * map.height, s.paletteSize, hist);
}

template <typename M>
void overlayRgbT(const RgbView& in, const ClassMapView& map, const OverlaySpec& s, const RgbMut& out, uint32_t* hist,
                 const Ops& ops) {
  const int W = in.width, H = in.height;
  const M* m = (const M*)map.data;
  const ClassTable table(s, s.palette);
  const int alpha = alphaOf(s.opacity);
  std::vector<int> mx(W);
  for (int x = 0; x < W; ++x) mx[x] = nearestIndex(x, map.width, W);
  std::vector<uint8_t> target((size_t)3 * W);
  for (int y = 0; y < H; ++y) {
    const M* mrow = m + (size_t)nearestIndex(y, map.height, H) * map.width;
    const uint8_t* src = in.data + (size_t)y * in.stride;
    for (int x = 0; x < W; ++x) {
      const unsigned c = mrow[mx[x]];
      for (int k = 0; k < 3; ++k) {
        const int t = table.get(k, c);
        target[3 * x + k] = t < 0 ? src[3 * x + k] : (uint8_t)t;
      }
    }
    ops.blendRow(src, target.data(), alpha, 3 * W, out.data + (size_t)y * out.stride);
  }
  countClasses(m, (size_t)map.width * map.height, s.paletteSize, hist);
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
