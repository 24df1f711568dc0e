// Node binding of the BPU backend: loads models and runs inference on the libuv thread pool (AsyncWorker),
// never on the JavaScript thread. Argument validation with precise messages lives in TypeScript
// (server/stages/infer/bpu-backend.ts); this layer re-checks only what memory safety depends on.
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "bpu_error.h"
#include "bpu_model.h"
#ifdef SEGSTREAM_HB_DNN_TEST_DOUBLE
#include "dnn/hb_dnn_test_double.h"
#endif

namespace {

using segbpu::BpuError;
using segbpu::BpuModel;

struct AddonData {
  Napi::FunctionReference modelConstructor;
  // Hands a loaded model to the ModelWrap constructor (set just before, on the JS thread). A napi External
  // would do the same but its bookkeeping lives until the JS value is collected, which may be never.
  BpuModel* pendingModel = nullptr;
};

// A JS Error carrying what the TypeScript layer needs to build precise messages.
Napi::Error MakeError(Napi::Env env, const BpuError& e) {
  Napi::Error err = Napi::Error::New(env, e.what());
  err.Set("reason", Napi::String::New(env, e.reason));
  if (!e.call.empty()) {
    err.Set("call", Napi::String::New(env, e.call));
    err.Set("status", Napi::Number::New(env, e.status));
  }
  return err;
}

Napi::Array IntArray(Napi::Env env, const std::vector<int32_t>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, v[i]));
  return a;
}

Napi::Object DescribeTensor(Napi::Env env, const segbpu::TensorSpec& t) {
  Napi::Object o = Napi::Object::New(env);
  const hbDNNTensorProperties& p = t.props;
  o.Set("name", t.name);
  o.Set("validShape", IntArray(env, t.validShape));
  o.Set("alignedShape", IntArray(env, t.alignedShape));
  o.Set("layout", Napi::Number::New(env, p.tensorLayout));
  o.Set("tensorType", Napi::Number::New(env, p.tensorType));
  o.Set("quantiType", Napi::Number::New(env, static_cast<int>(p.quantiType)));
  o.Set("quantizeAxis", Napi::Number::New(env, p.quantizeAxis));
  Napi::Array scales = Napi::Array::New(env, t.scales.size());
  for (size_t i = 0; i < t.scales.size(); i++) scales.Set(static_cast<uint32_t>(i), Napi::Number::New(env, t.scales[i]));
  o.Set("scales", scales);
  o.Set("zeroPoints", IntArray(env, t.zeroPoints));
  o.Set("shifts", IntArray(env, t.shifts));
  o.Set("alignedByteSize", Napi::Number::New(env, p.alignedByteSize));
  Napi::Array strides = Napi::Array::New(env, t.strides.size());
  for (size_t i = 0; i < t.strides.size(); i++) strides.Set(static_cast<uint32_t>(i), Napi::Number::New(env, double(t.strides[i])));
  o.Set("stride", strides);
  o.Set("declaredStride", IntArray(env, std::vector<int32_t>(p.stride, p.stride + p.validShape.numDimensions)));
  o.Set("elementBytes", Napi::Number::New(env, t.elementBytes));
  return o;
}

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "BpuNativeModel",
                       {InstanceMethod<&ModelWrap::Describe>("describe"), InstanceMethod<&ModelWrap::Run>("run"),
                        InstanceMethod<&ModelWrap::InputImage>("inputImage"), InstanceMethod<&ModelWrap::Counters>("counters"),
                        InstanceMethod<&ModelWrap::Close>("close")});
  }

  explicit ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info) {
    AddonData* data = info.Env().GetInstanceData<AddonData>();
    if (!data->pendingModel) throw Napi::TypeError::New(info.Env(), "BpuNativeModel is created by loadModel()");
    model_.reset(data->pendingModel);
    data->pendingModel = nullptr;
    busy_.assign(static_cast<size_t>(model_->slots()), false);
    targets_.resize(static_cast<size_t>(model_->slots()));
    targetGenerations_.assign(static_cast<size_t>(model_->slots()), 0);
  }

  // Garbage-collected without close(): the model's destructor still frees the BPU memory. No lent input buffer
  // can outlive it: each one keeps this object alive (its `owner` property).
  ~ModelWrap() override = default;

  BpuModel* model() { return model_.get(); }
  void SetBusy(int slot, bool busy) { busy_[static_cast<size_t>(slot)] = busy; }
  // Detaches the lent input buffer of `slot` if a run replaced the memory behind it (JS thread).
  void DetachStale(int slot) {
    if (model_ && model_->InputGeneration(slot) != targetGenerations_[static_cast<size_t>(slot)]) DetachTarget(slot);
  }

 private:
  Napi::Value Describe(const Napi::CallbackInfo& info);
  Napi::Value Run(const Napi::CallbackInfo& info);
  Napi::Value InputImage(const Napi::CallbackInfo& info);
  Napi::Value Counters(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  void DetachTarget(int slot) {
    Napi::Reference<Napi::ArrayBuffer>& ref = targets_[static_cast<size_t>(slot)];
    if (!ref.IsEmpty()) {
      Napi::ArrayBuffer buf = ref.Value();
      if (!buf.IsEmpty() && !buf.IsDetached()) buf.Detach();  // every view of it now has length 0
      ref.Reset();
    }
    targetGenerations_[static_cast<size_t>(slot)] = 0;
  }

  std::unique_ptr<BpuModel> model_;
  std::vector<bool> busy_;
  // The input memory lent to JavaScript per slot (weak: JS decides how long it keeps it), and its generation.
  std::vector<Napi::Reference<Napi::ArrayBuffer>> targets_;
  std::vector<uint64_t> targetGenerations_;
};

