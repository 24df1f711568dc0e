// segstream's hb_dnn test double: the subset of the RDK X5 runtime API that segstream uses, over JSON "models".
//
// Faithful where it matters to the caller's code paths, strict where the real runtime would silently misbehave:
// - cached memory has a CPU view (virAddr) and a separate device copy: CLEAN copies CPU -> device, INVALIDATE
//   copies device -> CPU, inference reads and writes only the device copies. A caller that forgets a flush sees
//   stale bytes, as it would on the board.
// - inference runs on its own thread; hbDNNInfer returns at once and hbDNNWaitTaskDone waits.
// - flushing or freeing memory that a running task uses, or releasing a model with live tasks, is an error.
// - any call can be told to fail (hbTestDoubleFailAt / SEGSTREAM_HBDNN_DOUBLE_FAIL), and everything alive is
//   counted (hbTestDoubleGetStats) so tests can prove nothing leaks.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "compute.h"
#include "dnn/hb_dnn.h"
#include "dnn/hb_dnn_test_double.h"
#include "model_desc.h"

#define HB_DOUBLE_EXPORT extern "C" __attribute__((visibility("default")))

namespace hbdouble {
namespace {

const char* const kCallNames[] = {"hbDNNInitializeFromFiles",
                                  "hbDNNGetModelNameList",
                                  "hbDNNGetModelHandle",
                                  "hbDNNRelease",
                                  "hbDNNGetInputCount",
                                  "hbDNNGetInputName",
                                  "hbDNNGetInputTensorProperties",
                                  "hbDNNGetOutputCount",
                                  "hbDNNGetOutputName",
                                  "hbDNNGetOutputTensorProperties",
                                  "hbDNNInfer",
                                  "hbDNNWaitTaskDone",
                                  "hbDNNReleaseTask",
                                  "hbSysAllocCachedMem",
                                  "hbSysFlushMem",
                                  "hbSysFreeMem"};

struct Allocation {
  std::unique_ptr<uint8_t[]> cpu;
  std::unique_ptr<uint8_t[]> device;
  uint32_t size = 0;
  uint64_t phy = 0;
  int busy = 0;  // running tasks that read or write it
};

struct Packed {
  std::vector<std::unique_ptr<ModelDesc>> models;
  std::vector<const char*> names;
};

struct Task {
  std::thread thread;
  Packed* packed = nullptr;
  std::vector<Allocation*> used;
  bool done = false;
  int32_t status = HB_DNN_SUCCESS;
};

struct Armed {
  int32_t countdown;
  int32_t code;
};

struct State {
  std::mutex mu;
  std::condition_variable changed;  // task completion and hold release
  std::map<void*, std::unique_ptr<Allocation>> allocations;  // by virAddr
  std::set<Packed*> packed;
  std::map<const ModelDesc*, Packed*> models;  // live model handles
  std::map<Task*, std::unique_ptr<Task>> tasks;
  std::map<std::string, std::vector<Armed>> failures;
  bool hold = false;
  uint64_t nextPhy = 0x10000000;
  int64_t liveBytes = 0;
  int64_t running = 0;
  hbTestDoubleStats counters{};
};

State& S() {
  static State* s = new State();  // never destroyed: tasks may still finish during process exit
  return *s;
}

thread_local std::string t_lastError;

int32_t Fail(int32_t code, const std::string& why) {
  t_lastError = why;
  return code;
}

bool KnownCall(const std::string& name) {
  for (const char* n : kCallNames)
    if (name == n) return true;
  return false;
}

void ArmFromEnvironment() {
  const char* spec = std::getenv("SEGSTREAM_HBDNN_DOUBLE_FAIL");
  if (!spec || !*spec) return;
  std::string all(spec);
  size_t start = 0;
  while (start <= all.size()) {
    size_t comma = all.find(',', start);
    std::string item = all.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? all.size() + 1 : comma + 1;
    if (item.empty()) continue;
    std::string name = item, rest;
    size_t colon = item.find(':');
    if (colon != std::string::npos) {
      name = item.substr(0, colon);
      rest = item.substr(colon + 1);
    }
    int nth = 1, code = HB_DNN_RUN_TASK_FAILED;
    if (!rest.empty()) {
      nth = std::atoi(rest.c_str());
      size_t c2 = rest.find(':');
      if (c2 != std::string::npos) code = std::atoi(rest.c_str() + c2 + 1);
    }
    if (KnownCall(name) && nth >= 1) S().failures[name].push_back({nth, code});
  }
}

// Checks the armed failures of one call; returns the code to fail with, or 0.
int32_t Injected(const char* call) {
  static std::once_flag once;
  std::call_once(once, [] {
    std::lock_guard<std::mutex> lock(S().mu);
    ArmFromEnvironment();
  });
  std::lock_guard<std::mutex> lock(S().mu);
  auto it = S().failures.find(call);
  if (it == S().failures.end()) return 0;
  int32_t code = 0;
  auto& list = it->second;
  for (auto a = list.begin(); a != list.end();) {
    if (--a->countdown == 0) {
      if (code == 0) code = a->code;
      a = list.erase(a);
    } else {
      ++a;
    }
  }
  if (code != 0) t_lastError = std::string("failure injected into ") + call;
  return code;
}

#define INJECT(call)                       \
  do {                                     \
    if (int32_t injected_ = Injected(call)) \
      return injected_;                    \
  } while (0)

Allocation* FindAllocation(const hbSysMem& m) {
  auto it = S().allocations.find(m.virAddr);
  return it == S().allocations.end() ? nullptr : it->second.get();
}

bool SameShape(const hbDNNTensorShape& a, const hbDNNTensorShape& b) {
  if (a.numDimensions != b.numDimensions) return false;
  for (int i = 0; i < a.numDimensions; i++)
    if (a.dimensionSize[i] != b.dimensionSize[i]) return false;
  return true;
}

std::string ShapeText(const hbDNNTensorShape& s) {
  std::string t = "(";
  for (int i = 0; i < s.numDimensions; i++) t += (i ? "," : "") + std::to_string(s.dimensionSize[i]);
  return t + ")";
}

// Bytes of a strided tensor's valid region, counted from its start (the highest byte read + 1).
int64_t ValidExtent(const hbDNNTensorProperties& p) {
  std::vector<int64_t> st = EffectiveStrides(p);
  int64_t end = ElementBytes(p.tensorType);
  for (int i = 0; i < p.validShape.numDimensions; i++) end += int64_t(p.validShape.dimensionSize[i] - 1) * st[i];
  return end;
}

// Checks one input tensor against the model (caller holds the lock); fills the planes' allocations.
int32_t CheckInput(const TensorDesc& want, const hbDNNTensor& got, std::vector<Allocation*>& planes, int index) {
  const std::string who = "input " + std::to_string(index) + " '" + want.name + "'";
  const hbDNNTensorProperties& p = got.properties;
  const hbDNNTensorProperties& w = want.base;
  if (p.tensorType != w.tensorType)
    return Fail(HB_DNN_INVALID_ARGUMENT, who + ": tensorType " + TensorTypeName(p.tensorType) + ", model has " +
                                             TensorTypeName(w.tensorType));
  if (p.tensorLayout != w.tensorLayout) return Fail(HB_DNN_INVALID_ARGUMENT, who + ": tensorLayout differs from the model's");
  if (!SameShape(p.validShape, w.validShape))
    return Fail(HB_DNN_INVALID_ARGUMENT, who + ": validShape " + ShapeText(p.validShape) + ", model has " + ShapeText(w.validShape));
  Axes ax = AxesOf(w.tensorLayout);
  const int32_t H = w.validShape.dimensionSize[ax.h], W = w.validShape.dimensionSize[ax.w];
  std::vector<int64_t> need;
  if (w.tensorType == HB_DNN_IMG_TYPE_NV12_SEPARATE) {
    // The caller states its row stride in alignedShape's W; everything else must match the model.
    const int32_t stride = p.alignedShape.dimensionSize[ax.w];
    if (p.alignedShape.numDimensions != 4 || stride < W || stride % 16 != 0)
      return Fail(HB_DNN_INVALID_ARGUMENT, who + ": alignedShape W (the row stride) must be >= " + std::to_string(W) +
                                               " and a multiple of 16, got " + std::to_string(stride));
    need = {int64_t(stride) * (H - 1) + W, int64_t(stride) * (H / 2 - 1) + W};
  } else {
    if (!SameShape(p.alignedShape, w.alignedShape))
      return Fail(HB_DNN_INVALID_ARGUMENT, who + ": alignedShape " + ShapeText(p.alignedShape) + ", model has " +
                                               ShapeText(w.alignedShape));
    need = {w.tensorType == HB_DNN_IMG_TYPE_NV12 ? int64_t(H) * W * 3 / 2 : std::max<int64_t>(ValidExtent(p), w.alignedByteSize)};
  }
  for (size_t i = 0; i < need.size(); i++) {
    const hbSysMem& m = got.sysMem[i];
    Allocation* a = FindAllocation(m);
    if (!a) return Fail(HB_DNN_INVALID_ARGUMENT, who + ": sysMem[" + std::to_string(i) + "] is not memory from hbSysAllocCachedMem");
    if (m.phyAddr != a->phy || m.memSize > a->size)
      return Fail(HB_DNN_INVALID_ARGUMENT, who + ": sysMem[" + std::to_string(i) + "] phyAddr/memSize do not match the allocation");
    if (int64_t(m.memSize) < need[i])
      return Fail(HB_DNN_INVALID_ARGUMENT, who + ": sysMem[" + std::to_string(i) + "] holds " + std::to_string(m.memSize) +
                                               " bytes, needs " + std::to_string(need[i]));
    planes.push_back(a);
  }
  return HB_DNN_SUCCESS;
}

void RunTask(Task* task, const ModelDesc* model, InputPlanes in, std::vector<OutputPlane> outs) {
  State& s = S();
  int32_t status = HB_DNN_SUCCESS;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    if (!s.changed.wait_for(lock, std::chrono::seconds(10), [&] { return !s.hold; })) status = HB_DNN_RUN_TASK_FAILED;
  }
  if (status == HB_DNN_SUCCESS) {
    if (model->inferDelayMs > 0) std::this_thread::sleep_for(std::chrono::milliseconds(model->inferDelayMs));
    Compute(*model, in, outs);
  }
  std::lock_guard<std::mutex> lock(s.mu);
  for (Allocation* a : task->used) a->busy--;
  task->status = status;
  task->done = true;
  s.running--;
  s.changed.notify_all();
}

}  // namespace
}  // namespace hbdouble

