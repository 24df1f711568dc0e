// segstream's hb_dnn test double: the RDK X5 runtime API (dnn/hb_dnn.h, hb_sys.h, hb_dnn_status.h and the part
// of hb_dnn_ext.h segstream uses) over JSON "models".
//
// Faithful where it matters to the caller's code paths, strict where the real runtime would silently misbehave:
// - cached memory has a CPU view (virAddr) and a separate device copy: CLEAN copies CPU -> device, INVALIDATE
//   copies device -> CPU, inference reads and writes only the device copies. A caller that forgets a flush sees
//   stale bytes, as it would on the board. hbSysMem entries may describe part of an allocation (as a camera
//   buffer's Y and UV planes do), found by address.
// - inference runs on its own thread; hbDNNInfer returns at once and hbDNNWaitTaskDone waits. hbDNNReleaseTask
//   does not wait either: an unfinished task is cancelled in the background and keeps its memory busy until its
//   thread ends, as the board documents.
// - a model reporting NV12 takes NV12 (packed, rows at the caller's alignedShape W) or, when the caller switches
//   the tensor type, NV12_SEPARATE (Y in sysMem[0], UV in sysMem[1], row stride in alignedShape W).
// - flushing or freeing memory a running task uses, feeding it to a second task, or releasing a model whose tasks
//   still exist, is an error.
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
#include "dnn/hb_dnn_ext.h"
#include "dnn/hb_dnn_status.h"
#include "dnn/hb_dnn_test_double.h"
#include "dnn/hb_sys.h"
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
                                  "hbDNNGetInputSource",
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
  std::unique_ptr<uint8_t[]> device;  // null for uncached memory: the CPU view is the device's
  uint32_t size = 0;
  uint64_t phy = 0;
  int busy = 0;  // running tasks that read or write it
  uint8_t* Device() { return device ? device.get() : cpu.get(); }
};

// Part of an allocation, as an hbSysMem entry describes it.
struct Range {
  Allocation* a = nullptr;
  int64_t offset = 0;
  int64_t size = 0;
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
  bool released = false;   // the handle is gone; the thread may still run
  bool cancelled = false;  // released before it finished: it stops without computing
  int32_t status = HB_DNN_SUCCESS;
  std::string why;  // for a failed status
  hbDNNTaskDoneCb callback = nullptr;
  void* userdata = nullptr;
};

struct Armed {
  int32_t countdown;
  int32_t code;
};

struct LastInput {
  hbDNNTensorProperties props{};
  std::vector<uint8_t> planes[2];
  int count = 0;
};

