// Standalone tests of the frame kernels (no Node): every SIMD path against the scalar path on fuzzed sizes,
// strides and values; the scalar resampler against an independent straightforward Pillow port; argmax modes
// against a brute-force reference. Built natively, for aarch64 (run under qemu), and with ASan + UBSan by
// scripts/native-tests.sh.
//
//   kernel_tests [--seed N] [--iterations N] [--bench]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "../internal.h"
#include "../kernels.h"

using namespace segk;

namespace {

int failures = 0;
int checks = 0;

#define CHECK(cond, ...)                                     \
  do {                                                       \
    ++checks;                                                \
    if (!(cond)) {                                           \
      ++failures;                                            \
      std::fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      std::fprintf(stderr, __VA_ARGS__);                     \
      std::fprintf(stderr, "\n");                            \
    }                                                        \
  } while (0)

// xorshift64*: reproducible across platforms.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 2654435761u + 1) {}
  uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ull;
  }
  int range(int lo, int hi) { return lo + (int)(next() % (uint64_t)(hi - lo + 1)); }  // inclusive
  float uniform() { return (float)((next() >> 40) / 16777216.0); }
};

std::vector<uint8_t> randomBytes(Rng& rng, size_t n, bool smooth) {
  std::vector<uint8_t> v(n);
  int walk = rng.range(0, 255);
  for (size_t i = 0; i < n; ++i) {
    if (smooth) {
      walk += rng.range(-9, 9);
      walk = walk < 0 ? 0 : walk > 255 ? 255 : walk;
      v[i] = (uint8_t)walk;
    } else {
      v[i] = (uint8_t)rng.next();
    }
  }
  return v;
}

// A size: mostly small, sometimes 1, sometimes large; `even` for NV12.
int randomSize(Rng& rng, bool even) {
  int v;
  switch (rng.range(0, 5)) {
    case 0: v = 1; break;
    case 1: v = rng.range(1, 16); break;
    case 2: v = rng.range(17, 80); break;
    case 3: v = rng.range(81, 400); break;
    default: v = rng.range(2, 64); break;
  }
  if (even) v = v < 2 ? 2 : v & ~1;
  return v;
}

std::vector<Isa> simdIsas() {
  std::vector<Isa> out;
  if (bestIsa() != Isa::Scalar) out.push_back(bestIsa());
  return out;
}

// ------------------------------------------------------------------ independent Pillow port (double coefficients)

std::vector<uint8_t> pillowResize(const std::vector<uint8_t>& src, int w, int h, int ch, int ow, int oh) {
  auto pass = [&](const std::vector<uint8_t>& in, int inW, int inH, bool horizontal, int outSize) {
    const int inSize = horizontal ? inW : inH;
    const double scale = (double)inSize / outSize;
    const double fs = scale < 1 ? 1 : scale;
    const int outW = horizontal ? outSize : inW, outH = horizontal ? inH : outSize;
    std::vector<uint8_t> out((size_t)outW * outH * ch);
    for (int o = 0; o < outSize; ++o) {
      const double center = (o + 0.5) * scale;
      int lo = (int)(center - fs + 0.5);
      if (lo < 0) lo = 0;
      int hi = (int)(center + fs + 0.5);
      if (hi > inSize) hi = inSize;
      std::vector<double> w;
      double ww = 0;
      for (int x = lo; x < hi; ++x) {
        double t = std::fabs((x - center + 0.5) / fs);
        w.push_back(t < 1 ? 1 - t : 0);
        ww += w.back();
      }
      std::vector<int> k;
      for (double v : w) {
        const double n = ww != 0 ? v / ww : v;
        k.push_back((int)(n < 0 ? -0.5 + n * 4194304.0 : 0.5 + n * 4194304.0));
      }
      const int other = horizontal ? inH : inW;
      for (int q = 0; q < other; ++q)
        for (int c = 0; c < ch; ++c) {
          int ss = 1 << 21;
          for (int i = lo; i < hi; ++i) {
            const size_t at = horizontal ? ((size_t)q * inW + i) * ch + c : ((size_t)i * inW + q) * ch + c;
            ss += in[at] * k[i - lo];
          }
          int v = ss >> 22;
          v = v < 0 ? 0 : v > 255 ? 255 : v;
          const size_t to = horizontal ? ((size_t)q * outW + o) * ch + c : ((size_t)o * outW + q) * ch + c;
          out[to] = (uint8_t)v;
        }
    }
    return out;
  };
  std::vector<uint8_t> cur = src;
  int cw = w;
  if (ow != w) {
    cur = pass(cur, w, h, true, ow);
    cw = ow;
  }
  if (oh != h) cur = pass(cur, cw, h, false, oh);
  return cur;
}

// ------------------------------------------------------------------ tests

void testResizeRgb(Rng& rng, int iterations) {
  for (int it = 0; it < iterations; ++it) {
    const int w = randomSize(rng, false), h = randomSize(rng, false);
    const int ow = rng.range(0, 9) == 0 ? w : randomSize(rng, false);
    const int oh = rng.range(0, 9) == 0 ? h : randomSize(rng, false);
    const size_t stride = (size_t)3 * w + rng.range(0, 20);
    std::vector<uint8_t> img = randomBytes(rng, stride * h, rng.range(0, 1));
    std::vector<uint8_t> packed((size_t)3 * w * h);
    for (int y = 0; y < h; ++y) std::memcpy(&packed[(size_t)y * 3 * w], &img[y * stride], (size_t)3 * w);
    const RgbView in{img.data(), w, h, stride};
    std::vector<uint8_t> ref((size_t)ow * oh * 3);
    resizeRgb(in, RgbMut{ref.data(), ow, oh, (size_t)3 * ow}, Isa::Scalar);
    const std::vector<uint8_t> pil = pillowResize(packed, w, h, 3, ow, oh);
    CHECK(ref == pil, "scalar resizeRgb %dx%d -> %dx%d differs from the Pillow port", w, h, ow, oh);
    for (Isa isa : simdIsas()) {
      std::vector<uint8_t> got((size_t)ow * oh * 3);
      resizeRgb(in, RgbMut{got.data(), ow, oh, (size_t)3 * ow}, isa);
      CHECK(got == ref, "%s resizeRgb %dx%d -> %dx%d differs from scalar", isaName(isa), w, h, ow, oh);
    }
  }
}

