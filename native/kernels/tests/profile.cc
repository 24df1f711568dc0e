// Profiling driver for the two budgeted kernels (no Node): NV12 -> 512x512 tensor and boundary argmax.
//   kernel_profile [--logits file.f32] [--only nv12|boundary] [--reps N] [--dump DIR]
// --dump writes the outputs of many configurations to DIR (to compare two builds byte for byte).
// Prints thread-CPU-time medians; also the program to run under valgrind --tool=callgrind.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "../kernels.h"

using namespace segk;

namespace {
double cpuMs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double wallMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double processMs() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// Thread CPU time (the calling thread), process CPU time (all threads) and wall time; medians.
void bench(const char* name, int reps, const std::function<void()>& fn) {
  fn();
  std::vector<double> t, p, w;
  for (int i = 0; i < reps; ++i) {
    const double a = cpuMs(), b = processMs(), c = wallMs();
    fn();
    t.push_back(cpuMs() - a);
    p.push_back(processMs() - b);
    w.push_back(wallMs() - c);
  }
  for (auto* v : {&t, &p, &w}) std::sort(v->begin(), v->end());
  std::printf("%-48s median %7.3f ms  min %7.3f ms  (%d runs, thread CPU); process CPU %.3f, wall %.3f\n", name,
              t[t.size() / 2], t[0], reps, p[p.size() / 2], w[w.size() / 2]);
}

std::vector<float> synthLogits(int C, int H, int W) {
  std::vector<float> l((size_t)C * H * W);
  uint64_t s = 88172645463325252ull;
  auto rnd = [&] {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return (float)((s >> 40) / 16777216.0);
  };
  for (int c = 0; c < C; ++c) {
    const float cx = rnd() * W, cy = rnd() * H, r = 4 + rnd() * W / 3;
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x)
        l[((size_t)c * H + y) * W + x] = 6 * std::exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (2 * r * r)) + rnd() - 3;
  }
  return l;
}
}  // namespace

void writeFile(const std::string& path, const void* data, size_t bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(data, 1, bytes, f) != bytes) std::perror(path.c_str()), std::exit(1);
  std::fclose(f);
}

// Outputs of many configurations, one file each.
void dumpAll(const std::string& dir, const std::vector<float>& logits) {
  const Isa isas[2] = {bestIsa(), Isa::Scalar};
  for (auto [w, h, ow, oh] : {std::array<int, 4>{1920, 1080, 512, 512}, {1280, 720, 512, 512}, {642, 358, 77, 513},
                              {34, 18, 1, 1}, {2, 2, 333, 7}, {640, 480, 640, 480}, {1920, 1080, 1024, 1024}}) {
    std::vector<uint8_t> nv((size_t)w * h * 3 / 2);
    uint64_t s = 1234567 + w;
    for (auto& b : nv) {
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      b = (uint8_t)(s >> 24);
    }
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; x += 3) nv[(size_t)y * w + x] = (uint8_t)((x + y) & 255);
    const Nv12View v{nv.data(), w, h, (size_t)w, (size_t)w, (size_t)w * h};
    for (int cfg = 0; cfg < 8; ++cfg) {
      Color color;
      color.bt709 = cfg & 1, color.full = (cfg >> 1) & 1, color.chromaBilinear = (cfg >> 2) & 1;
      TensorSpec spec;
      spec.outW = ow, spec.outH = oh;
      spec.mean[0] = 0.485, spec.mean[1] = 0.456, spec.mean[2] = 0.406;
      spec.std[0] = 0.229, spec.std[1] = 0.224, spec.std[2] = 0.225;
      spec.nhwc = cfg == 3;
      spec.bgr = cfg == 5;
      std::vector<float> out((size_t)3 * ow * oh);
      for (Isa isa : isas) {
        nv12ToTensor(v, color, spec, out.data(), isa);
        writeFile(dir + "/nv12_" + std::to_string(w) + "x" + std::to_string(h) + "_" + std::to_string(ow) + "x" +
                      std::to_string(oh) + "_c" + std::to_string(cfg) + "_" + isaName(isa),
                  out.data(), out.size() * 4);
      }
    }
  }
  const int C = 150, H = 128, W = 128;
  std::vector<float> nhwc(logits.size());
  for (int c = 0; c < C; ++c)
    for (int i = 0; i < H * W; ++i) nhwc[(size_t)i * C + c] = logits[(size_t)c * H * W + i];
  std::vector<int8_t> q(logits.size());
  float maxAbs = 0;
  for (float f : logits) maxAbs = std::max(maxAbs, std::fabs(f));
  const float qs = maxAbs / 127;
  for (size_t i = 0; i < q.size(); ++i) q[i] = (int8_t)std::lround(logits[i] / qs);
  for (auto [w, h] : {std::pair<int, int>{1280, 720}, {1920, 1080}, {512, 512}, {301, 157}, {1000, 64}, {64, 1000}, {127, 129}}) {
    for (int variant = 0; variant < 3; ++variant)
      for (Isa isa : isas) {
        ArgmaxSpec sp;
        sp.classes = C, sp.height = H, sp.width = W, sp.mode = PostMode::Boundary, sp.outW = w, sp.outH = h;
        const void* src = logits.data();
        if (variant == 1) sp.nhwc = true, src = nhwc.data();
        if (variant == 2) sp.type = LogitType::I8, sp.scales = &qs, sp.nScales = 1, src = q.data();
        std::vector<uint8_t> map((size_t)w * h);
        std::vector<uint32_t> hist(C);
        argmax(src, sp, ClassMapMut{map.data(), false, w, h}, hist.data(), isa);
        const std::string base = dir + "/boundary_" + std::to_string(w) + "x" + std::to_string(h) + "_v" +
                                 std::to_string(variant) + "_" + isaName(isa);
        writeFile(base + ".map", map.data(), map.size());
        writeFile(base + ".hist", hist.data(), hist.size() * 4);
      }
  }
}