struct State {
  std::mutex mu;
  std::condition_variable changed;  // task completion and hold release
  std::map<uint8_t*, std::unique_ptr<Allocation>> allocations;  // by CPU address
  std::set<Packed*> packed;
  std::map<const ModelDesc*, Packed*> models;  // live model handles
  std::map<Task*, std::unique_ptr<Task>> tasks;  // handles not released, and released tasks still running
  std::map<std::string, std::vector<Armed>> failures;
  bool hold = false;
  uint64_t nextPhy = 0x10000000;
  int64_t liveBytes = 0;
  int64_t running = 0;
  LastInput lastInput;
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

// The allocation an hbSysMem entry points into, with its phyAddr at the same offset (caller holds the lock).
bool FindRange(const hbSysMem& m, Range* out) {
  uint8_t* p = static_cast<uint8_t*>(m.virAddr);
  auto it = S().allocations.upper_bound(p);
  if (it == S().allocations.begin()) return false;
  --it;
  Allocation* a = it->second.get();
  const int64_t offset = p - it->first;
  if (offset < 0 || offset + int64_t(m.memSize) > int64_t(a->size) || m.phyAddr != a->phy + uint64_t(offset)) return false;
  *out = {a, offset, int64_t(m.memSize)};
  return true;
}

bool Overlap(const Range& x, const Range& y) {
  return x.a == y.a && x.offset < y.offset + y.size && y.offset < x.offset + x.size;
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

// Checks one input tensor against the model (caller holds the lock); fills the ranges of its planes.
int32_t CheckInput(const TensorDesc& want, const hbDNNTensor& got, std::vector<Range>& planes, int index) {
  const std::string who = "input " + std::to_string(index) + " '" + want.name + "'";
  const hbDNNTensorProperties& p = got.properties;
  const hbDNNTensorProperties& w = want.base;
  const bool separate = w.tensorType == HB_DNN_IMG_TYPE_NV12 && p.tensorType == HB_DNN_IMG_TYPE_NV12_SEPARATE;
  if (p.tensorType != w.tensorType && !separate)
    return Fail(HB_DNN_INVALID_ARGUMENT, who + ": tensorType " + TensorTypeName(p.tensorType) + ", model has " +
                                             TensorTypeName(w.tensorType) +
                                             (w.tensorType == HB_DNN_IMG_TYPE_NV12 ? " (NV12_SEPARATE may be used instead)" : ""));
  if (p.tensorLayout != w.tensorLayout) return Fail(HB_DNN_INVALID_ARGUMENT, who + ": tensorLayout differs from the model's");
  if (!SameShape(p.validShape, w.validShape))
    return Fail(HB_DNN_INVALID_ARGUMENT, who + ": validShape " + ShapeText(p.validShape) + ", model has " + ShapeText(w.validShape));
  Axes ax = AxesOf(w.tensorLayout);
  const int32_t H = w.validShape.dimensionSize[ax.h], W = w.validShape.dimensionSize[ax.w];
  std::vector<int64_t> need;
  if (separate) {
    // The caller states its row stride in alignedShape's W (16-aligned); every other dimension is the valid one.
    const int32_t stride = p.alignedShape.dimensionSize[ax.w];
    hbDNNTensorShape expect = w.validShape;
    expect.dimensionSize[ax.w] = stride;
    if (!SameShape(p.alignedShape, expect) || stride < W || stride % 16 != 0)
      return Fail(HB_DNN_INVALID_ARGUMENT, who + ": NV12_SEPARATE alignedShape must be the validShape with W = the row stride (>= " +
                                               std::to_string(W) + ", a multiple of 16), got " + ShapeText(p.alignedShape));
    need = {int64_t(stride) * H, int64_t(stride) * H / 2};
  } else if (w.tensorType == HB_DNN_IMG_TYPE_NV12) {
    // Rows at alignedShape W: the model's alignedShape, or the validShape when the caller wrote rows at W.
    if (!SameShape(p.alignedShape, w.alignedShape) && !SameShape(p.alignedShape, w.validShape))
      return Fail(HB_DNN_INVALID_ARGUMENT, who + ": NV12 alignedShape " + ShapeText(p.alignedShape) + " is neither the model's " +
                                               ShapeText(w.alignedShape) + " nor its validShape");
    need = {int64_t(p.alignedShape.dimensionSize[ax.h]) * p.alignedShape.dimensionSize[ax.w] * 3 / 2};
  } else {
    if (!SameShape(p.alignedShape, w.alignedShape))
      return Fail(HB_DNN_INVALID_ARGUMENT, who + ": alignedShape " + ShapeText(p.alignedShape) + ", model has " +
                                               ShapeText(w.alignedShape));
    need = {std::max<int64_t>(ValidExtent(p), w.alignedByteSize)};
  }
  for (size_t i = 0; i < need.size(); i++) {
    const hbSysMem& m = got.sysMem[i];
    const std::string mem = who + ": sysMem[" + std::to_string(i) + "]";
    Range r;
    if (!FindRange(m, &r)) return Fail(HB_DNN_INVALID_ARGUMENT, mem + " is not (part of) memory from hbSysAlloc*Mem, or its phyAddr does not match");
    if (int64_t(m.memSize) < need[i])
      return Fail(HB_DNN_INVALID_ARGUMENT, mem + " holds " + std::to_string(m.memSize) + " bytes, needs " + std::to_string(need[i]));
    if (separate && m.phyAddr % 16 != 0) return Fail(HB_DNN_INVALID_ARGUMENT, mem + " phyAddr is not 16-byte aligned");
    if (r.a->busy) return Fail(HB_DNN_INVALID_ARGUMENT, mem + " is in use by a task that is still running");
    for (const Range& other : planes)
      if (Overlap(r, other)) return Fail(HB_DNN_INVALID_ARGUMENT, mem + " overlaps another plane");
    planes.push_back(r);
  }
  return HB_DNN_SUCCESS;
}

void RunTask(Task* task, const ModelDesc* model, InputPlanes in, std::vector<OutputPlane> outs) {
  State& s = S();
  int32_t status = HB_DNN_SUCCESS;
  std::string why;
  bool cancelled;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    // A held task stands for work the BPU is busy with: even a cancelled one stops only when the hold ends, so
    // tests can see a released task still using its memory.
    if (!s.changed.wait_for(lock, std::chrono::seconds(10), [&] { return !s.hold; })) {
      status = HB_DNN_RUN_TASK_FAILED;
      why = "hbDNNWaitTaskDone: the task failed (inference was held too long)";
    }
    cancelled = task->cancelled;
  }
  if (status == HB_DNN_SUCCESS && !cancelled) {
    if (model->inferDelayMs > 0) std::this_thread::sleep_for(std::chrono::milliseconds(model->inferDelayMs));
    std::lock_guard<std::mutex> lock(s.mu);
    cancelled = task->cancelled;
  }
  if (status == HB_DNN_SUCCESS && !cancelled) {
    if (model->incompatibleAtWait) {
      // What the X5 runtime was seen doing with a model built for another chip: it loads, then the BPU platform
      // layer logs "Incompatible Platform" and the task fails. The code it returns is not public: this one is ours.
      status = HB_DNN_RUN_TASK_FAILED;
      why = "Incompatible Platform: model '" + model->name + "' in " + model->file + " was compiled for march " + model->march +
            "; the bayes-e BPU cannot parse its instructions";
    } else {
      Compute(*model, in, outs);
    }
  }
  hbDNNTaskDoneCb callback = nullptr;
  void* userdata = nullptr;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (!task->released) {
      callback = task->callback;
      userdata = task->userdata;
    }
  }
  if (callback) callback(task, status, userdata);
  std::lock_guard<std::mutex> lock(s.mu);
  for (Allocation* a : task->used) a->busy--;
  task->status = status;
  task->why = why;
  task->done = true;
  s.running--;
  if (task->released) s.tasks.erase(task);  // nobody will wait for it: the thread was detached at release
  s.changed.notify_all();
}

}  // namespace
}  // namespace hbdouble