struct Nv12Buf {
  std::vector<uint8_t> data;
  Nv12View view;
};

Nv12Buf randomNv12(Rng& rng, int w, int h) {
  Nv12Buf b;
  const size_t strideY = w + rng.range(0, 40), strideUV = w + 2 * rng.range(0, 20);
  const size_t offsetUV = strideY * h + rng.range(0, 64);
  b.data = randomBytes(rng, offsetUV + strideUV * (h / 2), rng.range(0, 1));
  b.view = Nv12View{b.data.data(), w, h, strideY, strideUV, offsetUV};
  return b;
}

Color randomColor(Rng& rng) {
  Color c;
  c.bt709 = rng.range(0, 1);
  c.full = rng.range(0, 1);
  c.chromaBilinear = rng.range(0, 1);
  return c;
}

void testNv12(Rng& rng, int iterations) {
  for (int it = 0; it < iterations; ++it) {
    const int w = randomSize(rng, true), h = randomSize(rng, true);
    const int ow = rng.range(0, 5) == 0 ? w : randomSize(rng, false), oh = rng.range(0, 5) == 0 ? h : randomSize(rng, false);
    Nv12Buf src = randomNv12(rng, w, h);
    const Color color = randomColor(rng);
    // nv12ToRgb == nv12ToRgb(same size) then Pillow resize
    std::vector<uint8_t> full((size_t)w * h * 3), ref((size_t)ow * oh * 3);
    nv12ToRgb(src.view, color, RgbMut{full.data(), w, h, (size_t)3 * w}, Isa::Scalar);
    nv12ToRgb(src.view, color, RgbMut{ref.data(), ow, oh, (size_t)3 * ow}, Isa::Scalar);
    CHECK(ref == pillowResize(full, w, h, 3, ow, oh), "scalar nv12ToRgb resize %dx%d -> %dx%d != decode + Pillow", w, h, ow,
          oh);
    TensorSpec spec;
    spec.outW = ow;
    spec.outH = oh;
    spec.mean[0] = 0.485;
    spec.mean[1] = 0.456;
    spec.mean[2] = 0.406;
    spec.std[0] = 0.229;
    spec.std[1] = 0.224;
    spec.std[2] = 0.225;
    spec.nhwc = rng.range(0, 1);
    spec.bgr = rng.range(0, 1);
    std::vector<float> tensorRef((size_t)3 * ow * oh);
    nv12ToTensor(src.view, color, spec, tensorRef.data(), Isa::Scalar);
    for (Isa isa : simdIsas()) {
      std::vector<uint8_t> got((size_t)ow * oh * 3);
      nv12ToRgb(src.view, color, RgbMut{got.data(), ow, oh, (size_t)3 * ow}, isa);
      CHECK(got == ref, "%s nv12ToRgb %dx%d -> %dx%d differs from scalar", isaName(isa), w, h, ow, oh);
      std::vector<float> t((size_t)3 * ow * oh);
      nv12ToTensor(src.view, color, spec, t.data(), isa);
      CHECK(std::memcmp(t.data(), tensorRef.data(), t.size() * 4) == 0, "%s nv12ToTensor %dx%d -> %dx%d differs",
            isaName(isa), w, h, ow, oh);
      TensorSpec split = spec;
      split.threads = rng.range(2, 4);
      std::vector<float> t2((size_t)3 * ow * oh);
      nv12ToTensor(src.view, color, split, t2.data(), isa);
      CHECK(std::memcmp(t2.data(), tensorRef.data(), t2.size() * 4) == 0, "%s nv12ToTensor %dx%d -> %dx%d, %d threads",
            isaName(isa), w, h, ow, oh, split.threads);
    }
    // NV12 -> NV12
    const int nw = randomSize(rng, true), nh = randomSize(rng, true);
    const size_t oy = nw + 16 * rng.range(0, 1), ouv = nw + 16 * rng.range(0, 1);
    std::vector<uint8_t> outRef(oy * nh + ouv * nh / 2);
    const Nv12Mut mRef{outRef.data(), nw, nh, oy, ouv, oy * nh};
    resizeNv12(src.view, mRef, Isa::Scalar);
    for (Isa isa : simdIsas()) {
      std::vector<uint8_t> got(outRef.size());
      resizeNv12(src.view, Nv12Mut{got.data(), nw, nh, oy, ouv, oy * nh}, isa);
      CHECK(got == outRef, "%s resizeNv12 %dx%d -> %dx%d differs", isaName(isa), w, h, nw, nh);
    }
  }
}

