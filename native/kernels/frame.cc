// Frame kernels built on the Pillow-exact resampler: row sources (RGB, NV12 -> RGB, NV12 planes) and row
// sinks (normalised float tensor, interleaved RGB, NV12 planes).
#include <cstring>
#include <vector>

#include "internal.h"

namespace segk {

namespace {

// Planar RGB rows decoded from NV12 one row at a time (no full-size RGB image is ever made).
class Nv12RgbSource final : public RowSource {
 public:
  Nv12RgbSource(const Nv12View& in, Color color, const Ops& ops)
      : in_(in), k_(yuvCoeffs(color)), bilinear_(color.chromaBilinear), ops_(ops), chroma_((size_t)in.width + 4) {}
  void row(int y, uint8_t* const* scratch, const uint8_t** out) override {
    const int w = in_.width;
    const int rowsUV = in_.height / 2;
    for (int p = 0; p < 3; ++p) out[p] = scratch[p];
    if (!bilinear_) {  // replicated chroma: read straight from the chroma row
      ops_.yuvRowNearest(in_.data + (size_t)y * in_.strideY, in_.data + in_.offsetUV + (size_t)(y >> 1) * in_.strideUV,
                         w, k_, scratch[0], scratch[1], scratch[2]);
      return;
    }
    // Centre-sited chroma: luma row y sits a quarter chroma row away from its own chroma row toward the
    // neighbour, so the bilinear vertical weights are 3/4 and 1/4.
    const int j = y >> 1;
    int jf = (y & 1) ? j + 1 : j - 1;
    if (jf < 0) jf = 0;
    if (jf >= rowsUV) jf = rowsUV - 1;
    const uint8_t* a = in_.data + in_.offsetUV + (size_t)j * in_.strideUV;
    const uint8_t* b = in_.data + in_.offsetUV + (size_t)jf * in_.strideUV;
    int16_t* c = chroma_.data() + 2;
    for (int i = 0; i < w; ++i) c[i] = (int16_t)(3 * a[i] + b[i] - 512);
    c[-2] = c[0];
    c[-1] = c[1];
    c[w] = c[w - 2];
    c[w + 1] = c[w - 1];
    ops_.yuvRow(in_.data + (size_t)y * in_.strideY, c, w, k_, bilinear_, scratch[0], scratch[1], scratch[2]);
  }

 private:
  Nv12View in_;
  YuvCoeffs k_;
  bool bilinear_;
  const Ops& ops_;
  std::vector<int16_t> chroma_;
};

class RgbSource final : public RowSource {
 public:
  RgbSource(const RgbView& in, const Ops& ops) : in_(in), ops_(ops) {}
  void row(int y, uint8_t* const* scratch, const uint8_t** out) override {
    ops_.split3(in_.data + (size_t)y * in_.stride, in_.width, scratch[0], scratch[1], scratch[2]);
    for (int p = 0; p < 3; ++p) out[p] = scratch[p];
  }

 private:
  RgbView in_;
  const Ops& ops_;
};

// One plane read in place (NV12 luma).
class PlaneSource final : public RowSource {
 public:
  PlaneSource(const uint8_t* data, size_t stride) : data_(data), stride_(stride) {}
  void row(int y, uint8_t* const*, const uint8_t** out) override { out[0] = data_ + (size_t)y * stride_; }

 private:
  const uint8_t* data_;
  size_t stride_;
};

// Interleaved pairs split into two planes (NV12 chroma).
class PairSource final : public RowSource {
 public:
  PairSource(const uint8_t* data, size_t stride, int pairs, const Ops& ops)
      : data_(data), stride_(stride), pairs_(pairs), ops_(ops) {}
  void row(int y, uint8_t* const* scratch, const uint8_t** out) override {
    ops_.split2(data_ + (size_t)y * stride_, pairs_, scratch[0], scratch[1]);
    out[0] = scratch[0];
    out[1] = scratch[1];
  }

 private:
  const uint8_t* data_;
  size_t stride_;
  int pairs_;
  const Ops& ops_;
};

class TensorSink final : public RowSink {
 public:
  TensorSink(const TensorSpec& spec, float* out, const Ops& ops) : spec_(spec), out_(out), ops_(ops) {
    if (spec.nhwc) tmp_.resize((size_t)3 * spec.outW);
  }
  void row(int y, const uint8_t* const* planes) override {
    const int w = spec_.outW;
    const size_t plane = (size_t)spec_.outW * spec_.outH;
    for (int c = 0; c < 3; ++c) {
      const int p = spec_.bgr ? 2 - c : c;
      float* dst = spec_.nhwc ? tmp_.data() + (size_t)c * w : out_ + c * plane + (size_t)y * w;
      ops_.normalizeRow(planes[p], w, (float)spec_.rescale, (float)spec_.mean[c], (float)spec_.std[c],
                        spec_.rescale, dst);
    }
    if (spec_.nhwc) {
      float* d = out_ + (size_t)y * w * 3;
      for (int x = 0; x < w; ++x)
        for (int c = 0; c < 3; ++c) d[3 * x + c] = tmp_[(size_t)c * w + x];
    }
  }