using namespace hbdouble;

// ---------------------------------------------------------------------------------------------- system memory

namespace {
int32_t Allocate(hbSysMem* mem, uint32_t size, bool cached, const char* call) {
  if (!mem || size == 0) return Fail(HB_SYS_INVALID_ARGUMENT, std::string(call) + ": null mem or zero size");
  auto a = std::make_unique<Allocation>();
  a->cpu.reset(new (std::nothrow) uint8_t[size]);
  if (cached) a->device.reset(new (std::nothrow) uint8_t[size]);
  if (!a->cpu || (cached && !a->device)) return Fail(HB_SYS_OUT_OF_MEMORY, std::string(call) + ": out of memory");
  // Fresh memory holds garbage, and the two views of cached memory disagree until a flush.
  std::memset(a->cpu.get(), 0xCD, size);
  if (cached) std::memset(a->device.get(), 0xDD, size);
  a->size = size;
  std::lock_guard<std::mutex> lock(S().mu);
  a->phy = S().nextPhy;
  S().nextPhy += (uint64_t(size) + 0xFFF) & ~uint64_t(0xFFF);  // page-aligned, like the board's allocator
  mem->phyAddr = a->phy;
  mem->virAddr = a->cpu.get();
  mem->memSize = size;
  S().liveBytes += size;
  S().counters.allocations++;
  S().allocations[a->cpu.get()] = std::move(a);
  return HB_SYS_SUCCESS;
}
}  // namespace

HB_DOUBLE_EXPORT int32_t hbSysAllocCachedMem(hbSysMem* mem, uint32_t size) {
  INJECT("hbSysAllocCachedMem");
  return Allocate(mem, size, true, "hbSysAllocCachedMem");
}