void testNormalizeExhaustive() {
  TensorSpec spec;
  for (int c = 0; c < 3; ++c) {
    spec.mean[c] = 0.3 + 0.1 * c;
    spec.std[c] = 0.2 + 0.05 * c;
  }
  std::vector<uint8_t> all(256 * 3);
  for (int i = 0; i < 256 * 3; ++i) all[i] = (uint8_t)(i % 256);
  for (Isa isa : simdIsas()) {
    const Ops& ops = opsFor(isa);
    std::vector<float> a(all.size()), b(all.size());
    for (int c = 0; c < 3; ++c) {
      ops.normalizeRow(all.data(), (int)all.size(), (float)spec.rescale, (float)spec.mean[c], (float)spec.std[c],
                       spec.rescale, a.data());
      scalar::normalizeRow(all.data(), (int)all.size(), (float)spec.rescale, (float)spec.mean[c], (float)spec.std[c],
                           spec.rescale, b.data());
      CHECK(std::memcmp(a.data(), b.data(), a.size() * 4) == 0, "%s normalizeRow differs on channel %d", isaName(isa), c);
    }
  }
}

// Brute-force torch-style bilinear upsample + argmax in float.
std::vector<uint16_t> exactRef(const std::vector<float>& l, int C, int H, int W, int ow, int oh) {
  auto axis = [](int in, int out, std::vector<int>& i0, std::vector<int>& i1, std::vector<float>& w0,
                 std::vector<float>& w1) {
    const float scale = (float)in / (float)out;
    for (int d = 0; d < out; ++d) {
      if (in == out) {
        i0.push_back(d), i1.push_back(d), w0.push_back(1), w1.push_back(0);
        continue;
      }
      float s = scale * ((float)d + 0.5f) - 0.5f;
      if (s < 0) s = 0;
      int a = std::min((int)std::floor(s), in - 1);
      float l1 = std::min(std::max(s - (float)a, 0.0f), 1.0f);
      i0.push_back(a), i1.push_back(a + (a < in - 1)), w1.push_back(l1), w0.push_back(1.0f - l1);
    }
  };
  std::vector<int> x0, x1, y0, y1;
  std::vector<float> wx0, wx1, wy0, wy1;
  axis(W, ow, x0, x1, wx0, wx1);
  axis(H, oh, y0, y1, wy0, wy1);
  std::vector<uint16_t> out((size_t)ow * oh);
  for (int y = 0; y < oh; ++y)
    for (int x = 0; x < ow; ++x) {
      float best = -std::numeric_limits<float>::infinity();
      int bi = 0;
      for (int c = 0; c < C; ++c) {
        auto at = [&](int yy, int xx) { return l[((size_t)c * H + yy) * W + xx]; };
        const float t0 = at(y0[y], x0[x]) * wx0[x] + at(y0[y], x1[x]) * wx1[x];
        const float t1 = at(y1[y], x0[x]) * wx0[x] + at(y1[y], x1[x]) * wx1[x];
        const float v = t0 * wy0[y] + t1 * wy1[y];
        if (v > best) best = v, bi = c;
      }
      out[(size_t)y * ow + x] = (uint16_t)bi;
    }
  return out;
}

void testArgmax(Rng& rng, int iterations) {
  for (int it = 0; it < iterations; ++it) {
    const int C = rng.range(1, 40), H = rng.range(1, 24), W = rng.range(1, 24);
    const int ow = rng.range(1, 90), oh = rng.range(1, 90);
    std::vector<float> l((size_t)C * H * W);
    // Blobs + noise; sometimes coarse quantised values so that ties occur.
    const bool ties = rng.range(0, 3) == 0;
    for (int c = 0; c < C; ++c) {
      const float cx = rng.uniform() * W, cy = rng.uniform() * H, s = 1 + rng.uniform() * W;
      for (int y = 0; y < H; ++y)
        for (int x = 0; x < W; ++x) {
          float v = 4 * std::exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (2 * s * s)) + rng.uniform() - 0.5f;
          if (ties) v = std::round(v * 2) / 2;
          l[((size_t)c * H + y) * W + x] = v;
        }
    }
    const std::vector<uint16_t> want = exactRef(l, C, H, W, ow, oh);
    std::vector<float> nhwc(l.size());
    for (int c = 0; c < C; ++c)
      for (int i = 0; i < H * W; ++i) nhwc[(size_t)i * C + c] = l[(size_t)c * H * W + i];
    for (int layout = 0; layout < 2; ++layout)
      for (int mode = 1; mode <= 2; ++mode) {
        std::vector<Isa> isas = simdIsas();
        isas.push_back(Isa::Scalar);
        for (Isa isa : isas) {
          ArgmaxSpec s;
          s.nhwc = layout == 1;
          s.classes = C;
          s.height = H;
          s.width = W;
          s.mode = (PostMode)mode;
          s.outW = ow;
          s.outH = oh;
          s.threads = rng.range(0, 2) == 0 ? rng.range(2, 3) : 1;
          std::vector<uint16_t> map((size_t)ow * oh);
          std::vector<uint32_t> hist(C);
          argmax(s.nhwc ? nhwc.data() : l.data(), s, ClassMapMut{map.data(), true, ow, oh}, hist.data(), isa);
          size_t mismatch = 0;
          for (size_t i = 0; i < map.size(); ++i) mismatch += map[i] != want[i];
          // The boundary mode's pruning keeps a margin for float rounding: equal to exact even with ties.
          const bool ok = mismatch == 0;
          CHECK(ok, "%s argmax mode %d layout %d C%d %dx%d -> %dx%d, %d threads: %zu mismatches", isaName(isa), mode,
                layout, C, W, H, ow, oh, s.threads, mismatch);
          std::vector<uint32_t> h2(C, 0);
          for (uint16_t v : map) ++h2[v];
          CHECK(h2 == hist, "argmax histogram wrong");
        }
      }
  }
}

// ------------------------------------------------------------------ float16 <-> float32

