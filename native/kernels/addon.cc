// Node binding of the frame kernels. Each export takes one options object (already validated in TypeScript;
// the checks here only keep a bad call from touching memory it does not own) and a flag: run now, or run on
// the libuv pool and return a Promise. Work runs on a plain struct; JS buffers stay referenced until it ends.
#include <cstdlib>  // defines __GLIBC__ where glibc is the C library
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <napi.h>

#include <functional>
#include <string>
#include <vector>

#include "kernels.h"

namespace {

using segk::Isa;

struct Job {
  std::vector<Napi::Reference<Napi::Value>> keep;  // inputs and outputs, alive until the work completes
  std::function<void()> work;
};

class JobWorker final : public Napi::AsyncWorker {
 public:
  JobWorker(Napi::Env env, Job&& job)
      : Napi::AsyncWorker(env, "segstream_kernels"), job_(std::move(job)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      job_.work();
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Job job_;
  Napi::Promise::Deferred deferred_;
};

[[noreturn]] void fail(Napi::Env env, const std::string& msg) { throw Napi::TypeError::New(env, msg); }

int intOf(Napi::Object o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) fail(o.Env(), std::string("segstream_kernels: option ") + key + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (d != (double)(long long)d || d < 0 || d > 2147483647.0)
    fail(o.Env(), std::string("segstream_kernels: option ") + key + " must be a non-negative integer");
  return (int)d;
}

double numberOf(Napi::Object o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) fail(o.Env(), std::string("segstream_kernels: option ") + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

segk::PostMode postModeOf(Napi::Object o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsString()) {
    const std::string name = v.As<Napi::String>().Utf8Value();
    for (int i = 0; i < segk::kPostModeCount; i++)
      if (name == segk::kPostModeNames[i]) return (segk::PostMode)i;
  }
  fail(o.Env(), std::string("segstream_kernels: option ") + key + " must be a post-processing mode name");
}

bool boolOf(Napi::Object o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() && v.As<Napi::Boolean>().Value();
}

struct View {
  void* ptr = nullptr;
  size_t bytes = 0;
  size_t length = 0;
  napi_typedarray_type type = napi_uint8_array;
};

View typedOf(Napi::Object o, const char* key, Job& job, std::initializer_list<napi_typedarray_type> types,
             bool optional = false) {
  Napi::Value v = o.Get(key);
  if (optional && (v.IsUndefined() || v.IsNull())) return View{};
  if (!v.IsTypedArray()) fail(o.Env(), std::string("segstream_kernels: option ") + key + " must be a typed array");
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  bool ok = false;
  for (auto t : types) ok = ok || ta.TypedArrayType() == t;
  if (!ok) fail(o.Env(), std::string("segstream_kernels: option ") + key + " has the wrong element type");
  job.keep.push_back(Napi::Persistent(v));
  View out;
  out.ptr = (uint8_t*)ta.ArrayBuffer().Data() + ta.ByteOffset();
  out.bytes = ta.ByteLength();
  out.length = ta.ElementLength();
  out.type = ta.TypedArrayType();
  return out;
}

void need(Napi::Env env, const char* what, size_t have, size_t needed) {
  if (have < needed)
    fail(env, std::string("segstream_kernels: ") + what + " has " + std::to_string(have) + " bytes, needs " +
                  std::to_string(needed));
}

segk::Nv12View nv12Of(Napi::Object o, const char* key, Job& job) {
  segk::Nv12View v;
  View d = typedOf(o, key, job, {napi_uint8_array, napi_uint8_clamped_array});
  v.data = (const uint8_t*)d.ptr;
  v.width = intOf(o, "width");
  v.height = intOf(o, "height");
  v.strideY = (size_t)intOf(o, "strideY");
  v.strideUV = (size_t)intOf(o, "strideUV");
  v.offsetUV = (size_t)intOf(o, "offsetUV");
  if (v.width < 2 || v.height < 2 || v.width % 2 || v.height % 2 || v.strideY < (size_t)v.width ||
      v.strideUV < (size_t)v.width)
    fail(o.Env(), "segstream_kernels: bad NV12 geometry");
  need(o.Env(), key, d.bytes, v.strideY * (v.height - 1) + v.width);
  need(o.Env(), key, d.bytes, v.offsetUV + v.strideUV * (v.height / 2 - 1) + v.width);
  return v;
}

segk::Color colorOf(Napi::Object o) {
  segk::Color c;
  c.bt709 = boolOf(o, "bt709");
  c.full = boolOf(o, "full");
  c.chromaBilinear = boolOf(o, "chromaBilinear");
  return c;
}

Isa isaOf(Napi::Object o) { return segk::pickIsa(!o.Get("scalar").IsBoolean() || !boolOf(o, "scalar")); }

// Optional thread count, 1 .. 16 (1 when absent).
int threadsOf(Napi::Object o) {
  if (o.Get("threads").IsUndefined()) return 1;
  const int t = intOf(o, "threads");
  if (t < 1 || t > 16) fail(o.Env(), "segstream_kernels: threads must be 1..16");
  return t;
}

segk::TensorSpec tensorSpecOf(Napi::Object o) {
  segk::TensorSpec s;
  s.outW = intOf(o, "outW");
  s.outH = intOf(o, "outH");
  Napi::Value mean = o.Get("mean"), stdv = o.Get("std");
  if (!mean.IsArray() || !stdv.IsArray()) fail(o.Env(), "segstream_kernels: mean and std must be arrays");
  for (uint32_t i = 0; i < 3; ++i) {
    s.mean[i] = mean.As<Napi::Array>().Get(i).As<Napi::Number>().DoubleValue();
    s.std[i] = stdv.As<Napi::Array>().Get(i).As<Napi::Number>().DoubleValue();
  }
  s.rescale = numberOf(o, "rescale", 1.0 / 255.0);
  s.nhwc = boolOf(o, "nhwc");
  s.bgr = boolOf(o, "bgr");
  s.threads = threadsOf(o);
  if (s.outW < 1 || s.outH < 1) fail(o.Env(), "segstream_kernels: output size must be positive");
  return s;
}

segk::RgbView rgbOf(Napi::Object o, Job& job) {
  segk::RgbView v;
  View d = typedOf(o, "rgb", job, {napi_uint8_array, napi_uint8_clamped_array});
  v.data = (const uint8_t*)d.ptr;
  v.width = intOf(o, "width");
  v.height = intOf(o, "height");
  v.stride = (size_t)3 * v.width;
  if (v.width < 1 || v.height < 1) fail(o.Env(), "segstream_kernels: RGB size must be positive");
  need(o.Env(), "rgb", d.bytes, v.stride * v.height);
  return v;
}

Napi::Value finish(const Napi::CallbackInfo& info, Job&& job) {
  Napi::Env env = info.Env();
  const bool async = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  if (!async) {
    try {
      job.work();
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
    return env.Undefined();
  }
  auto* worker = new JobWorker(env, std::move(job));
  Napi::Promise p = worker->Promise();
  worker->Queue();
  return p;
}

Napi::Object optionsArg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) fail(info.Env(), "segstream_kernels: expected an options object");
  return info[0].As<Napi::Object>();
}

Napi::Value Nv12ToTensor(const Napi::CallbackInfo& info) {
  Napi::Object o = optionsArg(info);
  Job job;
  const segk::Nv12View in = nv12Of(o, "data", job);
  const segk::Color color = colorOf(o);
  const segk::TensorSpec spec = tensorSpecOf(o);
  View out = typedOf(o, "out", job, {napi_float32_array});
  need(info.Env(), "out", out.bytes, (size_t)spec.outW * spec.outH * 3 * 4);
  const Isa isa = isaOf(o);
  float* dst = (float*)out.ptr;
  job.work = [=] { segk::nv12ToTensor(in, color, spec, dst, isa); };
  return finish(info, std::move(job));
}

Napi::Value RgbToTensor(const Napi::CallbackInfo& info) {
  Napi::Object o = optionsArg(info);
  Job job;
  const segk::RgbView in = rgbOf(o, job);
  const segk::TensorSpec spec = tensorSpecOf(o);
  View out = typedOf(o, "out", job, {napi_float32_array});
  need(info.Env(), "out", out.bytes, (size_t)spec.outW * spec.outH * 3 * 4);
  const Isa isa = isaOf(o);
  float* dst = (float*)out.ptr;
  job.work = [=] { segk::rgbToTensor(in, spec, dst, isa); };
  return finish(info, std::move(job));
}

segk::RgbMut rgbOutOf(Napi::Object o, Job& job) {
  View out = typedOf(o, "out", job, {napi_uint8_array, napi_uint8_clamped_array});
  segk::RgbMut m;
  m.data = (uint8_t*)out.ptr;
  m.width = intOf(o, "outW");
  m.height = intOf(o, "outH");
  m.stride = (size_t)3 * m.width;
  if (m.width < 1 || m.height < 1) fail(o.Env(), "segstream_kernels: output size must be positive");
  need(o.Env(), "out", out.bytes, m.stride * m.height);
  return m;
}

Napi::Value ResizeRgb(const Napi::CallbackInfo& info) {
  Napi::Object o = optionsArg(info);
  Job job;
  const segk::RgbView in = rgbOf(o, job);
  const segk::RgbMut out = rgbOutOf(o, job);
  const Isa isa = isaOf(o);
  job.work = [=] { segk::resizeRgb(in, out, isa); };
  return finish(info, std::move(job));
}

Napi::Value Nv12ToRgb(const Napi::CallbackInfo& info) {
  Napi::Object o = optionsArg(info);
  Job job;
  const segk::Nv12View in = nv12Of(o, "data", job);
  const segk::Color color = colorOf(o);
  const segk::RgbMut out = rgbOutOf(o, job);
  const Isa isa = isaOf(o);
  job.work = [=] { segk::nv12ToRgb(in, color, out, isa); };
  return finish(info, std::move(job));
}

segk::Nv12Mut nv12OutOf(Napi::Object o, Job& job) {
  View d = typedOf(o, "out", job, {napi_uint8_array, napi_uint8_clamped_array});
  segk::Nv12Mut m;
  m.data = (uint8_t*)d.ptr;
  m.width = intOf(o, "outW");
  m.height = intOf(o, "outH");
  m.strideY = (size_t)intOf(o, "outStrideY");
  m.strideUV = (size_t)intOf(o, "outStrideUV");
  m.offsetUV = (size_t)intOf(o, "outOffsetUV");
  if (m.width < 2 || m.height < 2 || m.width % 2 || m.height % 2 || m.strideY < (size_t)m.width ||
      m.strideUV < (size_t)m.width)
    fail(o.Env(), "segstream_kernels: bad output NV12 geometry");
  need(o.Env(), "out", d.bytes, m.strideY * m.height);
  need(o.Env(), "out", d.bytes, m.offsetUV + m.strideUV * (m.height / 2));
  return m;
}

Napi::Value ResizeNv12(const Napi::CallbackInfo& info) {
  Napi::Object o = optionsArg(info);
  Job job;
  const segk::Nv12View in = nv12Of(o, "data", job);
  const segk::Nv12Mut out = nv12OutOf(o, job);
  const Isa isa = isaOf(o);
  job.work = [=] { segk::resizeNv12(in, out, isa); };
  return finish(info, std::move(job));
}

Napi::Value RgbToNv12(const Napi::CallbackInfo& info) {
  Napi::Object o = optionsArg(info);
  Job job;
  const segk::RgbView in = rgbOf(o, job);
  if (in.width % 2 || in.height % 2) fail(info.Env(), "segstream_kernels: NV12 needs even sizes");
  const segk::Color color = colorOf(o);
  View d = typedOf(o, "out", job, {napi_uint8_array});
  segk::Nv12Mut out;
  out.data = (uint8_t*)d.ptr;
  out.width = in.width;
  out.height = in.height;
  out.strideY = out.strideUV = (size_t)in.width;
  out.offsetUV = (size_t)in.width * in.height;
  need(info.Env(), "out", d.bytes, out.offsetUV * 3 / 2);
  job.work = [=] { segk::rgbToNv12(in, color, out); };
  return finish(info, std::move(job));
}

segk::ClassMapView mapOf(Napi::Object o, const char* key, const char* wKey, const char* hKey, Job& job) {
  View d = typedOf(o, key, job, {napi_uint8_array, napi_uint16_array});
  segk::ClassMapView m;
  m.data = d.ptr;
  m.wide = d.type == napi_uint16_array;
  m.width = intOf(o, wKey);
  m.height = intOf(o, hKey);
  if (m.width < 1 || m.height < 1) fail(o.Env(), "segstream_kernels: class map size must be positive");
  if (d.length < (size_t)m.width * m.height) fail(o.Env(), "segstream_kernels: class map is too short");
  return m;
}

Napi::Value Argmax(const Napi::CallbackInfo& info) {
  Napi::Object o = optionsArg(info);
  Job job;
  View logits = typedOf(o, "logits", job,
                        {napi_float32_array, napi_int8_array, napi_int16_array, napi_int32_array, napi_uint16_array});
  segk::ArgmaxSpec s;
  switch (logits.type) {
    case napi_int8_array: s.type = segk::LogitType::I8; break;
    case napi_int16_array: s.type = segk::LogitType::I16; break;
    case napi_int32_array: s.type = segk::LogitType::I32; break;
    // A Uint16Array holds half-precision patterns, and only when the caller says so.
    case napi_uint16_array:
      if (!boolOf(o, "float16")) fail(info.Env(), "segstream_kernels: Uint16Array logits need float16: true");
      s.type = segk::LogitType::F16;
      break;
    default: s.type = segk::LogitType::F32; break;
  }
  s.nhwc = boolOf(o, "nhwc");
  s.classes = intOf(o, "classes");
  s.height = intOf(o, "height");
  s.width = intOf(o, "width");
  s.mode = postModeOf(o, "mode");
  s.outW = intOf(o, "outW");
  s.outH = intOf(o, "outH");
  s.threads = threadsOf(o);
  if (s.classes < 1 || s.classes > 65536 || s.width < 1 || s.height < 1 || s.outW < 1 || s.outH < 1)
    fail(info.Env(), "segstream_kernels: bad argmax geometry");
  if (logits.length < (size_t)s.classes * s.width * s.height)
    fail(info.Env(), "segstream_kernels: logits are too short");
  View scales = typedOf(o, "scales", job, {napi_float32_array}, true);
  View zps = typedOf(o, "zeroPoints", job, {napi_int32_array}, true);
  s.scales = (const float*)scales.ptr;
  s.nScales = (int)scales.length;
  s.zeroPoints = (const int32_t*)zps.ptr;
  s.nZeroPoints = (int)zps.length;
  if ((s.nScales > 1 && s.nScales != s.classes) || (s.nZeroPoints > 1 && s.nZeroPoints != s.classes))
    fail(info.Env(), "segstream_kernels: scales and zeroPoints need 1 or `classes` entries");
  View map = typedOf(o, "map", job, {napi_uint8_array, napi_uint16_array});
  segk::ClassMapMut out;
  out.data = map.ptr;
  out.wide = map.type == napi_uint16_array;
  out.width = s.outW;
  out.height = s.outH;
  if (map.length < (size_t)s.outW * s.outH || (!out.wide && s.classes > 256))
    fail(info.Env(), "segstream_kernels: class map output is too short or too narrow");
  View hist = typedOf(o, "histogram", job, {napi_uint32_array});
  if (hist.length < (size_t)s.classes) fail(info.Env(), "segstream_kernels: histogram is too short");
  const Isa isa = isaOf(o);
  const void* src = logits.ptr;
  uint32_t* h = (uint32_t*)hist.ptr;
  job.work = [=] { segk::argmax(src, s, out, h, isa); };
  return finish(info, std::move(job));
}

Napi::Value ResizeClassMap(const Napi::CallbackInfo& info) {
  Napi::Object o = optionsArg(info);
  Job job;
  const segk::ClassMapView in = mapOf(o, "map", "width", "height", job);
  View d = typedOf(o, "out", job, {napi_uint8_array, napi_uint16_array});
  segk::ClassMapMut out;
  out.data = d.ptr;
  out.wide = d.type == napi_uint16_array;
  out.width = intOf(o, "outW");
  out.height = intOf(o, "outH");
  if (out.width < 1 || out.height < 1 || d.length < (size_t)out.width * out.height)
    fail(info.Env(), "segstream_kernels: bad class map output");
  job.work = [=] { segk::resizeClassMap(in, out); };
  return finish(info, std::move(job));
}

segk::OverlaySpec overlaySpecOf(Napi::Object o, Job& job) {
  segk::OverlaySpec s;
  View pal = typedOf(o, "palette", job, {napi_uint8_array, napi_uint8_clamped_array});
  View drawn = typedOf(o, "drawn", job, {napi_uint8_array});
  s.palette = (const uint8_t*)pal.ptr;
  s.paletteSize = (int)(pal.bytes / 3);
  s.drawn = (const uint8_t*)drawn.ptr;
  s.opacity = numberOf(o, "opacity", 0.5);
  if (drawn.bytes < (size_t)s.paletteSize) fail(o.Env(), "segstream_kernels: drawn flags are too short");
  return s;
}

Napi::Value OverlayNv12(const Napi::CallbackInfo& info) {
  Napi::Object o = optionsArg(info);
  Job job;
  const segk::Nv12View in = nv12Of(o, "data", job);
  const segk::Color color = colorOf(o);
  const segk::ClassMapView map = mapOf(o, "map", "mapW", "mapH", job);
  const segk::OverlaySpec spec = overlaySpecOf(o, job);
  View d = typedOf(o, "out", job, {napi_uint8_array});
  segk::Nv12Mut out;
  out.data = (uint8_t*)d.ptr;
  out.width = in.width;
  out.height = in.height;
  out.strideY = out.strideUV = (size_t)in.width;
  out.offsetUV = (size_t)in.width * in.height;
  need(info.Env(), "out", d.bytes, out.offsetUV * 3 / 2);
  View hist = typedOf(o, "histogram", job, {napi_uint32_array});
  if (hist.length < (size_t)spec.paletteSize) fail(info.Env(), "segstream_kernels: histogram is too short");
  const Isa isa = isaOf(o);
  uint32_t* h = (uint32_t*)hist.ptr;
  job.work = [=] { segk::overlayNv12(in, color, map, spec, out, h, isa); };
  return finish(info, std::move(job));
}

Napi::Value OverlayRgb(const Napi::CallbackInfo& info) {
  Napi::Object o = optionsArg(info);
  Job job;
  const segk::RgbView in = rgbOf(o, job);
  const segk::ClassMapView map = mapOf(o, "map", "mapW", "mapH", job);
  const segk::OverlaySpec spec = overlaySpecOf(o, job);
  View d = typedOf(o, "out", job, {napi_uint8_array});
  segk::RgbMut out;
  out.data = (uint8_t*)d.ptr;
  out.width = in.width;
  out.height = in.height;
  out.stride = (size_t)3 * in.width;
  need(info.Env(), "out", d.bytes, out.stride * out.height);
  View hist = typedOf(o, "histogram", job, {napi_uint32_array});
  if (hist.length < (size_t)spec.paletteSize) fail(info.Env(), "segstream_kernels: histogram is too short");
  const Isa isa = isaOf(o);
  uint32_t* h = (uint32_t*)hist.ptr;
  job.work = [=] { segk::overlayRgb(in, map, spec, out, h, isa); };
  return finish(info, std::move(job));
}

// { from: Float32Array | Uint16Array (half patterns), to: the other, count, scalar }: float32 <-> float16.
Napi::Value ConvertFloat16(const Napi::CallbackInfo& info) {
  Napi::Object o = optionsArg(info);
  Job job;
  View from = typedOf(o, "from", job, {napi_float32_array, napi_uint16_array});
  View to = typedOf(o, "to", job, {napi_float32_array, napi_uint16_array});
  if (from.type == to.type) fail(info.Env(), "segstream_kernels: convertFloat16 converts between Float32Array and Uint16Array");
  const size_t n = (size_t)intOf(o, "count");
  if (from.length < n || to.length < n) fail(info.Env(), "segstream_kernels: convertFloat16 arrays are shorter than count");
  const Isa isa = isaOf(o);
  if (from.type == napi_float32_array) {
    const float* src = (const float*)from.ptr;
    uint16_t* dst = (uint16_t*)to.ptr;
    job.work = [=] { segk::floatToHalf(src, n, dst, isa); };
  } else {
    const uint16_t* src = (const uint16_t*)from.ptr;
    float* dst = (float*)to.ptr;
    job.work = [=] { segk::halfToFloat(src, n, dst, isa); };
  }
  return finish(info, std::move(job));
}

// glibc gives each thread that allocates its own malloc arena and keeps freed memory in it; with ONNX Runtime's
// threads allocating per inference that adds up to hundreds of MB resident. Capping the arena count (before those
// threads start) keeps them sharing. Returns false where there is no glibc.
Napi::Value LimitMallocArenas(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) fail(info.Env(), "segstream_kernels: limitMallocArenas needs a number");
  const int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1 || n > 64) fail(info.Env(), "segstream_kernels: limitMallocArenas needs 1..64");