using namespace hbdouble;

// ---------------------------------------------------------------------------------------------- system memory

HB_DOUBLE_EXPORT int32_t hbSysAllocCachedMem(hbSysMem* mem, uint32_t size) {
  INJECT("hbSysAllocCachedMem");
  if (!mem || size == 0) return Fail(HB_DNN_INVALID_ARGUMENT, "hbSysAllocCachedMem: null mem or zero size");
  auto a = std::make_unique<Allocation>();
  a->cpu.reset(new (std::nothrow) uint8_t[size]);
  a->device.reset(new (std::nothrow) uint8_t[size]);
  if (!a->cpu || !a->device) return Fail(HB_DNN_OUT_OF_MEMORY, "hbSysAllocCachedMem: out of memory");
  // Fresh memory holds garbage, and the two views disagree until a flush: callers must not rely on zeros.
  std::memset(a->cpu.get(), 0xCD, size);
  std::memset(a->device.get(), 0xDD, size);
  a->size = size;
  std::lock_guard<std::mutex> lock(S().mu);
  a->phy = S().nextPhy;
  S().nextPhy += (uint64_t(size) + 0xFFF) & ~uint64_t(0xFFF);
  mem->phyAddr = a->phy;
  mem->virAddr = a->cpu.get();
  mem->memSize = size;
  S().liveBytes += size;
  S().counters.allocations++;
  S().allocations[a->cpu.get()] = std::move(a);
  return HB_DNN_SUCCESS;
}