// Independent references: a half's value from its fields in double, and the nearest half (ties to the even
// pattern) found by searching the ordered finite positive halves: no bit tricks shared with the kernels.
double halfValue(uint16_t h) {
  const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  const double mag = e == 31 ? HUGE_VAL : e == 0 ? m * std::ldexp(1.0, -24) : (1 + m / 1024.0) * std::ldexp(1.0, e - 15);
  return (h & 0x8000) ? -mag : mag;
}

uint16_t nearestHalfRef(float f) {
  const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  const double a = std::fabs((double)f);
  // 0x7bff is the largest finite half (65504); values at or past its rounding boundary overflow.
  if (a >= 65520.0) return sign | 0x7c00;
  int lo = 0, hi = 0x7bff;  // largest pattern with value <= a
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (halfValue((uint16_t)mid) <= a) lo = mid; else hi = mid - 1;
  }
  if (lo == 0x7bff) return sign | 0x7bff;
  const double below = halfValue((uint16_t)lo), above = halfValue((uint16_t)(lo + 1));
  const double dl = a - below, du = above - a;
  const int pick = dl < du ? lo : du < dl ? lo + 1 : (lo % 2 == 0 ? lo : lo + 1);
  return (uint16_t)(sign | pick);
}

float floatOfBits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
uint32_t bitsOfFloat(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

void testFloat16(Rng& rng) {
  std::vector<Isa> isas = simdIsas();
  isas.push_back(Isa::Scalar);
  // Every half pattern widens exactly (NaNs stay NaNs with the quiet bit and payload), and narrows back to itself.
  std::vector<uint16_t> all(65536);
  for (int i = 0; i < 65536; ++i) all[i] = (uint16_t)i;
  for (Isa isa : isas) {
    std::vector<float> wide(all.size());
    std::vector<uint16_t> back(all.size());
    halfToFloat(all.data(), all.size(), wide.data(), isa);
    floatToHalf(wide.data(), wide.size(), back.data(), isa);
    int bad = 0, badBack = 0;
    for (int i = 0; i < 65536; ++i) {
      const bool nan = (i & 0x7c00) == 0x7c00 && (i & 0x3ff);
      const uint32_t b = bitsOfFloat(wide[i]);
      if (nan) {
        bad += !(std::isnan(wide[i]) && (b & 0x400000u) && (b >> 31) == (uint32_t)(i >> 15) && ((b >> 13) & 0x1ff) == (uint32_t)(i & 0x1ff));
        badBack += back[i] != (i | 0x200);
      } else {
        bad += (double)wide[i] != halfValue((uint16_t)i) || std::signbit(wide[i]) != (bool)(i & 0x8000);
        badBack += back[i] != i;
      }
    }
    CHECK(bad == 0, "%s halfToFloat: %d of 65536 patterns differ from their value", isaName(isa), bad);
    CHECK(badBack == 0, "%s floatToHalf(halfToFloat(h)) != h for %d patterns", isaName(isa), badBack);
  }
  // Narrowing: random bit patterns over the whole float range, values near the half grid (ties, subnormals,
  // the overflow boundary), against the search reference; NaNs keep sign and top payload bits.
  std::vector<float> v;
  for (int i = 0; i < 200000; ++i) v.push_back(floatOfBits((uint32_t)rng.next()));
  for (int i = 0; i < 200000; ++i) {
    // Around a random half: exact, the midpoint to its neighbour (a tie), and one float ulp either side of it.
    const uint16_t h = (uint16_t)rng.range(0, 0x7bfe);
    const double mid = (halfValue(h) + halfValue((uint16_t)(h + 1))) / 2;
    const float m = (float)mid;
    const float sign = rng.range(0, 1) ? -1.f : 1.f;
    v.push_back(sign * (float)halfValue(h));
    v.push_back(sign * m);
    v.push_back(sign * std::nextafter(m, 0.f));
    v.push_back(sign * std::nextafter(m, 1e9f));
  }
  for (float f : {65504.f, 65519.99f, 65520.f, 1e30f, 0x1p-24f, 0x1p-25f, 0x1.000002p-25f, 0x1p-26f, 1e-40f, 0.f, -0.f,
                  std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()})
    v.push_back(f);
  v.push_back(floatOfBits(0x7f800001u));  // a signalling NaN, payload below the kept bits
  v.push_back(floatOfBits(0xffc01234u));
  for (Isa isa : isas) {
    std::vector<uint16_t> got(v.size());
    const size_t offset = (size_t)rng.range(0, 7);  // unaligned starts and odd tails
    floatToHalf(v.data() + offset, v.size() - offset, got.data() + offset, isa);
    int bad = 0;
    for (size_t i = offset; i < v.size(); ++i) {
      uint16_t want;
      if (std::isnan(v[i])) {
        const uint32_t b = bitsOfFloat(v[i]);
        want = (uint16_t)(((b >> 16) & 0x8000) | 0x7e00 | ((b & 0x7fffff) >> 13));
      } else {
        want = nearestHalfRef(v[i]);
      }
      if (got[i] != want && bad++ < 5)
        std::fprintf(stderr, "  %s floatToHalf(%a) = 0x%04x, want 0x%04x\n", isaName(isa), (double)v[i], got[i], want);
    }
    CHECK(bad == 0, "%s floatToHalf: %d of %zu values differ from the nearest-even reference", isaName(isa), bad, v.size());
  }
}

// F16 logits give exactly what their float32 widening gives, in every mode.
void testArgmaxFloat16(Rng& rng, int iterations) {
  for (int it = 0; it < iterations; ++it) {
    const int C = rng.range(2, 30), H = rng.range(1, 20), W = rng.range(1, 20);
    const int ow = rng.range(1, 70), oh = rng.range(1, 70);
    std::vector<float> l((size_t)C * H * W);
    for (float& x : l) x = (rng.uniform() - 0.5f) * 16;
    std::vector<uint16_t> half(l.size());
    floatToHalf(l.data(), l.size(), half.data(), Isa::Scalar);
    std::vector<float> widened(l.size());
    halfToFloat(half.data(), half.size(), widened.data(), Isa::Scalar);
    for (int mode = 0; mode <= 2; ++mode) {
      std::vector<Isa> isas = simdIsas();
      isas.push_back(Isa::Scalar);
      for (Isa isa : isas) {
        ArgmaxSpec s;
        s.classes = C;
        s.height = H;
        s.width = W;
        s.mode = (PostMode)mode;
        s.outW = ow;
        s.outH = oh;
        s.nhwc = rng.range(0, 1) == 1;
        std::vector<uint16_t> a((size_t)ow * oh), b((size_t)ow * oh);
        std::vector<uint32_t> ha(C), hb(C);
        ArgmaxSpec f = s;
        s.type = LogitType::F16;
        argmax(half.data(), s, ClassMapMut{a.data(), true, ow, oh}, ha.data(), isa);
        argmax(widened.data(), f, ClassMapMut{b.data(), true, ow, oh}, hb.data(), isa);
        CHECK(a == b && ha == hb, "%s argmax F16 mode %d C%d %dx%d -> %dx%d differs from its float32 widening", isaName(isa),
              mode, C, W, H, ow, oh);
      }
    }
  }
}

// Boundary mode split over threads (ranges of logit rows) equals one thread, map and histogram.
void testArgmaxThreads(Rng& rng, int iterations) {
  for (int it = 0; it < iterations; ++it) {
    const int C = rng.range(2, 12), H = rng.range(16, 70), W = rng.range(1, 40);
    const int ow = rng.range(1, 160), oh = rng.range(1, 200);
    std::vector<float> l((size_t)C * H * W);
    for (float& v : l) v = rng.uniform() * 4 - 2;
    for (int layout = 0; layout < 2; ++layout)
      for (Isa isa : {bestIsa(), Isa::Scalar}) {
        ArgmaxSpec s;
        s.nhwc = layout == 1;
        s.classes = C, s.height = H, s.width = W, s.mode = PostMode::Boundary, s.outW = ow, s.outH = oh;
        std::vector<uint16_t> one((size_t)ow * oh), many(one.size());
        std::vector<uint32_t> h1(C), h2(C);
        argmax(l.data(), s, ClassMapMut{one.data(), true, ow, oh}, h1.data(), isa);
        s.threads = rng.range(2, 4);
        argmax(l.data(), s, ClassMapMut{many.data(), true, ow, oh}, h2.data(), isa);
        CHECK(one == many && h1 == h2, "%s boundary %dx%dx%d -> %dx%d, %d threads differs from one", isaName(isa), C, H, W,
              ow, oh, s.threads);
      }
  }
}

void testOverlay(Rng& rng, int iterations) {
  for (int it = 0; it < iterations; ++it) {
    const int w = randomSize(rng, true), h = randomSize(rng, true);
    const int mw = rng.range(1, 70), mh = rng.range(1, 70);
    const int classes = rng.range(1, 300);
    const bool wide = classes > 256 || rng.range(0, 1);
    std::vector<uint16_t> map16((size_t)mw * mh);
    std::vector<uint8_t> map8(map16.size());
    for (size_t i = 0; i < map16.size(); ++i) {
      map16[i] = (uint16_t)rng.range(0, classes + 3);  // some ids beyond the palette
      map8[i] = (uint8_t)map16[i];
    }
    // A narrow (uint8) map may come with a palette longer than 256 colours (the server colours a class map of
    // unknown class count with 1024): ids past 255 cannot occur and count 0.
    const int paletteSize = wide ? std::min(classes, 65536) : rng.range(0, 3) == 0 ? rng.range(257, 1024) : std::min(classes, 256);
    std::vector<uint8_t> palette = randomBytes(rng, (size_t)3 * paletteSize, false), drawn(paletteSize);
    for (auto& d : drawn) d = rng.range(0, 3) != 0;
    OverlaySpec spec;
    spec.opacity = rng.range(0, 4) == 0 ? 1.0 : rng.uniform();
    spec.palette = palette.data();
    spec.paletteSize = paletteSize;
    spec.drawn = drawn.data();
    const ClassMapView map{wide ? (const void*)map16.data() : (const void*)map8.data(), wide, mw, mh};
    Nv12Buf src = randomNv12(rng, w, h);
    const Color color = randomColor(rng);
    std::vector<uint8_t> ref((size_t)w * h * 3 / 2);
    std::vector<uint32_t> histRef(paletteSize);
    const Nv12Mut outRef{ref.data(), w, h, (size_t)w, (size_t)w, (size_t)w * h};
    overlayNv12(src.view, color, map, spec, outRef, histRef.data(), Isa::Scalar);
    std::vector<uint32_t> counted(paletteSize, 0);
    for (size_t i = 0; i < map16.size(); ++i) {
      const int id = wide ? map16[i] : map8[i];
      if (id < paletteSize) ++counted[id];
    }
    CHECK(histRef == counted, "overlay histogram (palette %d, %s map) differs from a plain count", paletteSize, wide ? "uint16" : "uint8");
    std::vector<uint8_t> rgb = randomBytes(rng, (size_t)w * h * 3, true), rgbRef(rgb.size());
    std::vector<uint32_t> histRgb(paletteSize);
    overlayRgb(RgbView{rgb.data(), w, h, (size_t)3 * w}, map, spec, RgbMut{rgbRef.data(), w, h, (size_t)3 * w},
               histRgb.data(), Isa::Scalar);
    CHECK(histRgb == histRef, "overlay histograms differ between NV12 and RGB");
    for (Isa isa : simdIsas()) {
      std::vector<uint8_t> got(ref.size());
      std::vector<uint32_t> hist(paletteSize);
      overlayNv12(src.view, color, map, spec, Nv12Mut{got.data(), w, h, (size_t)w, (size_t)w, (size_t)w * h},
                  hist.data(), isa);
      CHECK(got == ref && hist == histRef, "%s overlayNv12 %dx%d map %dx%d differs", isaName(isa), w, h, mw, mh);
      std::vector<uint8_t> g2(rgb.size());
      overlayRgb(RgbView{rgb.data(), w, h, (size_t)3 * w}, map, spec, RgbMut{g2.data(), w, h, (size_t)3 * w},
                 hist.data(), isa);
      CHECK(g2 == rgbRef && hist == histRef, "%s overlayRgb %dx%d differs", isaName(isa), w, h);
    }
  }
}

// The scalar replicated-chroma YUV row equals the scalar general one on the prepared chroma row (every build,
// including the scalar-only one).
void testYuvNearest(Rng& rng, int iterations) {
  for (int it = 0; it < iterations; ++it) {
    const int w = 2 * rng.range(1, 100);
    const YuvCoeffs k = yuvCoeffs(randomColor(rng));
    std::vector<uint8_t> yv = randomBytes(rng, w, false), uv = randomBytes(rng, w, false);
    std::vector<int16_t> chroma(w + 4);
    for (int i = 0; i < w; ++i) chroma[2 + i] = (int16_t)(4 * uv[i] - 512);
    chroma[0] = chroma[2], chroma[1] = chroma[3], chroma[w + 2] = chroma[w], chroma[w + 3] = chroma[w + 1];
    std::vector<uint8_t> o[6];
    for (auto& v : o) v.assign(w, 0);
    scalar::yuvRowNearest(yv.data(), uv.data(), w, k, o[0].data(), o[1].data(), o[2].data());
    scalar::yuvRow(yv.data(), chroma.data() + 2, w, k, false, o[3].data(), o[4].data(), o[5].data());
    CHECK(o[0] == o[3] && o[1] == o[4] && o[2] == o[5], "scalar yuvRowNearest w=%d", w);
  }
}

// Hot loops directly, at random offsets and lengths (tails, unaligned pointers).
void testOps(Rng& rng, int iterations) {
  for (Isa isa : simdIsas()) {
    const Ops& ops = opsFor(isa);
    for (int it = 0; it < iterations; ++it) {
      const int n = rng.range(1, 300), off = rng.range(0, 7);
      std::vector<uint8_t> a = randomBytes(rng, n + 64, false), b = randomBytes(rng, n + 64, false);
      std::vector<uint8_t> x(n + 64), y(n + 64);
      const int alpha = rng.range(0, 256);
      std::vector<uint16_t> tm(n + 64);
      for (auto& e : tm) e = (uint16_t)(rng.range(0, 255) | (rng.range(0, 1) ? 0xFF00 : 0));
      ops.blendRow(a.data() + off, tm.data() + off, alpha, n, x.data() + off);
      scalar::blendRow(a.data() + off, tm.data() + off, alpha, n, y.data() + off);
      CHECK(x == y, "%s blendRow n=%d alpha=%d", isaName(isa), n, alpha);
      std::vector<uint8_t> p0(n + 16), p1(n + 16), p2(n + 16), q0(n + 16), q1(n + 16), q2(n + 16);
      std::vector<uint8_t> src = randomBytes(rng, (size_t)3 * n + 64, false), m1(3 * n + 64), m2(3 * n + 64);
      ops.split3(src.data() + off, n, p0.data(), p1.data(), p2.data());
      scalar::split3(src.data() + off, n, q0.data(), q1.data(), q2.data());
      CHECK(p0 == q0 && p1 == q1 && p2 == q2, "%s split3 n=%d", isaName(isa), n);
      ops.merge3(p0.data(), p1.data(), p2.data(), n, m1.data());
      scalar::merge3(p0.data(), p1.data(), p2.data(), n, m2.data());
      CHECK(m1 == m2, "%s merge3 n=%d", isaName(isa), n);
      ops.split2(src.data() + off, n, p0.data(), p1.data());
      scalar::split2(src.data() + off, n, q0.data(), q1.data());
      CHECK(p0 == q0 && p1 == q1, "%s split2 n=%d", isaName(isa), n);
      ops.merge2(p0.data(), p1.data(), n, m1.data());
      scalar::merge2(p0.data(), p1.data(), n, m2.data());
      CHECK(m1 == m2, "%s merge2 n=%d", isaName(isa), n);
      // Replicated-chroma YUV rows straight from NV12 chroma == yuvRow on the prepared chroma row.
      {
        const int w = 2 * rng.range(1, 150);
        const YuvCoeffs k = yuvCoeffs(randomColor(rng));
        std::vector<uint8_t> yv = randomBytes(rng, w + 8, false), uv = randomBytes(rng, w + 8, false);
        std::vector<int16_t> chroma(w + 4);
        for (int i = 0; i < w; ++i) chroma[2 + i] = (int16_t)(4 * uv[off + i] - 512);
        chroma[0] = chroma[2], chroma[1] = chroma[3], chroma[w + 2] = chroma[w], chroma[w + 3] = chroma[w + 1];
        std::vector<uint8_t> o[6];
        for (auto& v : o) v.assign(w, 0);
        ops.yuvRowNearest(yv.data() + 1, uv.data() + off, w, k, o[0].data(), o[1].data(), o[2].data());
        scalar::yuvRow(yv.data() + 1, chroma.data() + 2, w, k, false, o[3].data(), o[4].data(), o[5].data());
        CHECK(o[0] == o[3] && o[1] == o[4] && o[2] == o[5], "%s yuvRowNearest w=%d", isaName(isa), w);
      }
      // argmax steps with NaN, infinities and ties
      std::vector<float> plane(n), bestA(n), bestB(n), other(n);
      std::vector<uint16_t> idxA(n), idxB(n);
      for (int i = 0; i < n; ++i) {
        const int kind = rng.range(0, 20);
        plane[i] = kind == 0 ? NAN : kind == 1 ? INFINITY : kind == 2 ? -INFINITY : (float)rng.range(-3, 3) * 0.5f;
        bestA[i] = bestB[i] = (float)rng.range(-3, 3) * 0.5f;
        other[i] = rng.uniform() * 8 - 4;
        idxA[i] = idxB[i] = (uint16_t)rng.range(0, 9);
      }
      ops.argmaxPlane(plane.data(), n, 7, bestA.data(), idxA.data());
      scalar::argmaxPlane(plane.data(), n, 7, bestB.data(), idxB.data());
      CHECK(idxA == idxB && std::memcmp(bestA.data(), bestB.data(), n * 4) == 0, "%s argmaxPlane n=%d", isaName(isa), n);
      // Candidates that differ from each other by a few ulps: any change in rounding (e.g. a fused
      // multiply-add) flips some of these decisions.
      {
        const int nc = rng.range(0, 9) == 0 ? rng.range(33, 50) : rng.range(1, 6), npx = rng.range(1, 40);
        std::vector<float> vals((size_t)4 * nc), wx0(npx + 8), wx1(npx + 8);
        std::vector<uint16_t> cls(nc);
        float base[4];
        for (float& b : base) b = rng.uniform() * 20 - 10;
        for (int k = 0; k < nc; ++k) {
          cls[k] = (uint16_t)(3 * k + 1);
          for (int j = 0; j < 4; ++j) {
            float v = base[j];
            for (int u = rng.range(0, 6); u > 0; --u) v = std::nextafter(v, rng.range(0, 1) ? 100.0f : -100.0f);
            vals[(size_t)4 * k + j] = v;
          }
        }
        for (int x = 0; x < npx + 8; ++x) {
          wx1[x] = rng.uniform();
          wx0[x] = 1.0f - wx1[x];
        }
        const int rows = rng.range(1, 7);
        std::vector<float> wy0(rows), wy1(rows);
        for (int r = 0; r < rows; ++r) {
          wy1[r] = rng.uniform();
          wy0[r] = 1.0f - wy1[r];
        }
        const size_t stride = (size_t)npx + rng.range(0, 9);
        const bool wide = rng.range(0, 1);
        const int elem = wide ? 2 : 1;
        std::vector<uint8_t> bytesA(stride * rows * elem + 16, 0xEE), bytesB(bytesA);
        std::vector<uint32_t> countA(nc, 0), countB(nc, 0);
        ops.evalCandidates(wx0.data(), wx1.data(), npx, wy0.data(), wy1.data(), rows, vals.data(), cls.data(), nc,
                           bytesA.data(), stride, wide, countA.data());
        scalar::evalCandidates(wx0.data(), wx1.data(), npx, wy0.data(), wy1.data(), rows, vals.data(), cls.data(), nc,
                               bytesB.data(), stride, wide, countB.data());
        // Same classes and counts, and nothing written outside the n pixels of each row.
        CHECK(bytesA == bytesB && countA == countB, "%s evalCandidates near ties nc=%d n=%d", isaName(isa), nc, npx);
        size_t untouched = 0;
        for (size_t i = 0; i < bytesB.size(); ++i)
          untouched += bytesB[i] == 0xEE && !(i / elem < stride * rows && (i / elem) % stride < (size_t)npx);
        CHECK(untouched == bytesB.size() - (size_t)npx * rows * elem, "evalCandidates wrote outside its pixels");
        // anyAtLeast4 with ties, NaN thresholds and NaN values.
        std::vector<float> th(64), q[4];
        for (int x = 0; x < 64; ++x) th[x] = rng.range(0, 9) == 0 ? NAN : (float)rng.range(-2, 2);
        for (auto& v : q) {
          v.resize(64);
          for (float& f : v) f = rng.range(0, 19) == 0 ? NAN : (float)rng.range(-4, 2);
        }
        const int m = std::min(npx, 64);
        const float top = rng.range(0, 1) ? INFINITY : 2.0f;  // every value is <= 2
        const uint64_t got = ops.anyAtLeast4(q[0].data(), q[1].data(), q[2].data(), q[3].data(), th.data(), m, top);
        const uint64_t want = scalar::anyAtLeast4(q[0].data(), q[1].data(), q[2].data(), q[3].data(), th.data(), m, top);
        uint64_t brute = 0;
        for (int x = 0; x < m; ++x)
          for (auto& v : q) brute |= (uint64_t)(v[x] >= th[x]) << x;
        CHECK(got == want && want == brute, "%s anyAtLeast4 n=%d", isaName(isa), m);
      }
      // Argmax step with chunk maxima (NaN, infinities, ties; every chunk tail length), argmax of a vector.
      {
        const int cls = rng.range(0, 1) ? 0 : rng.range(1, 300);
        std::vector<float> bA(n), bB(n), cmA((n + 63) / 64), cmB((n + 63) / 64);
        std::vector<uint16_t> iA(n), iB(n);
        for (int i = 0; i < n; ++i) {
          bA[i] = bB[i] = (float)rng.range(-3, 3) * 0.5f;
          iA[i] = iB[i] = (uint16_t)rng.range(0, 9);
        }
        std::vector<float> copyA(n, 7.0f), copyB(n, 7.0f);
        const bool withCopy = rng.range(0, 1);
        ops.argmaxRowMax(plane.data(), n, cls, bA.data(), iA.data(), cmA.data(), withCopy ? copyA.data() : nullptr);
        scalar::argmaxRowMax(plane.data(), n, cls, bB.data(), iB.data(), cmB.data(), withCopy ? copyB.data() : nullptr);
        CHECK(std::memcmp(copyA.data(), copyB.data(), n * 4) == 0 &&
                  (!withCopy || std::memcmp(copyA.data(), plane.data(), n * 4) == 0),
              "%s argmaxRowMax copy", isaName(isa));
        bool chunksEqual = true;  // compared as numbers: the sign of a zero maximum may differ
        for (size_t k = 0; k < cmA.size(); ++k) chunksEqual = chunksEqual && cmA[k] == cmB[k];
        CHECK(iA == iB && std::memcmp(bA.data(), bB.data(), n * 4) == 0 && chunksEqual, "%s argmaxRowMax n=%d cls=%d",
              isaName(isa), n, cls);
        for (size_t k = 0; k < cmB.size(); ++k) {
          float want = -INFINITY;
          for (int i = (int)k * 64; i < std::min(n, (int)k * 64 + 64); ++i)
            if (plane[i] > want) want = plane[i];
          CHECK(cmB[k] == want, "scalar argmaxRowMax chunk maximum");
        }
        const int m = rng.range(1, n);
        CHECK(ops.argmaxVector(plane.data(), m) == scalar::argmaxVector(plane.data(), m), "%s argmaxVector n=%d",
              isaName(isa), m);
      }
      const float wa = rng.uniform(), wb = 1 - wa;
      ops.blendArgmax(plane.data(), other.data(), wa, wb, n, 3, bestA.data(), idxA.data());
      scalar::blendArgmax(plane.data(), other.data(), wa, wb, n, 3, bestB.data(), idxB.data());
      CHECK(idxA == idxB && std::memcmp(bestA.data(), bestB.data(), n * 4) == 0, "%s blendArgmax n=%d", isaName(isa), n);
    }
  }
}

// ------------------------------------------------------------------ micro-benchmark (thread CPU time)

double cpuMs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void bench(const char* name, const std::function<void()>& fn) {
  fn();
  std::vector<double> t;
  for (int i = 0; i < 15; ++i) {
    const double a = cpuMs();
    fn();
    t.push_back(cpuMs() - a);
  }
  std::sort(t.begin(), t.end());
  std::printf("%-44s median %8.3f ms  min %8.3f ms (thread CPU time)\n", name, t[t.size() / 2], t[0]);
}

void runBench() {
  Rng rng(1);
  for (auto [w, h] : {std::pair<int, int>{1280, 720}, {1920, 1080}}) {
    std::vector<uint8_t> rgb = randomBytes(rng, (size_t)w * h * 3, true);
    std::vector<uint8_t> nv((size_t)w * h * 3 / 2);
    const Nv12Mut m{nv.data(), w, h, (size_t)w, (size_t)w, (size_t)w * h};
    rgbToNv12(RgbView{rgb.data(), w, h, (size_t)3 * w}, Color{}, m);
    const Nv12View v{nv.data(), w, h, (size_t)w, (size_t)w, (size_t)w * h};
    TensorSpec spec;
    spec.outW = spec.outH = 512;
    std::vector<float> out(3 * 512 * 512);
    std::vector<Isa> isas = simdIsas();
    isas.push_back(Isa::Scalar);
    for (Isa isa : isas) {
      char label[96];
      std::snprintf(label, sizeof label, "nv12ToTensor %dx%d->512 %s", w, h, isaName(isa));
      bench(label, [&] { nv12ToTensor(v, Color{}, spec, out.data(), isa); });
      std::snprintf(label, sizeof label, "rgbToTensor %dx%d->512 %s", w, h, isaName(isa));
      bench(label, [&] { rgbToTensor(RgbView{rgb.data(), w, h, (size_t)3 * w}, spec, out.data(), isa); });
      std::vector<uint8_t> o(512 * 512 * 3 / 2);
      std::snprintf(label, sizeof label, "resizeNv12 %dx%d->512 %s", w, h, isaName(isa));
      bench(label, [&] { resizeNv12(v, Nv12Mut{o.data(), 512, 512, 512, 512, 512 * 512}, isa); });
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t seed = 12345;
  int iterations = 60;
  bool doBench = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) seed = std::strtoull(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--iterations") && i + 1 < argc) iterations = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--bench")) doBench = true;
  }
  if (doBench) {
    runBench();
    return 0;
  }
  std::printf("kernel_tests: isa %s, seed %llu, %d iterations\n", isaName(bestIsa()), (unsigned long long)seed, iterations);
  Rng rng(seed);
  testNormalizeExhaustive();
  testYuvNearest(rng, iterations);
  testOps(rng, iterations * 4);
  testResizeRgb(rng, iterations);
  testNv12(rng, iterations);
  testArgmax(rng, iterations / 2);
  testArgmaxThreads(rng, iterations / 4);
  testOverlay(rng, iterations);
  testFloat16(rng);
  testArgmaxFloat16(rng, iterations / 4);
  std::printf("kernel_tests: %d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