HB_DOUBLE_EXPORT int32_t hbSysAllocMem(hbSysMem* mem, uint32_t size) { return Allocate(mem, size, false, "hbSysAllocMem"); }

HB_DOUBLE_EXPORT int32_t hbSysFlushMem(hbSysMem* mem, int32_t flag) {
  INJECT("hbSysFlushMem");
  if (!mem) return Fail(HB_SYS_INVALID_ARGUMENT, "hbSysFlushMem: null mem");
  std::lock_guard<std::mutex> lock(S().mu);
  Range r;
  if (!FindRange(*mem, &r)) return Fail(HB_SYS_INVALID_ARGUMENT, "hbSysFlushMem: not (part of) memory from hbSysAlloc*Mem");
  if (r.a->busy) return Fail(HB_SYS_INVALID_ARGUMENT, "hbSysFlushMem: memory is in use by a running task");
  if (flag != HB_SYS_MEM_CACHE_CLEAN && flag != HB_SYS_MEM_CACHE_INVALIDATE)
    return Fail(HB_SYS_INVALID_ARGUMENT, "hbSysFlushMem: flag must be CLEAN (2) or INVALIDATE (1)");
  if (r.a->device) {
    uint8_t* cpu = r.a->cpu.get() + r.offset;
    uint8_t* dev = r.a->device.get() + r.offset;
    if (flag == HB_SYS_MEM_CACHE_CLEAN) std::memcpy(dev, cpu, size_t(r.size));
    else std::memcpy(cpu, dev, size_t(r.size));
  }
  (flag == HB_SYS_MEM_CACHE_CLEAN ? S().counters.cleanFlushes : S().counters.invalidateFlushes)++;
  return HB_SYS_SUCCESS;
}

HB_DOUBLE_EXPORT int32_t hbSysWriteMem(hbSysMem* dest, char* src, uint32_t size) {
  if (!dest || !src) return Fail(HB_SYS_INVALID_ARGUMENT, "hbSysWriteMem: null argument");
  std::lock_guard<std::mutex> lock(S().mu);
  Range r;
  if (!FindRange(*dest, &r) || size > dest->memSize) return Fail(HB_SYS_INVALID_ARGUMENT, "hbSysWriteMem: not memory from hbSysAlloc*Mem, or too small");
  std::memcpy(r.a->cpu.get() + r.offset, src, size);
  return HB_SYS_SUCCESS;
}

HB_DOUBLE_EXPORT int32_t hbSysReadMem(char* dest, hbSysMem* src, uint32_t size) {
  if (!dest || !src) return Fail(HB_SYS_INVALID_ARGUMENT, "hbSysReadMem: null argument");
  std::lock_guard<std::mutex> lock(S().mu);
  Range r;
  if (!FindRange(*src, &r) || size > src->memSize) return Fail(HB_SYS_INVALID_ARGUMENT, "hbSysReadMem: not memory from hbSysAlloc*Mem, or too small");
  std::memcpy(dest, r.a->cpu.get() + r.offset, size);
  return HB_SYS_SUCCESS;
}

HB_DOUBLE_EXPORT int32_t hbSysFreeMem(hbSysMem* mem) {
  INJECT("hbSysFreeMem");
  if (!mem) return Fail(HB_SYS_INVALID_ARGUMENT, "hbSysFreeMem: null mem");
  std::lock_guard<std::mutex> lock(S().mu);
  auto it = S().allocations.find(static_cast<uint8_t*>(mem->virAddr));
  if (it == S().allocations.end())
    return Fail(HB_SYS_INVALID_ARGUMENT, "hbSysFreeMem: not the start of memory from hbSysAlloc*Mem (or freed twice)");
  if (it->second->busy) return Fail(HB_SYS_INVALID_ARGUMENT, "hbSysFreeMem: memory is in use by a running task");
  S().liveBytes -= it->second->size;
  S().allocations.erase(it);
  return HB_SYS_SUCCESS;
}