HB_DOUBLE_EXPORT int32_t hbSysFlushMem(hbSysMem* mem, int32_t flag) {
  INJECT("hbSysFlushMem");
  if (!mem) return Fail(HB_DNN_INVALID_ARGUMENT, "hbSysFlushMem: null mem");
  std::lock_guard<std::mutex> lock(S().mu);
  Allocation* a = FindAllocation(*mem);
  if (!a) return Fail(HB_DNN_INVALID_ARGUMENT, "hbSysFlushMem: not memory from hbSysAllocCachedMem");
  if (a->busy) return Fail(HB_DNN_API_USE_ERROR, "hbSysFlushMem: memory is in use by a running task");
  if (flag == HB_SYS_MEM_CACHE_CLEAN) {
    std::memcpy(a->device.get(), a->cpu.get(), a->size);
    S().counters.cleanFlushes++;
  } else if (flag == HB_SYS_MEM_CACHE_INVALIDATE) {
    std::memcpy(a->cpu.get(), a->device.get(), a->size);
    S().counters.invalidateFlushes++;
  } else {
    return Fail(HB_DNN_INVALID_ARGUMENT, "hbSysFlushMem: flag must be CLEAN (2) or INVALIDATE (1)");
  }
  return HB_DNN_SUCCESS;
}

