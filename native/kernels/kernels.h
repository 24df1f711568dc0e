// Plain C++ interface of the segstream frame kernels. No Node types here: the addon (addon.cc) and the
// standalone test drivers (tests/) both call these functions. Callers validate sizes and buffer lengths;
// the kernels trust the views they are given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace segk {

// Instruction set used by the hot loops. Every SIMD path computes exactly what the scalar path computes
// (integer arithmetic, or float arithmetic in the same order without contraction).
enum class Isa : int { Scalar = 0, Avx2 = 1, Neon = 2 };

// Best instruction set this CPU runs (detected once, immutable afterwards).
Isa bestIsa();
const char* isaName(Isa isa);
inline Isa pickIsa(bool allowSimd) { return allowSimd ? bestIsa() : Isa::Scalar; }

// YUV <-> RGB colour model.
struct Color {
  bool bt709 = false;  // false: BT.601
  bool full = false;   // false: limited (16-235 / 16-240)
  // NV12 decode only. false: each chroma sample covers its 2x2 block (replication, as libyuv); true: bilinear
  // between centre-sited chroma samples (weights 3/4, 1/4).
  bool chromaBilinear = false;
};

struct Nv12View {
  const uint8_t* data = nullptr;
  int width = 0, height = 0;
  size_t strideY = 0, strideUV = 0, offsetUV = 0;
};

struct Nv12Mut {
  uint8_t* data = nullptr;
  int width = 0, height = 0;
  size_t strideY = 0, strideUV = 0, offsetUV = 0;
};

struct RgbView {
  const uint8_t* data = nullptr;
  int width = 0, height = 0;
  size_t stride = 0;  // bytes per row (>= 3 * width)
};

struct RgbMut {
  uint8_t* data = nullptr;
  int width = 0, height = 0;
  size_t stride = 0;
};

// Rescale + normalise + layout of the float tensor made from an RGB image of outW x outH.
struct TensorSpec {
  int outW = 0, outH = 0;
  double mean[3] = {0, 0, 0};
  double std[3] = {1, 1, 1};
  double rescale = 1.0 / 255.0;
  bool nhwc = false;
  bool bgr = false;
  // Threads that split the output rows (1: the calling thread only). Results do not depend on it.
  int threads = 1;
};

// NV12 is decoded one row at a time (never a full-size RGB image), then resized like Pillow.
void nv12ToTensor(const Nv12View& in, Color color, const TensorSpec& spec, float* out, Isa isa);
void rgbToTensor(const RgbView& in, const TensorSpec& spec, float* out, Isa isa);
void resizeRgb(const RgbView& in, const RgbMut& out, Isa isa);
void nv12ToRgb(const Nv12View& in, Color color, const RgbMut& out, Isa isa);
void resizeNv12(const Nv12View& in, const Nv12Mut& out, Isa isa);
// Encoder used by tests, calibration and verification: Y per pixel, chroma = 2x2 average (centre-sited).
void rgbToNv12(const RgbView& in, Color color, const Nv12Mut& out);

// Float value the reference processor produces for one 8-bit channel value (exposed for tests).
float normalizeValue(int value, int channel, const TensorSpec& spec);

enum class LogitType : int { F32 = 0, I8 = 1, I16 = 2, I32 = 3, F16 = 4 };
enum class PostMode : int { LowRes = 0, Exact = 1, Boundary = 2 };
// The names TypeScript uses for each PostMode, indexed by its value (server/protocol/postprocess-modes.ts; the
// addon exports this list and the TypeScript side checks it on load, so the two cannot drift apart).
constexpr const char* kPostModeNames[] = {"lowres", "exact", "boundary"};
constexpr int kPostModeCount = sizeof(kPostModeNames) / sizeof(kPostModeNames[0]);
static_assert(kPostModeCount == (int)PostMode::Boundary + 1, "a PostMode without a name");

struct ArgmaxSpec {
  LogitType type = LogitType::F32;
  bool nhwc = false;
  int classes = 0, height = 0, width = 0;
  const float* scales = nullptr;  // 1 or `classes` entries (int types only)
  int nScales = 0;
  const int32_t* zeroPoints = nullptr;  // 0, 1 or `classes` entries
  int nZeroPoints = 0;
  PostMode mode = PostMode::LowRes;
  int outW = 0, outH = 0;
  // Threads that split the work of the boundary mode by logit rows (1: the calling thread only). Results do not
  // depend on it.
  int threads = 1;
};

// Class map element type follows the class count: uint8 when classes <= 256, else uint16.
struct ClassMapMut {
  void* data = nullptr;
  bool wide = false;
  int width = 0, height = 0;
};
struct ClassMapView {
  const void* data = nullptr;
  bool wide = false;
  int width = 0, height = 0;
};

// Half-precision tensors (16-bit patterns) <-> float32, n values (see Ops::halfToFloat for the exact rules):
// float16 model inputs are written from the float32 preprocessing, float16 outputs read before argmax.
void halfToFloat(const uint16_t* src, size_t n, float* dst, Isa isa);
void floatToHalf(const float* src, size_t n, uint16_t* dst, Isa isa);

// histogram has `classes` entries and counts the output class map's pixels. F16 logits are widened to float32
// first (exact), then take the float path.
void argmax(const void* logits, const ArgmaxSpec& spec, const ClassMapMut& out, uint32_t* histogram, Isa isa);
void resizeClassMap(const ClassMapView& in, const ClassMapMut& out);

struct OverlaySpec {
  double opacity = 0.5;
  const uint8_t* palette = nullptr;  // 3 bytes (RGB) per class
  int paletteSize = 0;               // classes in the palette
  const uint8_t* drawn = nullptr;    // paletteSize flags: 1 = blend this class (highlight and hidden applied)
};

// Blend the palette colour of each sample's class into the image: luma/RGB pixels and NV12 chroma samples each
// take the nearest map sample at their own resolution. Ids >= paletteSize are neither drawn nor counted;
// histogram (paletteSize entries) counts the class map's pixels.
void overlayNv12(const Nv12View& in, Color color, const ClassMapView& map, const OverlaySpec& spec,
                 const Nv12Mut& out, uint32_t* histogram, Isa isa);
void overlayRgb(const RgbView& in, const ClassMapView& map, const OverlaySpec& spec, const RgbMut& out,
                uint32_t* histogram, Isa isa);

// Nearest-neighbour source index (centre sampling) used by class-map resizing and overlay.
inline int nearestIndex(int dst, int inSize, int outSize) {
  long long v = ((2LL * dst + 1) * inSize) / (2LL * outSize);
  return v >= inSize ? inSize - 1 : (int)v;
}

}  // namespace segk