// Deprecated on the board; nothing in segstream may use them.
HB_DOUBLE_EXPORT int32_t hbSysRegisterMem(hbSysMem*) {
  return Fail(HB_SYS_REGISTER_MEM_FAILED, "hbSysRegisterMem: deprecated on the board; the double does not register memory");
}

HB_DOUBLE_EXPORT int32_t hbSysUnregisterMem(hbSysMem*) {
  return Fail(HB_SYS_REGISTER_MEM_FAILED, "hbSysUnregisterMem: deprecated on the board; the double does not register memory");
}

// ---------------------------------------------------------------------------------------------- models

HB_DOUBLE_EXPORT const char* hbDNNGetErrorDesc(int32_t code) {
  // The double's own wording; the board's strings are not published.
  switch (code) {
    case HB_DNN_SUCCESS: return "success";
    case HB_DNN_INVALID_ARGUMENT: return "invalid argument";
    case HB_DNN_INVALID_MODEL: return "invalid model";
    case HB_DNN_MODEL_NUMBER_EXCEED_LIMIT: return "too many models";
    case HB_DNN_INVALID_PACKED_DNN_HANDLE: return "invalid packed dnn handle";
    case HB_DNN_INVALID_DNN_HANDLE: return "invalid dnn handle";
    case HB_DNN_CAN_NOT_OPEN_FILE: return "can not open file";
    case HB_DNN_OUT_OF_MEMORY: return "out of memory";
    case HB_DNN_TIMEOUT: return "timeout";
    case HB_DNN_TASK_NUM_EXCEED_LIMIT: return "too many tasks";
    case HB_DNN_TASK_BATCH_SIZE_EXCEED_LIMIT: return "too many batched tasks";
    case HB_DNN_INVALID_TASK_HANDLE: return "invalid task handle";
    case HB_DNN_RUN_TASK_FAILED: return "run task failed";
    case HB_DNN_MODEL_IS_RUNNING: return "model is running";
    case HB_DNN_INCOMPATIBLE_MODEL: return "Incompatible Platform";
    case HB_DNN_API_USE_ERROR: return "api use error";
    case HB_DNN_MULTI_PROGRESS_USE_ERROR: return "multi-process use error";
    default: return "unknown error";
  }
}

HB_DOUBLE_EXPORT const char* hbDNNGetVersion() { return "1.23.10 (segstream hb_dnn test double)"; }

namespace {
// Registers the models of one load (caller does not hold the lock).
int32_t Register(std::unique_ptr<Packed> packed, hbPackedDNNHandle_t* handle) {
  for (size_t i = 0; i < packed->models.size(); i++)
    for (size_t j = 0; j < i; j++)
      if (packed->models[i]->name == packed->models[j]->name)
        return Fail(HB_DNN_INVALID_MODEL, "model name '" + packed->models[i]->name + "' appears twice in the files given");
  for (const auto& m : packed->models) packed->names.push_back(m->name.c_str());
  std::lock_guard<std::mutex> lock(S().mu);
  for (const auto& m : packed->models) S().models[m.get()] = packed.get();
  *handle = packed.get();
  S().packed.insert(packed.release());
  return HB_DNN_SUCCESS;
}
}  // namespace

HB_DOUBLE_EXPORT int32_t hbDNNInitializeFromFiles(hbPackedDNNHandle_t* packedHandle, const char** files, int32_t count) {
  INJECT("hbDNNInitializeFromFiles");
  if (!packedHandle || !files || count <= 0) return Fail(HB_DNN_INVALID_ARGUMENT, "hbDNNInitializeFromFiles: no files");
  auto packed = std::make_unique<Packed>();
  for (int32_t i = 0; i < count; i++) {
    if (!files[i]) return Fail(HB_DNN_INVALID_ARGUMENT, "hbDNNInitializeFromFiles: null file name");
    try {
      for (ModelDesc& m : LoadModelFile(files[i])) packed->models.push_back(std::make_unique<ModelDesc>(std::move(m)));
    } catch (const LoadError& e) {
      return Fail(e.code, e.what());
    }
  }
  return Register(std::move(packed), packedHandle);
}