HB_DOUBLE_EXPORT int32_t hbSysFreeMem(hbSysMem* mem) {
  INJECT("hbSysFreeMem");
  if (!mem) return Fail(HB_DNN_INVALID_ARGUMENT, "hbSysFreeMem: null mem");
  std::lock_guard<std::mutex> lock(S().mu);
  auto it = S().allocations.find(mem->virAddr);
  if (it == S().allocations.end()) return Fail(HB_DNN_INVALID_ARGUMENT, "hbSysFreeMem: not memory from hbSysAllocCachedMem (or freed twice)");
  if (it->second->busy) return Fail(HB_DNN_API_USE_ERROR, "hbSysFreeMem: memory is in use by a running task");
  S().liveBytes -= it->second->size;
  S().allocations.erase(it);
  return HB_DNN_SUCCESS;
}

// ---------------------------------------------------------------------------------------------- models

HB_DOUBLE_EXPORT const char* hbDNNGetErrorDesc(int32_t code) {
  switch (code) {
    case HB_DNN_SUCCESS: return "success";
    case HB_DNN_INVALID_ARGUMENT: return "invalid argument";
    case HB_DNN_INVALID_MODEL: return "invalid model";
    case HB_DNN_INVALID_PACKED_DNN_HANDLE: return "invalid packed dnn handle";
    case HB_DNN_INVALID_DNN_HANDLE: return "invalid dnn handle";
    case HB_DNN_CAN_NOT_OPEN_FILE: return "can not open file";
    case HB_DNN_OUT_OF_MEMORY: return "out of memory";
    case HB_DNN_TIMEOUT: return "timeout";
    case HB_DNN_INVALID_TASK_HANDLE: return "invalid task handle";
    case HB_DNN_RUN_TASK_FAILED: return "run task failed";
    case HB_DNN_MODEL_IS_RUNNING: return "model is running";
    case HB_DNN_INCOMPATIBLE_MODEL: return "Incompatible Platform";
    case HB_DNN_API_USE_ERROR: return "api use error";
    default: return "unknown error";
  }
}

HB_DOUBLE_EXPORT int32_t hbDNNInitializeFromFiles(hbPackedDNNHandle_t* packedHandle, const char** files, int32_t count) {
  INJECT("hbDNNInitializeFromFiles");
  if (!packedHandle || !files || count <= 0) return Fail(HB_DNN_INVALID_ARGUMENT, "hbDNNInitializeFromFiles: no files");
  auto packed = std::make_unique<Packed>();
  for (int32_t i = 0; i < count; i++) {
    if (!files[i]) return Fail(HB_DNN_INVALID_ARGUMENT, "hbDNNInitializeFromFiles: null file name");
    try {
      for (ModelDesc& m : LoadModelFile(files[i])) {
        for (const auto& existing : packed->models)
          if (existing->name == m.name)
            return Fail(HB_DNN_INVALID_MODEL, "model name '" + m.name + "' appears twice in the files given");
        packed->models.push_back(std::make_unique<ModelDesc>(std::move(m)));
      }
    } catch (const LoadError& e) {
      return Fail(e.code, e.what());
    }
  }
  for (const auto& m : packed->models) packed->names.push_back(m->name.c_str());
  std::lock_guard<std::mutex> lock(S().mu);
  for (const auto& m : packed->models) S().models[m.get()] = packed.get();
  *packedHandle = packed.get();
  S().packed.insert(packed.release());
  return HB_DNN_SUCCESS;
}