class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, segbpu::LoadOptions options)
      : Napi::AsyncWorker(env, "segstream:bpu-load"), options_(std::move(options)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      model_ = BpuModel::Load(options_);
    } catch (const BpuError& e) {
      error_ = std::make_unique<BpuError>(e);
      SetError(e.what());
    } catch (const std::exception& e) {
      error_ = std::make_unique<BpuError>("internal", e.what());
      SetError(e.what());
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    AddonData* data = env.GetInstanceData<AddonData>();
    data->pendingModel = model_.release();  // the wrapper owns it from here
    Napi::Object obj = data->modelConstructor.New({});
    deferred_.Resolve(obj);
  }

  void OnError(const Napi::Error&) override {
    Napi::HandleScope scope(Env());
    deferred_.Reject(MakeError(Env(), *error_).Value());
  }

 private:
  segbpu::LoadOptions options_;
  Napi::Promise::Deferred deferred_;
  std::unique_ptr<BpuModel> model_;
  std::unique_ptr<BpuError> error_;
};

class RunWorker : public Napi::AsyncWorker {
 public:
  RunWorker(Napi::Env env, ModelWrap* wrap, Napi::Object self, int slot)
      : Napi::AsyncWorker(env, "segstream:bpu-run"), wrap_(wrap), slot_(slot), deferred_(Napi::Promise::Deferred::New(env)) {
    self_ = Napi::Persistent(self);  // the model object (and its memory) lives while this run does
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  // The JS buffers must outlive the run: hold references to them.
  void Keep(Napi::Object input, Napi::Object output) {
    inputRef_ = Napi::Persistent(input);
    outputRef_ = Napi::Persistent(output);
  }
  segbpu::RunInput input;
  segbpu::RunOutput output;

  void Execute() override {
    try {
      ms_ = wrap_->model()->Run(slot_, input, output);
    } catch (const BpuError& e) {
      error_ = std::make_unique<BpuError>(e);
      SetError(e.what());
    } catch (const std::exception& e) {
      error_ = std::make_unique<BpuError>("internal", e.what());
      SetError(e.what());
    }
  }

  void OnOK() override {
    wrap_->SetBusy(slot_, false);
    wrap_->DetachStale(slot_);
    deferred_.Resolve(Napi::Number::New(Env(), ms_));
  }

  void OnError(const Napi::Error&) override {
    Napi::HandleScope scope(Env());
    wrap_->SetBusy(slot_, false);
    wrap_->DetachStale(slot_);
    deferred_.Reject(MakeError(Env(), *error_).Value());
  }

 private:
  ModelWrap* wrap_;
  int slot_;
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference self_, inputRef_, outputRef_;
  double ms_ = 0;
  std::unique_ptr<BpuError> error_;
};

struct ByteView {
  uint8_t* data;
  size_t length;
};

ByteView ViewOf(const Napi::TypedArray& a) {
  return {static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset(), a.ByteLength()};
}

int64_t IntegerField(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("nv12.") + key + " must be a number");
  return v.As<Napi::Number>().Int64Value();
}