HB_DOUBLE_EXPORT int32_t hbDNNInitializeFromDDR(hbPackedDNNHandle_t* packedHandle, const void** data, int32_t* lengths, int32_t count) {
  if (!packedHandle || !data || !lengths || count <= 0) return Fail(HB_DNN_INVALID_ARGUMENT, "hbDNNInitializeFromDDR: no model data");
  auto packed = std::make_unique<Packed>();
  for (int32_t i = 0; i < count; i++) {
    if (!data[i] || lengths[i] <= 0) return Fail(HB_DNN_INVALID_ARGUMENT, "hbDNNInitializeFromDDR: empty model data");
    try {
      const std::string text(static_cast<const char*>(data[i]), size_t(lengths[i]));
      for (ModelDesc& m : LoadModelText(text, "model data " + std::to_string(i)))
        packed->models.push_back(std::make_unique<ModelDesc>(std::move(m)));
    } catch (const LoadError& e) {
      return Fail(e.code, e.what());
    }
  }
  return Register(std::move(packed), packedHandle);
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
      if (t.second->packed == p)
        return Fail(HB_DNN_MODEL_IS_RUNNING, t.second->released ? "hbDNNRelease: a released task of this model is still running"
                                                                 : "hbDNNRelease: a task of this model was not released");
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

HB_DOUBLE_EXPORT int32_t hbDNNGetInputSource(int32_t* source, hbDNNHandle_t dnn, int32_t index) {
  INJECT("hbDNNGetInputSource");
  std::lock_guard<std::mutex> lock(S().mu);
  const TensorDesc* t = nullptr;
  if (int32_t rc = TensorQuery("hbDNNGetInputSource", dnn, index, true, &t)) return rc;
  if (!source) return Fail(HB_DNN_INVALID_ARGUMENT, "hbDNNGetInputSource: null output");
  *source = t->inputSource;
  return HB_DNN_SUCCESS;
}

// ---------------------------------------------------------------------------------------------- inference

HB_DOUBLE_EXPORT int32_t hbDNNInfer(hbDNNTaskHandle_t* taskHandle, hbDNNTensor** output, const hbDNNTensor* input,
                                    hbDNNHandle_t dnn, hbDNNInferCtrlParam* ctrl) {
  INJECT("hbDNNInfer");
  if (!taskHandle || !output || !*output || !input || !ctrl)
    return Fail(HB_DNN_INVALID_ARGUMENT, "hbDNNInfer: null task, output, input or control parameter");
  if (*taskHandle && !ctrl->more) return Fail(HB_DNN_INVALID_ARGUMENT, "hbDNNInfer: *taskHandle must be null (the double does not batch)");
  std::lock_guard<std::mutex> lock(S().mu);
  const ModelDesc* m = FindModel(dnn);
  if (!m) return Fail(HB_DNN_INVALID_DNN_HANDLE, "hbDNNInfer: unknown model handle");
  for (const TensorDesc& in : m->inputs)
    if (in.inputSource == HB_DNN_INPUT_FROM_RESIZER)
      return Fail(HB_DNN_API_USE_ERROR, "hbDNNInfer: input '" + in.name + "' comes from the resizer: run the model with hbDNNRoiInfer");
  auto task = std::make_unique<Task>();
  task->packed = S().models[m];

  InputPlanes planes;
  LastInput captured;
  for (size_t i = 0; i < m->inputs.size(); i++) {
    std::vector<Range> ranges;
    if (int32_t rc = CheckInput(m->inputs[i], input[i], ranges, static_cast<int>(i))) return rc;
    if (i == 0) {
      planes.props = input[0].properties;
      const int32_t t = planes.props.tensorType;
      if (t == HB_DNN_IMG_TYPE_NV12 || t == HB_DNN_IMG_TYPE_NV12_SEPARATE)
        S().counters.lastNv12RowStride = planes.props.alignedShape.dimensionSize[AxesOf(planes.props.tensorLayout).w];
      planes.plane0 = ranges[0].a->Device() + ranges[0].offset;
      planes.plane1 = ranges.size() > 1 ? ranges[1].a->Device() + ranges[1].offset : nullptr;
      captured.props = input[0].properties;
      captured.count = static_cast<int>(ranges.size());
      for (size_t p = 0; p < ranges.size(); p++) {
        const uint8_t* dev = ranges[p].a->Device() + ranges[p].offset;
        captured.planes[p].assign(dev, dev + ranges[p].size);
      }
    }
    for (const Range& r : ranges) task->used.push_back(r.a);
  }
  std::vector<OutputPlane> outs;
  for (size_t i = 0; i < m->outputs.size(); i++) {
    const hbDNNTensor& t = (*output)[i];
    const TensorDesc& want = m->outputs[i];
    const std::string who = "hbDNNInfer: output " + std::to_string(i) + " '" + want.name + "'";
    Range r;
    if (!FindRange(t.sysMem[0], &r)) return Fail(HB_DNN_INVALID_ARGUMENT, who + ": sysMem[0] is not (part of) memory from hbSysAlloc*Mem");
    if (r.size < want.base.alignedByteSize)
      return Fail(HB_DNN_INVALID_ARGUMENT, who + ": sysMem[0] smaller than alignedByteSize " + std::to_string(want.base.alignedByteSize));
    if (t.properties.tensorType != want.base.tensorType) return Fail(HB_DNN_INVALID_ARGUMENT, who + ": tensorType differs from the model's");
    if (r.a->busy) return Fail(HB_DNN_INVALID_ARGUMENT, who + ": sysMem[0] is in use by a task that is still running");
    if (std::find(task->used.begin(), task->used.end(), r.a) != task->used.end())
      return Fail(HB_DNN_INVALID_ARGUMENT, who + ": the same memory is used twice in one task");
    outs.push_back({&want, r.a->Device() + r.offset, static_cast<uint32_t>(r.size)});
    task->used.push_back(r.a);
  }
  for (Allocation* a : task->used) a->busy++;
  S().lastInput = std::move(captured);
  S().counters.inferCalls++;
  S().running++;
  S().counters.maxConcurrentTasks = std::max(S().counters.maxConcurrentTasks, S().running);
  Task* raw = task.get();
  raw->thread = std::thread(RunTask, raw, m, planes, std::move(outs));
  S().tasks[raw] = std::move(task);
  *taskHandle = raw;
  return HB_DNN_SUCCESS;
}

HB_DOUBLE_EXPORT int32_t hbDNNRoiInfer(hbDNNTaskHandle_t* taskHandle, hbDNNTensor** output, const hbDNNTensor* input, hbDNNRoi* rois,
                                       int32_t roiCount, hbDNNHandle_t dnn, hbDNNInferCtrlParam* ctrl) {
  if (!taskHandle || !output || !input || !rois || roiCount <= 0 || !ctrl)
    return Fail(HB_DNN_INVALID_ARGUMENT, "hbDNNRoiInfer: null argument or no regions");
  std::lock_guard<std::mutex> lock(S().mu);
  if (!FindModel(dnn)) return Fail(HB_DNN_INVALID_DNN_HANDLE, "hbDNNRoiInfer: unknown model handle");
  return Fail(HB_DNN_API_USE_ERROR, "hbDNNRoiInfer: the test double does not run resizer models");
}

namespace {
// A task the caller still holds a handle to (caller holds the lock).
Task* FindTask(hbDNNTaskHandle_t handle) {
  auto it = S().tasks.find(static_cast<Task*>(handle));
  return it == S().tasks.end() || it->second->released ? nullptr : it->second.get();
}
}  // namespace

HB_DOUBLE_EXPORT int32_t hbDNNSetTaskDoneCb(hbDNNTaskHandle_t handle, hbDNNTaskDoneCb cb, void* userdata) {
  int32_t status;
  {
    std::lock_guard<std::mutex> lock(S().mu);
    Task* t = FindTask(handle);
    if (!t) return Fail(HB_DNN_INVALID_TASK_HANDLE, "hbDNNSetTaskDoneCb: unknown task handle");
    if (!t->done) {
      t->callback = cb;
      t->userdata = userdata;
      return HB_DNN_SUCCESS;
    }
    status = t->status;
  }
  if (cb) cb(handle, status, userdata);  // already finished: report at once
  return HB_DNN_SUCCESS;
}

HB_DOUBLE_EXPORT int32_t hbDNNWaitTaskDone(hbDNNTaskHandle_t handle, int32_t timeoutMs) {
  INJECT("hbDNNWaitTaskDone");
  std::unique_lock<std::mutex> lock(S().mu);
  Task* t = FindTask(handle);
  if (!t) return Fail(HB_DNN_INVALID_TASK_HANDLE, "hbDNNWaitTaskDone: unknown task handle");
  if (timeoutMs <= 0) {
    S().changed.wait(lock, [&] { return t->done; });
  } else if (!S().changed.wait_for(lock, std::chrono::milliseconds(timeoutMs), [&] { return t->done; })) {
    return Fail(HB_DNN_TIMEOUT, "hbDNNWaitTaskDone: task still running after the timeout");
  }
  if (t->status != HB_DNN_SUCCESS) return Fail(t->status, t->why);
  return HB_DNN_SUCCESS;
}

HB_DOUBLE_EXPORT int32_t hbDNNReleaseTask(hbDNNTaskHandle_t handle) {
  INJECT("hbDNNReleaseTask");
  std::unique_ptr<Task> finished;
  {
    std::lock_guard<std::mutex> lock(S().mu);
    Task* t = FindTask(handle);
    if (!t) return Fail(HB_DNN_INVALID_TASK_HANDLE, "hbDNNReleaseTask: unknown task handle (released twice?)");
    if (t->done) {
      finished = std::move(S().tasks[t]);
      S().tasks.erase(t);
    } else {
      // As on the board: return at once; the task is cancelled (not started) or stopped (running) in the
      // background and its memory stays in use until its thread ends, which then forgets it.
      t->released = true;
      t->cancelled = true;
      t->thread.detach();
      S().counters.cancelledTasks++;
      S().changed.notify_all();
    }
  }
  if (finished && finished->thread.joinable()) finished->thread.join();  // already done: returns at once
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
  stats->liveTasks = 0;
  for (const auto& t : S().tasks) stats->liveTasks += t.second->released ? 0 : 1;
  stats->runningTasks = S().running;
  stats->livePackedHandles = static_cast<int64_t>(S().packed.size());
}

HB_DOUBLE_EXPORT void hbTestDoubleResetCounters(void) {
  std::lock_guard<std::mutex> lock(S().mu);
  S().counters = hbTestDoubleStats{};
}

HB_DOUBLE_EXPORT int64_t hbTestDoubleReleaseLeaks(void) {
  std::vector<std::unique_ptr<Task>> tasks;
  {
    std::unique_lock<std::mutex> lock(S().mu);
    S().hold = false;
    S().changed.notify_all();
    // Released tasks forget themselves when their threads end: wait for that.
    S().changed.wait(lock, [] {
      for (const auto& t : S().tasks)
        if (t.second->released) return false;
      return true;
    });
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

HB_DOUBLE_EXPORT int32_t hbTestDoubleLastInput(hbDNNTensorProperties* props, int64_t planeBytes[2]) {
  std::lock_guard<std::mutex> lock(S().mu);
  const LastInput& l = S().lastInput;
  if (props) *props = l.props;
  if (planeBytes)
    for (int i = 0; i < 2; i++) planeBytes[i] = static_cast<int64_t>(l.planes[i].size());
  return l.count;
}

HB_DOUBLE_EXPORT int64_t hbTestDoubleLastInputPlane(int32_t plane, uint8_t* dst, int64_t capacity) {
  std::lock_guard<std::mutex> lock(S().mu);
  const LastInput& l = S().lastInput;
  if (plane < 0 || plane >= l.count || !dst || capacity < 0) return -1;
  const int64_t n = std::min<int64_t>(capacity, static_cast<int64_t>(l.planes[plane].size()));
  std::memcpy(dst, l.planes[plane].data(), size_t(n));
  return n;
}

HB_DOUBLE_EXPORT void hbTestDoubleLeakCanary(void) {
  void* volatile lost = std::malloc(48);
  std::memset(lost, 0x42, 48);
  lost = nullptr;
}