HB_DOUBLE_EXPORT int32_t hbDNNGetModelNameList(const char*** names, int32_t* count, hbPackedDNNHandle_t handle) {
  INJECT("hbDNNGetModelNameList");
  std::lock_guard<std::mutex> lock(S().mu);
  Packed* p = static_cast<Packed*>(handle);
  if (!names || !count) return Fail(HB_DNN_INVALID_ARGUMENT, "hbDNNGetModelNameList: null output");
  if (!S().packed.count(p)) return Fail(HB_DNN_INVALID_PACKED_DNN_HANDLE, "hbDNNGetModelNameList: unknown packed handle");
  *names = p->names.data();
  *count = static_cast<int32_t>(p->names.size());
  return HB_DNN_SUCCESS;
}

HB_DOUBLE_EXPORT int32_t hbDNNGetModelHandle(hbDNNHandle_t* dnn, hbPackedDNNHandle_t handle, const char* name) {
  INJECT("hbDNNGetModelHandle");
  std::lock_guard<std::mutex> lock(S().mu);
  Packed* p = static_cast<Packed*>(handle);
  if (!dnn || !name) return Fail(HB_DNN_INVALID_ARGUMENT, "hbDNNGetModelHandle: null argument");
  if (!S().packed.count(p)) return Fail(HB_DNN_INVALID_PACKED_DNN_HANDLE, "hbDNNGetModelHandle: unknown packed handle");
  for (const auto& m : p->models)
    if (m->name == name) {
      *dnn = m.get();
      return HB_DNN_SUCCESS;
    }
  return Fail(HB_DNN_INVALID_ARGUMENT, std::string("hbDNNGetModelHandle: no model named '") + name + "'");
}

HB_DOUBLE_EXPORT int32_t hbDNNRelease(hbPackedDNNHandle_t handle) {
  INJECT("hbDNNRelease");
  std::unique_ptr<Packed> doomed;
  {
    std::lock_guard<std::mutex> lock(S().mu);
    Packed* p = static_cast<Packed*>(handle);
    if (!S().packed.count(p)) return Fail(HB_DNN_INVALID_PACKED_DNN_HANDLE, "hbDNNRelease: unknown packed handle (released twice?)");
    for (const auto& t : S().tasks)
      if (t.second->packed == p) return Fail(HB_DNN_MODEL_IS_RUNNING, "hbDNNRelease: a task of this model was not released");
    for (const auto& m : p->models) S().models.erase(m.get());
    S().packed.erase(p);
    doomed.reset(p);
  }
  return HB_DNN_SUCCESS;
}

namespace {
// Looks up a model handle (caller holds the lock).
const ModelDesc* FindModel(hbDNNHandle_t dnn) {
  auto it = S().models.find(static_cast<const ModelDesc*>(dnn));
  return it == S().models.end() ? nullptr : it->first;
}

int32_t TensorQuery(const char* call, hbDNNHandle_t dnn, int32_t index, bool input, const TensorDesc** out) {
  const ModelDesc* m = FindModel(dnn);
  if (!m) return Fail(HB_DNN_INVALID_DNN_HANDLE, std::string(call) + ": unknown model handle");
  const auto& list = input ? m->inputs : m->outputs;
  if (index < 0 || index >= static_cast<int32_t>(list.size()))
    return Fail(HB_DNN_INVALID_ARGUMENT, std::string(call) + ": index " + std::to_string(index) + " out of range");
  *out = &list[static_cast<size_t>(index)];
  return HB_DNN_SUCCESS;
}
}  // namespace