Napi::Value ModelWrap::Describe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!model_) throw Napi::Error::New(env, "the model is closed");
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", model_->name());
  Napi::Array names = Napi::Array::New(env, model_->modelNames().size());
  for (size_t i = 0; i < model_->modelNames().size(); i++) names.Set(static_cast<uint32_t>(i), model_->modelNames()[i]);
  o.Set("modelNames", names);
  Napi::Array inputs = Napi::Array::New(env), outputs = Napi::Array::New(env);
  for (size_t i = 0; i < model_->inputs().size(); i++) inputs.Set(static_cast<uint32_t>(i), DescribeTensor(env, model_->inputs()[i]));
  for (size_t i = 0; i < model_->outputs().size(); i++) outputs.Set(static_cast<uint32_t>(i), DescribeTensor(env, model_->outputs()[i]));
  o.Set("inputs", inputs);
  o.Set("outputs", outputs);
  o.Set("slots", Napi::Number::New(env, model_->slots()));
  o.Set("inputSource", Napi::Number::New(env, model_->inputSource()));
  if (model_->nv12()) {
    o.Set("nv12Feed", model_->nv12Feed() == segbpu::Nv12Feed::Separate ? "separate" : "packed");
    o.Set("nv12Stride", Napi::Number::New(env, double(model_->nv12Stride())));
  } else {
    o.Set("nv12Feed", env.Null());
    o.Set("nv12Stride", Napi::Number::New(env, 0));
  }
  return o;
}

// inputImage(slot) -> { buffer: ArrayBuffer over the slot's BPU input memory, width, height, stride, offsetUV }.
// Writing a frame there and running it with that buffer copies nothing. The buffer is detached (length 0) once
// the memory behind it is replaced or freed.
Napi::Value ModelWrap::InputImage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!model_ || !model_->slots()) throw Napi::Error::New(env, "the model is closed");
  if (info.Length() != 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "inputImage(slot): bad arguments");
  const int slot = info[0].As<Napi::Number>().Int32Value();
  if (slot < 0 || slot >= model_->slots()) throw Napi::RangeError::New(env, "slot out of range");
  if (busy_[static_cast<size_t>(slot)]) throw Napi::Error::New(env, "slot " + std::to_string(slot) + " has an inference in flight");
  segbpu::Nv12Target t;
  try {
    t = model_->InputTarget(slot);
  } catch (const BpuError& e) {
    throw MakeError(env, e);
  }
  Napi::Reference<Napi::ArrayBuffer>& ref = targets_[static_cast<size_t>(slot)];
  Napi::ArrayBuffer buf;
  if (!ref.IsEmpty() && targetGenerations_[static_cast<size_t>(slot)] == t.generation) buf = ref.Value();
  if (buf.IsEmpty() || buf.IsDetached()) {
    DetachTarget(slot);
    buf = Napi::ArrayBuffer::New(env, t.data, t.length);  // external: the model owns the memory
    buf.Set("owner", info.This());                        // the model (and its memory) lives while the buffer does
    ref = Napi::Weak(buf);
    targetGenerations_[static_cast<size_t>(slot)] = t.generation;
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("buffer", buf);
  o.Set("width", Napi::Number::New(env, t.width));
  o.Set("height", Napi::Number::New(env, t.height));
  o.Set("stride", Napi::Number::New(env, double(t.stride)));
  o.Set("offsetUV", Napi::Number::New(env, double(t.offsetUV)));
  return o;
}

// counters() -> { inputBytesCopied, retiredBlocks }
Napi::Value ModelWrap::Counters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("inputBytesCopied", Napi::Number::New(env, model_ ? double(model_->inputBytesCopied()) : 0));
  o.Set("retiredBlocks", Napi::Number::New(env, model_ ? model_->retiredBlocks() : 0));
  return o;
}