#if defined(__GLIBC__) && defined(M_ARENA_MAX)
  return Napi::Boolean::New(info.Env(), mallopt(M_ARENA_MAX, n) == 1);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

// glibc raises its mmap threshold to the size of each large block freed (up to 32 MiB), so after the first
// inferences ONNX Runtime's per-run tensors come from the heap, which keeps them resident after they are freed.
// A fixed threshold (setting it switches the adjustment off) keeps large blocks in mmap: returned at free.
Napi::Value SetMallocMmapThreshold(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) fail(info.Env(), "segstream_kernels: setMallocMmapThreshold needs a number");
  const int64_t bytes = info[0].As<Napi::Number>().Int64Value();
  if (bytes < 4096 || bytes > (int64_t)32 * 1024 * 1024) fail(info.Env(), "segstream_kernels: setMallocMmapThreshold needs 4096..33554432");
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD)
  return Napi::Boolean::New(info.Env(), mallopt(M_MMAP_THRESHOLD, (int)bytes) == 1);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("isa", segk::isaName(segk::bestIsa()));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("nv12ToTensor", Napi::Function::New(env, Nv12ToTensor, "nv12ToTensor"));
  exports.Set("rgbToTensor", Napi::Function::New(env, RgbToTensor, "rgbToTensor"));
  exports.Set("resizeRgb", Napi::Function::New(env, ResizeRgb, "resizeRgb"));
  exports.Set("nv12ToRgb", Napi::Function::New(env, Nv12ToRgb, "nv12ToRgb"));
  exports.Set("resizeNv12", Napi::Function::New(env, ResizeNv12, "resizeNv12"));
  exports.Set("rgbToNv12", Napi::Function::New(env, RgbToNv12, "rgbToNv12"));
  exports.Set("argmax", Napi::Function::New(env, Argmax, "argmax"));
  exports.Set("resizeClassMap", Napi::Function::New(env, ResizeClassMap, "resizeClassMap"));
  exports.Set("overlayNv12", Napi::Function::New(env, OverlayNv12, "overlayNv12"));
  exports.Set("overlayRgb", Napi::Function::New(env, OverlayRgb, "overlayRgb"));
  exports.Set("convertFloat16", Napi::Function::New(env, ConvertFloat16, "convertFloat16"));
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("limitMallocArenas", Napi::Function::New(env, LimitMallocArenas, "limitMallocArenas"));
  exports.Set("setMallocMmapThreshold", Napi::Function::New(env, SetMallocMmapThreshold, "setMallocMmapThreshold"));
  Napi::Array modes = Napi::Array::New(env, segk::kPostModeCount);
  for (int i = 0; i < segk::kPostModeCount; i++) modes.Set((uint32_t)i, Napi::String::New(env, segk::kPostModeNames[i]));
  exports.Set("postprocessModes", modes);
  return exports;
}

}  // namespace

NODE_API_MODULE(segstream_kernels, Init)