HB_DOUBLE_EXPORT int32_t hbDNNGetInputCount(int32_t* count, hbDNNHandle_t dnn) {
  INJECT("hbDNNGetInputCount");
  std::lock_guard<std::mutex> lock(S().mu);
  const ModelDesc* m = FindModel(dnn);
  if (!m || !count) return Fail(HB_DNN_INVALID_DNN_HANDLE, "hbDNNGetInputCount: unknown model handle");
  *count = static_cast<int32_t>(m->inputs.size());
  return HB_DNN_SUCCESS;
}

HB_DOUBLE_EXPORT int32_t hbDNNGetOutputCount(int32_t* count, hbDNNHandle_t dnn) {
  INJECT("hbDNNGetOutputCount");
  std::lock_guard<std::mutex> lock(S().mu);
  const ModelDesc* m = FindModel(dnn);
  if (!m || !count) return Fail(HB_DNN_INVALID_DNN_HANDLE, "hbDNNGetOutputCount: unknown model handle");
  *count = static_cast<int32_t>(m->outputs.size());
  return HB_DNN_SUCCESS;
}

HB_DOUBLE_EXPORT int32_t hbDNNGetInputName(const char** name, hbDNNHandle_t dnn, int32_t index) {
  INJECT("hbDNNGetInputName");
  std::lock_guard<std::mutex> lock(S().mu);
  const TensorDesc* t = nullptr;
  if (int32_t rc = TensorQuery("hbDNNGetInputName", dnn, index, true, &t)) return rc;
  if (!name) return Fail(HB_DNN_INVALID_ARGUMENT, "hbDNNGetInputName: null output");
  *name = t->name.c_str();
  return HB_DNN_SUCCESS;
}

HB_DOUBLE_EXPORT int32_t hbDNNGetOutputName(const char** name, hbDNNHandle_t dnn, int32_t index) {
  INJECT("hbDNNGetOutputName");
  std::lock_guard<std::mutex> lock(S().mu);
  const TensorDesc* t = nullptr;
  if (int32_t rc = TensorQuery("hbDNNGetOutputName", dnn, index, false, &t)) return rc;
  if (!name) return Fail(HB_DNN_INVALID_ARGUMENT, "hbDNNGetOutputName: null output");
  *name = t->name.c_str();
  return HB_DNN_SUCCESS;
}

HB_DOUBLE_EXPORT int32_t hbDNNGetInputTensorProperties(hbDNNTensorProperties* props, hbDNNHandle_t dnn, int32_t index) {
  INJECT("hbDNNGetInputTensorProperties");
  std::lock_guard<std::mutex> lock(S().mu);
  const TensorDesc* t = nullptr;
  if (int32_t rc = TensorQuery("hbDNNGetInputTensorProperties", dnn, index, true, &t)) return rc;
  if (!props) return Fail(HB_DNN_INVALID_ARGUMENT, "hbDNNGetInputTensorProperties: null output");
  *props = t->Properties();
  return HB_DNN_SUCCESS;
}

HB_DOUBLE_EXPORT int32_t hbDNNGetOutputTensorProperties(hbDNNTensorProperties* props, hbDNNHandle_t dnn, int32_t index) {
  INJECT("hbDNNGetOutputTensorProperties");
  std::lock_guard<std::mutex> lock(S().mu);
  const TensorDesc* t = nullptr;
  if (int32_t rc = TensorQuery("hbDNNGetOutputTensorProperties", dnn, index, false, &t)) return rc;
  if (!props) return Fail(HB_DNN_INVALID_ARGUMENT, "hbDNNGetOutputTensorProperties: null output");
  *props = t->Properties();
  return HB_DNN_SUCCESS;
}

// ---------------------------------------------------------------------------------------------- inference