int main(int argc, char** argv) {
  std::string logitsFile, only, dumpDir;
  int onlyW = 0;  // --width: only that frame width
  int threads = 1;
  int reps = 41;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--logits") && i + 1 < argc) logitsFile = argv[++i];
    else if (!std::strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--dump") && i + 1 < argc) dumpDir = argv[++i];
    else if (!std::strcmp(argv[i], "--width") && i + 1 < argc) onlyW = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
  }
  const Isa isa = bestIsa();
  std::printf("isa %s\n", isaName(isa));
  std::vector<float> l;
  if (only == "nv12") {
  } else if (!logitsFile.empty()) {
    FILE* f = std::fopen(logitsFile.c_str(), "rb");
    if (!f) return std::perror(logitsFile.c_str()), 1;
    l.resize((size_t)150 * 128 * 128);
    if (std::fread(l.data(), 4, l.size(), f) != l.size()) return std::fprintf(stderr, "short logits file\n"), 1;
    std::fclose(f);
  } else {
    l = synthLogits(150, 128, 128);
  }
  if (!dumpDir.empty()) {
    dumpAll(dumpDir, l);
    return 0;
  }
  if (only.empty() || only == "nv12") {
    for (auto [w, h] : {std::pair<int, int>{1280, 720}, {1920, 1080}}) {
      if (onlyW && w != onlyW) continue;
      std::vector<uint8_t> nv((size_t)w * h * 3 / 2);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) nv[(size_t)y * w + x] = (uint8_t)((x * 7 + y * 3 + ((x * y) >> 5)) & 255);
      for (size_t i = (size_t)w * h; i < nv.size(); ++i) nv[i] = (uint8_t)(100 + (i * 13 % 57));
      const Nv12View v{nv.data(), w, h, (size_t)w, (size_t)w, (size_t)w * h};
      TensorSpec spec;
      spec.outW = spec.outH = 512;
      spec.mean[0] = 0.485, spec.mean[1] = 0.456, spec.mean[2] = 0.406;
      spec.std[0] = 0.229, spec.std[1] = 0.224, spec.std[2] = 0.225;
      spec.threads = threads;
      std::vector<float> out(3 * 512 * 512);
      char label[96];
      std::snprintf(label, sizeof label, "nv12ToTensor %dx%d->512 %s", w, h, isaName(isa));
      bench(label, reps, [&] { nv12ToTensor(v, Color{}, spec, out.data(), isa); });
    }
  }
  if (only.empty() || only == "boundary" || only == "lowres") {
    const int C = 150, H = 128, W = 128;
    for (auto [w, h] : {std::pair<int, int>{1280, 720}, {1920, 1080}}) {
      if (onlyW && w != onlyW) continue;
      std::vector<uint8_t> map((size_t)w * h);
      std::vector<uint32_t> hist(C);
      for (int mode : {0, 2}) {
        if (only == "boundary" && mode == 0) continue;
        ArgmaxSpec s;
        s.classes = C, s.height = H, s.width = W, s.mode = (PostMode)mode, s.outW = w, s.outH = h;
        s.threads = threads;
        char label[96];
        std::snprintf(label, sizeof label, "argmax %s 150x128x128 -> %dx%d %s", mode == 2 ? "boundary" : "lowres", w, h,
                      isaName(isa));
        bench(label, reps, [&] { argmax(l.data(), s, ClassMapMut{map.data(), false, w, h}, hist.data(), isa); });
      }
    }
  }
  return 0;
}