// run(slot, input: TypedArray, nv12: {width,height,strideY,strideUV,offsetUV} | null, output: TypedArray,
//     outputType: 0 float32 | 1 int8 | 2 uint8 | 3 int16 | 4 int32) -> Promise<inferMs>
Napi::Value ModelWrap::Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!model_) throw Napi::Error::New(env, "the model is closed");
  if (info.Length() != 5 || !info[0].IsNumber() || !info[1].IsTypedArray() || !info[3].IsTypedArray() || !info[4].IsNumber())
    throw Napi::TypeError::New(env, "run(slot, input, nv12, output, outputType): bad arguments");
  const int slot = info[0].As<Napi::Number>().Int32Value();
  if (slot < 0 || slot >= model_->slots()) throw Napi::RangeError::New(env, "slot out of range");
  if (busy_[static_cast<size_t>(slot)]) throw Napi::Error::New(env, "slot " + std::to_string(slot) + " already has an inference in flight");

  const int outputType = info[4].As<Napi::Number>().Int32Value();
  static const napi_typedarray_type kExpected[] = {napi_float32_array, napi_int8_array, napi_uint8_array, napi_int16_array,
                                                    napi_int32_array};
  if (outputType < 0 || outputType > 4) throw Napi::RangeError::New(env, "outputType out of range");
  Napi::TypedArray out = info[3].As<Napi::TypedArray>();
  if (out.TypedArrayType() != kExpected[outputType]) throw Napi::TypeError::New(env, "output array type does not match outputType");

  auto* worker = new RunWorker(env, this, info.This().As<Napi::Object>(), slot);
  Napi::TypedArray in = info[1].As<Napi::TypedArray>();
  const ByteView inView = ViewOf(in), outView = ViewOf(out);
  if (info[2].IsObject()) {
    Napi::Object g = info[2].As<Napi::Object>();
    if (in.TypedArrayType() != napi_uint8_array) {
      delete worker;
      throw Napi::TypeError::New(env, "NV12 data must be a Uint8Array");
    }
    try {
      worker->input.nv12 = true;
      worker->input.image = {inView.data,
                             inView.length,
                             static_cast<int>(IntegerField(g, "width")),
                             static_cast<int>(IntegerField(g, "height")),
                             IntegerField(g, "strideY"),
                             IntegerField(g, "strideUV"),
                             IntegerField(g, "offsetUV")};
      segbpu::CheckNv12Bounds(worker->input.image);
    } catch (const BpuError& e) {
      delete worker;
      throw MakeError(env, e);
    } catch (...) {
      delete worker;
      throw;
    }
  } else {
    worker->input.tensor = inView.data;
    worker->input.tensorBytes = inView.length;
  }
  worker->output = {static_cast<segbpu::OutputType>(outputType), outView.data, outView.length};
  worker->Keep(in, out);
  Napi::Promise promise = worker->Promise();
  busy_[static_cast<size_t>(slot)] = true;
  worker->Queue();
  return promise;
}

// close(final?: boolean) -> true when closed, false while the runtime still runs a released task of the model
// (its memory is kept; call again later). close(true) stops waiting and reports what was kept.
Napi::Value ModelWrap::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!model_) return Napi::Boolean::New(env, true);
  for (bool b : busy_)
    if (b) throw Napi::Error::New(env, "close() while an inference of " + model_->subject() + " is in flight");
  for (int slot = 0; slot < static_cast<int>(targets_.size()); slot++) DetachTarget(slot);
  const bool final = info.Length() > 0 && info[0].ToBoolean();
  std::vector<BpuError> errors;
  const bool done = model_->Close(errors, final);
  if (done) model_.reset();
  if (errors.empty()) return Napi::Boolean::New(env, done);
  std::string message;
  for (const BpuError& e : errors) message += (message.empty() ? "" : "; ") + std::string(e.what());
  BpuError first = errors.front();
  Napi::Error err = MakeError(env, BpuError(first.reason, message, first.call, first.status));
  err.Set("failures", Napi::Number::New(env, static_cast<double>(errors.size())));
  throw err;
}

// loadModel(files: string[], modelName: string, slots: number, nv12Feed?: 'separate' | 'packed')
//   -> Promise<BpuNativeModel>
Napi::Value LoadModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || info.Length() > 4 || !info[0].IsArray() || !info[1].IsString() || !info[2].IsNumber() ||
      (info.Length() == 4 && !info[3].IsString()))
    throw Napi::TypeError::New(env, "loadModel(files, modelName, slots, nv12Feed?): bad arguments");
  segbpu::LoadOptions o;
  Napi::Array files = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < files.Length(); i++) {
    Napi::Value f = files.Get(i);
    if (!f.IsString()) throw Napi::TypeError::New(env, "loadModel: files must be strings");
    o.files.push_back(f.As<Napi::String>().Utf8Value());
  }
  o.modelName = info[1].As<Napi::String>().Utf8Value();
  o.slots = info[2].As<Napi::Number>().Int32Value();
  if (info.Length() == 4) {
    const std::string feed = info[3].As<Napi::String>().Utf8Value();
    if (feed != "separate" && feed != "packed") throw Napi::RangeError::New(env, "loadModel: nv12Feed must be 'separate' or 'packed'");
    o.nv12Feed = feed == "packed" ? segbpu::Nv12Feed::Packed : segbpu::Nv12Feed::Separate;
  }
  auto* worker = new LoadWorker(env, std::move(o));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