HB_DOUBLE_EXPORT int32_t hbDNNInfer(hbDNNTaskHandle_t* taskHandle, hbDNNTensor** output, const hbDNNTensor* input,
                                    hbDNNHandle_t dnn, hbDNNInferCtrlParam* ctrl) {
  INJECT("hbDNNInfer");
  if (!taskHandle || !output || !*output || !input || !ctrl)
    return Fail(HB_DNN_INVALID_ARGUMENT, "hbDNNInfer: null task, output, input or control parameter");
  std::lock_guard<std::mutex> lock(S().mu);
  const ModelDesc* m = FindModel(dnn);
  if (!m) return Fail(HB_DNN_INVALID_DNN_HANDLE, "hbDNNInfer: unknown model handle");
  auto task = std::make_unique<Task>();
  task->packed = S().models[m];

  InputPlanes planes;
  for (size_t i = 0; i < m->inputs.size(); i++) {
    std::vector<Allocation*> allocs;
    if (int32_t rc = CheckInput(m->inputs[i], input[i], allocs, static_cast<int>(i))) return rc;
    if (i == 0) {
      planes.props = input[0].properties;
      const int32_t t = planes.props.tensorType;
      if (t == HB_DNN_IMG_TYPE_NV12 || t == HB_DNN_IMG_TYPE_NV12_SEPARATE) {
        const Axes ax = AxesOf(planes.props.tensorLayout);
        S().counters.lastNv12RowStride =
            (t == HB_DNN_IMG_TYPE_NV12 ? planes.props.validShape : planes.props.alignedShape).dimensionSize[ax.w];
      }
      planes.plane0 = allocs[0]->device.get();
      planes.plane1 = allocs.size() > 1 ? allocs[1]->device.get() : nullptr;
    }
    task->used.insert(task->used.end(), allocs.begin(), allocs.end());
  }
  std::vector<OutputPlane> outs;
  for (size_t i = 0; i < m->outputs.size(); i++) {
    const hbDNNTensor& t = (*output)[i];
    const TensorDesc& want = m->outputs[i];
    const std::string who = "hbDNNInfer: output " + std::to_string(i) + " '" + want.name + "'";
    Allocation* a = FindAllocation(t.sysMem[0]);
    if (!a) return Fail(HB_DNN_INVALID_ARGUMENT, who + ": sysMem[0] is not memory from hbSysAllocCachedMem");
    if (t.sysMem[0].memSize > a->size || int64_t(t.sysMem[0].memSize) < want.base.alignedByteSize)
      return Fail(HB_DNN_INVALID_ARGUMENT, who + ": sysMem[0] smaller than alignedByteSize " + std::to_string(want.base.alignedByteSize));
    if (t.properties.tensorType != want.base.tensorType) return Fail(HB_DNN_INVALID_ARGUMENT, who + ": tensorType differs from the model's");
    if (std::find(task->used.begin(), task->used.end(), a) != task->used.end())
      return Fail(HB_DNN_INVALID_ARGUMENT, who + ": the same memory is used twice in one task");
    outs.push_back({&want, a->device.get(), a->size});
    task->used.push_back(a);
  }
  for (Allocation* a : task->used) a->busy++;
  S().counters.inferCalls++;
  S().running++;
  S().counters.maxConcurrentTasks = std::max(S().counters.maxConcurrentTasks, S().running);
  Task* raw = task.get();
  raw->thread = std::thread(RunTask, raw, m, planes, std::move(outs));
  S().tasks[raw] = std::move(task);
  *taskHandle = raw;
  return HB_DNN_SUCCESS;
}

HB_DOUBLE_EXPORT int32_t hbDNNWaitTaskDone(hbDNNTaskHandle_t handle, int32_t timeoutMs) {
  INJECT("hbDNNWaitTaskDone");
  std::unique_lock<std::mutex> lock(S().mu);
  auto it = S().tasks.find(static_cast<Task*>(handle));
  if (it == S().tasks.end()) return Fail(HB_DNN_INVALID_TASK_HANDLE, "hbDNNWaitTaskDone: unknown task handle");
  Task* t = it->second.get();
  if (timeoutMs <= 0) {
    S().changed.wait(lock, [&] { return t->done; });
  } else if (!S().changed.wait_for(lock, std::chrono::milliseconds(timeoutMs), [&] { return t->done; })) {
    return Fail(HB_DNN_TIMEOUT, "hbDNNWaitTaskDone: task still running after the timeout");
  }
  if (t->status != HB_DNN_SUCCESS) return Fail(t->status, "hbDNNWaitTaskDone: the task failed (inference was held too long)");
  return HB_DNN_SUCCESS;
}