 private:
  TensorSpec spec_;
  float* out_;
  const Ops& ops_;
  std::vector<float> tmp_;
};

class RgbSink final : public RowSink {
 public:
  RgbSink(const RgbMut& out, const Ops& ops) : out_(out), ops_(ops) {}
  void row(int y, const uint8_t* const* planes) override {
    ops_.merge3(planes[0], planes[1], planes[2], out_.width, out_.data + (size_t)y * out_.stride);
  }

 private:
  RgbMut out_;
  const Ops& ops_;
};

// Writes one plane; row padding (stride > width) repeats the last pixel.
class PlaneSink final : public RowSink {
 public:
  PlaneSink(uint8_t* data, size_t stride, int width) : data_(data), stride_(stride), width_(width) {}
  void row(int y, const uint8_t* const* planes) override {
    uint8_t* d = data_ + (size_t)y * stride_;
    std::memcpy(d, planes[0], width_);
    if (stride_ > (size_t)width_) std::memset(d + width_, d[width_ - 1], stride_ - width_);
  }

 private:
  uint8_t* data_;
  size_t stride_;
  int width_;
};

class PairSink final : public RowSink {
 public:
  PairSink(uint8_t* data, size_t stride, int pairs, const Ops& ops)
      : data_(data), stride_(stride), pairs_(pairs), ops_(ops) {}
  void row(int y, const uint8_t* const* planes) override {
    uint8_t* d = data_ + (size_t)y * stride_;
    ops_.merge2(planes[0], planes[1], pairs_, d);
    for (size_t o = (size_t)2 * pairs_; o + 1 < stride_; o += 2) {
      d[o] = d[2 * pairs_ - 2];
      d[o + 1] = d[2 * pairs_ - 1];
    }
  }

 private:
  uint8_t* data_;
  size_t stride_;
  int pairs_;
  const Ops& ops_;
};

}  // namespace

float normalizeValue(int value, int channel, const TensorSpec& spec) {
  const uint8_t v = (uint8_t)value;
  float out;
  scalar::normalizeRow(&v, 1, (float)spec.rescale, (float)spec.mean[channel], (float)spec.std[channel],
                           spec.rescale, &out);
  return out;
}

// Output rows per thread below which a split does not pay for starting a thread.
constexpr int kMinRowsPerThread = 32;

void nv12ToTensor(const Nv12View& in, Color color, const TensorSpec& spec, float* out, Isa isa) {
  const Ops& ops = opsFor(isa);
  runSplit(spec.threads, spec.outH, kMinRowsPerThread, [&](int begin, int end) {
    Nv12RgbSource src(in, color, ops);
    TensorSink sink(spec, out, ops);
    resamplePlanar(src, 3, in.width, in.height, spec.outW, spec.outH, sink, ops, begin, end);
  });
}

void rgbToTensor(const RgbView& in, const TensorSpec& spec, float* out, Isa isa) {
  const Ops& ops = opsFor(isa);
  runSplit(spec.threads, spec.outH, kMinRowsPerThread, [&](int begin, int end) {
    RgbSource src(in, ops);
    TensorSink sink(spec, out, ops);
    resamplePlanar(src, 3, in.width, in.height, spec.outW, spec.outH, sink, ops, begin, end);
  });
}

void resizeRgb(const RgbView& in, const RgbMut& out, Isa isa) {
  const Ops& ops = opsFor(isa);
  RgbSource src(in, ops);
  RgbSink sink(out, ops);
  resamplePlanar(src, 3, in.width, in.height, out.width, out.height, sink, ops);
}

void nv12ToRgb(const Nv12View& in, Color color, const RgbMut& out, Isa isa) {
  const Ops& ops = opsFor(isa);
  Nv12RgbSource src(in, color, ops);
  RgbSink sink(out, ops);
  resamplePlanar(src, 3, in.width, in.height, out.width, out.height, sink, ops);
}

void resizeNv12(const Nv12View& in, const Nv12Mut& out, Isa isa) {
  const Ops& ops = opsFor(isa);
  PlaneSource ySrc(in.data, in.strideY);
  PlaneSink ySink(out.data, out.strideY, out.width);
  resamplePlanar(ySrc, 1, in.width, in.height, out.width, out.height, ySink, ops);
  PairSource uvSrc(in.data + in.offsetUV, in.strideUV, in.width / 2, ops);
  PairSink uvSink(out.data + out.offsetUV, out.strideUV, out.width / 2, ops);
  resamplePlanar(uvSrc, 2, in.width / 2, in.height / 2, out.width / 2, out.height / 2, uvSink, ops);
}

}  // namespace segk