#ifdef SEGSTREAM_HB_DNN_TEST_DOUBLE
Napi::Object TestDoubleControls(Napi::Env env) {
  Napi::Object t = Napi::Object::New(env);
  t.Set("stats", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
          hbTestDoubleStats s{};
          hbTestDoubleGetStats(&s);
          Napi::Object o = Napi::Object::New(info.Env());
          o.Set("liveAllocations", double(s.liveAllocations));
          o.Set("liveAllocatedBytes", double(s.liveAllocatedBytes));
          o.Set("liveTasks", double(s.liveTasks));
          o.Set("livePackedHandles", double(s.livePackedHandles));
          o.Set("allocations", double(s.allocations));
          o.Set("cleanFlushes", double(s.cleanFlushes));
          o.Set("invalidateFlushes", double(s.invalidateFlushes));
          o.Set("inferCalls", double(s.inferCalls));
          o.Set("maxConcurrentTasks", double(s.maxConcurrentTasks));
          o.Set("lastNv12RowStride", double(s.lastNv12RowStride));
          o.Set("runningTasks", double(s.runningTasks));
          o.Set("cancelledTasks", double(s.cancelledTasks));
          return o;
        }));
  t.Set("lastInput", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
          Napi::Env env = info.Env();
          hbDNNTensorProperties p{};
          int64_t sizes[2] = {0, 0};
          const int32_t planes = hbTestDoubleLastInput(&p, sizes);
          if (planes <= 0) return env.Null();
          auto dims = [&](const hbDNNTensorShape& s) {
            return IntArray(env, std::vector<int32_t>(s.dimensionSize, s.dimensionSize + s.numDimensions));
          };
          Napi::Object o = Napi::Object::New(env);
          o.Set("tensorType", Napi::Number::New(env, p.tensorType));
          o.Set("layout", Napi::Number::New(env, p.tensorLayout));
          o.Set("validShape", dims(p.validShape));
          o.Set("alignedShape", dims(p.alignedShape));
          o.Set("alignedByteSize", Napi::Number::New(env, p.alignedByteSize));
          Napi::Array list = Napi::Array::New(env, static_cast<size_t>(planes));
          for (int32_t i = 0; i < planes; i++) {
            Napi::Uint8Array bytes = Napi::Uint8Array::New(env, static_cast<size_t>(sizes[i]));
            hbTestDoubleLastInputPlane(i, bytes.Data(), sizes[i]);
            list.Set(static_cast<uint32_t>(i), bytes);
          }
          o.Set("planes", list);
          return o;
        }));
  t.Set("failAt", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
          if (info.Length() != 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber())
            throw Napi::TypeError::New(info.Env(), "failAt(call, nth, code)");
          const std::string call = info[0].As<Napi::String>().Utf8Value();
          if (hbTestDoubleFailAt(call.c_str(), info[1].As<Napi::Number>().Int32Value(), info[2].As<Napi::Number>().Int32Value()))
            throw Napi::RangeError::New(info.Env(), "failAt: unknown call '" + call + "' or nth < 1");
        }));
  t.Set("clearFailures", Napi::Function::New(env, [](const Napi::CallbackInfo&) { hbTestDoubleClearFailures(); }));
  t.Set("hold", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
          hbTestDoubleHoldInference(info.Length() > 0 && info[0].ToBoolean() ? 1 : 0);
        }));
  t.Set("resetCounters", Napi::Function::New(env, [](const Napi::CallbackInfo&) { hbTestDoubleResetCounters(); }));
  t.Set("releaseLeaks", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
          return Napi::Number::New(info.Env(), double(hbTestDoubleReleaseLeaks()));
        }));
  t.Set("leakCanary", Napi::Function::New(env, [](const Napi::CallbackInfo&) { hbTestDoubleLeakCanary(); }));
  t.Set("callNames", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
          return Napi::String::New(info.Env(), hbTestDoubleCallNames());
        }));
  return t;
}
#endif

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->modelConstructor = Napi::Persistent(ModelWrap::Define(env));
  env.SetInstanceData<AddonData>(data);
  exports.Set("loadModel", Napi::Function::New(env, LoadModel));
#ifdef SEGSTREAM_HB_DNN_TEST_DOUBLE
  exports.Set("runtime", "test-double");
  exports.Set("testDouble", TestDoubleControls(env));
#else
  exports.Set("runtime", "board");
#endif
#if defined(__aarch64__)
  exports.Set("arch", "aarch64");
#elif defined(__x86_64__)
  exports.Set("arch", "x86_64");
#else
  exports.Set("arch", "other");
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(segstream_bpu, Init)