HB_DOUBLE_EXPORT int32_t hbDNNReleaseTask(hbDNNTaskHandle_t handle) {
  INJECT("hbDNNReleaseTask");
  std::unique_ptr<Task> task;
  {
    std::lock_guard<std::mutex> lock(S().mu);
    auto it = S().tasks.find(static_cast<Task*>(handle));
    if (it == S().tasks.end()) return Fail(HB_DNN_INVALID_TASK_HANDLE, "hbDNNReleaseTask: unknown task handle (released twice?)");
    task = std::move(it->second);
    S().tasks.erase(it);
  }
  if (task->thread.joinable()) task->thread.join();  // a released task stops existing: wait for its thread
  return HB_DNN_SUCCESS;
}

// ---------------------------------------------------------------------------------------------- controls

HB_DOUBLE_EXPORT int32_t hbTestDoubleFailAt(const char* call, int32_t nth, int32_t code) {
  Injected("");  // makes sure the environment's failures are armed first
  if (!call || !KnownCall(call) || nth < 1) return -1;
  std::lock_guard<std::mutex> lock(S().mu);
  S().failures[call].push_back({nth, code});
  return 0;
}

HB_DOUBLE_EXPORT void hbTestDoubleClearFailures(void) {
  Injected("");
  std::lock_guard<std::mutex> lock(S().mu);
  S().failures.clear();
}

HB_DOUBLE_EXPORT void hbTestDoubleHoldInference(int32_t hold) {
  std::lock_guard<std::mutex> lock(S().mu);
  S().hold = hold != 0;
  S().changed.notify_all();
}

HB_DOUBLE_EXPORT void hbTestDoubleGetStats(hbTestDoubleStats* stats) {
  if (!stats) return;
  std::lock_guard<std::mutex> lock(S().mu);
  *stats = S().counters;
  stats->liveAllocations = static_cast<int64_t>(S().allocations.size());
  stats->liveAllocatedBytes = S().liveBytes;
  stats->liveTasks = static_cast<int64_t>(S().tasks.size());
  stats->livePackedHandles = static_cast<int64_t>(S().packed.size());
}

HB_DOUBLE_EXPORT void hbTestDoubleResetCounters(void) {
  std::lock_guard<std::mutex> lock(S().mu);
  S().counters = hbTestDoubleStats{};
}

HB_DOUBLE_EXPORT int64_t hbTestDoubleReleaseLeaks(void) {
  std::vector<std::unique_ptr<Task>> tasks;
  {
    std::lock_guard<std::mutex> lock(S().mu);
    S().hold = false;
    S().changed.notify_all();
    for (auto& t : S().tasks) tasks.push_back(std::move(t.second));
    S().tasks.clear();
  }
  for (auto& t : tasks)
    if (t->thread.joinable()) t->thread.join();
  std::lock_guard<std::mutex> lock(S().mu);
  int64_t freed = static_cast<int64_t>(tasks.size() + S().allocations.size() + S().packed.size());
  S().allocations.clear();
  S().liveBytes = 0;
  for (Packed* p : S().packed) delete p;
  S().packed.clear();
  S().models.clear();
  return freed;
}

HB_DOUBLE_EXPORT const char* hbTestDoubleCallNames(void) {
  static const std::string names = [] {
    std::string s;
    for (const char* n : kCallNames) s += (s.empty() ? "" : ",") + std::string(n);
    return s;
  }();
  return names.c_str();
}

HB_DOUBLE_EXPORT const char* hbTestDoubleLastError(void) { return t_lastError.c_str(); }

HB_DOUBLE_EXPORT void hbTestDoubleLeakCanary(void) {
  void* volatile lost = std::malloc(48);
  std::memset(lost, 0x42, 48);
  lost = nullptr;
}
