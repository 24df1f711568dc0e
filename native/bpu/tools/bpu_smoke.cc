// A Node-free smoke test of the BPU backend core (BpuModel) over the hb_dnn test double, for builds that cannot
// load the addon, e.g. the aarch64 cross build run under qemu (scripts/bpu-cross-compile.sh). It runs two fixture
// models and checks every output value against the double's documented functions.
//   bpu_smoke <test/fixtures/bpu directory>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../src/bpu_error.h"
#include "../src/bpu_model.h"
#include "dnn/hb_dnn_test_double.h"


using segbpu::BpuModel;

namespace {

int failures = 0;
// Closes a model, true when nothing failed.
bool Closed(segbpu::BpuModel& m) {
  std::vector<segbpu::BpuError> errors;
  return m.Close(errors, true) && errors.empty();
}


void Expect(bool ok, const std::string& what) {
  if (!ok) {
    failures++;
    std::fprintf(stderr, "FAIL: %s\n", what.c_str());
  }
}

// nv12_packed_f32: output (1,3,8,32) NCHW float = Y/U/V + 0.5, from a frame with 40-byte rows. The model reports
// NV12; the backend feeds it as NV12_SEPARATE with 32-byte rows.
void PackedNv12(const std::string& dir) {
  segbpu::LoadOptions o;
  o.files = {dir + "/nv12-models.json"};
  o.modelName = "nv12_packed_f32";
  auto m = BpuModel::Load(o);
  const int W = 32, H = 8, stride = 40;
  std::vector<uint8_t> frame(stride * H * 3 / 2, 0xEE);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) frame[y * stride + x] = static_cast<uint8_t>(x * 7 + y * 13);
  for (int y = 0; y < H / 2; y++)
    for (int x = 0; x < W; x++) frame[stride * H + y * stride + x] = static_cast<uint8_t>(200 + x + y);
  segbpu::RunInput in;
  in.nv12 = true;
  in.image = {frame.data(), frame.size(), W, H, stride, stride, int64_t(stride) * H};
  std::vector<float> out(3 * H * W);
  m->Run(0, in, {segbpu::OutputType::Float32, out.data(), out.size() * sizeof(float)});
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        const int v = c == 0 ? frame[y * stride + x] : frame[stride * H + (y / 2) * stride + (x & ~1) + (c - 1)];
        Expect(out[(c * H + y) * W + x] == v + 0.5f, "nv12_packed_f32 value at c" + std::to_string(c) + " y" + std::to_string(y) + " x" + std::to_string(x));
      }
  hbDNNTensorProperties fed{};
  int64_t planes[2] = {0, 0};
  Expect(hbTestDoubleLastInput(&fed, planes) == 2 && fed.tensorType == HB_DNN_IMG_TYPE_NV12_SEPARATE &&
             fed.alignedShape.dimensionSize[3] == 32 && planes[0] == 32 * H && planes[1] == 32 * H / 2,
         "nv12_packed_f32 fed as NV12_SEPARATE with 32-byte rows");
  Expect(Closed(*m), "nv12_packed_f32 close");
}

// s8_nhwc_per_channel: S8 NHWC input (C 3 padded to 4) -> S8 NHWC (C 5 padded to 16), raw = sat8(v + 20c).
// Exercises int8 handling where plain char is unsigned (aarch64).
void SignedPerChannel(const std::string& dir) {
  segbpu::LoadOptions o;
  o.files = {dir + "/quantized-outputs.json"};
  o.modelName = "s8_nhwc_per_channel";
  auto m = BpuModel::Load(o);
  const float scales[] = {0.0625f, 0.125f, 0.25f, 0.5f, 1.f};
  const int zeros[] = {-1, 0, 2, 0, 5};
  std::vector<int8_t> input(4 * 6 * 3);
  for (int h = 0; h < 4; h++)
    for (int w = 0; w < 6; w++)
      for (int c = 0; c < 3; c++) input[(h * 6 + w) * 3 + c] = static_cast<int8_t>(((c * 53 + h * 29 + w * 17) % 200) - 100);
  segbpu::RunInput in;
  in.tensor = reinterpret_cast<const uint8_t*>(input.data());
  in.tensorBytes = input.size();
  std::vector<float> out(4 * 6 * 5);
  m->Run(0, in, {segbpu::OutputType::Float32, out.data(), out.size() * sizeof(float)});
  for (int h = 0; h < 4; h++)
    for (int w = 0; w < 6; w++)
      for (int c = 0; c < 5; c++) {
        int raw = input[(h * 6 + w) * 3 + c % 3] + 20 * c;
        raw = raw > 127 ? 127 : raw < -128 ? -128 : raw;
        const float want = static_cast<float>((double(raw) - zeros[c]) * double(scales[c]));
        Expect(out[(h * 6 + w) * 5 + c] == want, "s8_nhwc_per_channel value at h" + std::to_string(h) + " w" + std::to_string(w) + " c" + std::to_string(c));
      }
  Expect(Closed(*m), "s8_nhwc_per_channel close");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: bpu_smoke <test/fixtures/bpu directory>\n");
    return 2;
  }
  try {
    PackedNv12(argv[1]);
    SignedPerChannel(argv[1]);
    try {
      segbpu::LoadOptions o;
      o.files = {std::string(argv[1]) + "/x3-model.json"};
      BpuModel::Load(o);
      Expect(false, "x3-model.json loaded");
    } catch (const segbpu::BpuError& e) {
      Expect(e.call == "hbDNNInitializeFromFiles" && std::strstr(e.what(), "Incompatible Platform"), std::string("X3 error: ") + e.what());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FAIL: %s\n", e.what());
    return 1;
  }
  hbTestDoubleStats s{};
  hbTestDoubleGetStats(&s);
  Expect(s.liveAllocations == 0 && s.liveTasks == 0 && s.livePackedHandles == 0, "everything freed");
  if (failures) return 1;
  std::printf("bpu_smoke: ok (%lld inferences, %lld allocations)\n", (long long)s.inferCalls, (long long)s.allocations);
  return 0;
}
