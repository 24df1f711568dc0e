// One model loaded through hb_dnn: its tensors, its BPU memory (allocated once, per pipelining slot) and the
// synchronous inference sequence (copy in, CLEAN, infer, wait, release task, INVALIDATE, read out).
// No Node types here: the addon runs Run() on a worker thread, and the cross-compile check builds this alone.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bpu_error.h"
#include "dnn/hb_dnn.h"
#include "tensor_io.h"
#include "tensor_layout.h"

namespace segbpu {

// How an NV12 model's input is handed to the runtime. Compiled models report NV12 (packed); the caller may switch
// the tensor to NV12_SEPARATE (Y in sysMem[0], UV in sysMem[1], the 16-aligned row stride in alignedShape W), as
// D-Robotics' own dnn node does. Packed is the fallback: rows at the valid width, alignedShape = validShape.
enum class Nv12Feed { Separate = 0, Packed = 1 };

struct LoadOptions {
  std::vector<std::string> files;
  std::string modelName;  // empty: the first model in the files
  int slots = 1;          // 1: one inference in flight; 2: a second set of buffers for pipelining
  Nv12Feed nv12Feed = Nv12Feed::Separate;
};

// The input of one run: an NV12 image (for NV12 models) or a contiguous tensor of the input's valid shape.
struct RunInput {
  bool nv12 = false;
  Nv12Source image{};
  const uint8_t* tensor = nullptr;
  size_t tensorBytes = 0;
};

struct RunOutput {
  OutputType type = OutputType::Float32;
  void* data = nullptr;
  size_t bytes = 0;
};

// A slot's NV12 input memory seen as an image (Y rows, then UV rows, both at `stride`): write a frame here and
// run it with no copy. Valid while the slot's memory generation stays the same.
struct Nv12Target {
  uint8_t* data = nullptr;
  size_t length = 0;
  int width = 0, height = 0;
  int64_t stride = 0, offsetUV = 0;
  uint64_t generation = 0;
};

class BpuModel {
 public:
  static std::unique_ptr<BpuModel> Load(const LoadOptions& options);
  ~BpuModel();
  BpuModel(const BpuModel&) = delete;
  BpuModel& operator=(const BpuModel&) = delete;

  const std::string& name() const { return name_; }
  const std::vector<std::string>& modelNames() const { return modelNames_; }
  const std::vector<TensorSpec>& inputs() const { return inputs_; }
  const std::vector<TensorSpec>& outputs() const { return outputs_; }
  int32_t inputSource() const { return inputSource_; }
  bool nv12() const { return nv12_; }
  Nv12Feed nv12Feed() const { return nv12Feed_; }
  // Row stride of the NV12 input memory (0 for tensor inputs).
  int64_t nv12Stride() const { return nv12Stride_; }
  int slots() const { return slotCount_; }
  // "model 'x' in 'a.bin'" for messages.
  const std::string& subject() const { return subject_; }
  // Bytes copied from callers' frames and tensors into BPU memory so far (0 for in-place runs).
  int64_t inputBytesCopied() const { return inputBytesCopied_.load(); }
  // Memory blocks kept after their task was released unfinished (freed only once the model is released).
  int retiredBlocks() const {
    std::lock_guard<std::mutex> lock(retiredMu_);
    return static_cast<int>(retired_.size());
  }

  // The NV12 input memory of `slot` (allocating it if a failed run retired the previous one). JS thread only,
  // while the slot is not running.
  Nv12Target InputTarget(int slot);
  // Changes whenever the slot's input memory is replaced (then an earlier target must no longer be used).
  uint64_t InputGeneration(int slot) const;

  // Runs one inference using slot `slot` (which the caller owns for the duration); returns the milliseconds
  // spent in hbDNNInfer + hbDNNWaitTaskDone. Throws BpuError.
  double Run(int slot, const RunInput& input, const RunOutput& output);

  // Frees the memory and releases the model. Returns false (call again later) while the runtime still runs a
  // released task of this model, whose memory is then kept; `final` stops waiting: the error says what was kept.
  // Errors of calls that failed are appended to `errors` (the rest still run).
  bool Close(std::vector<BpuError>& errors, bool final);

 private:
  struct Slot {
    std::vector<hbDNNTensor> inputs;
    std::vector<hbDNNTensor> outputs;
    hbSysMem inputBlock{};  // the allocation behind inputs[0] (for NV12, both planes)
    bool allocated = false;
    uint64_t generation = 0;
  };

  BpuModel() = default;
  void Allocate(hbSysMem& mem, int64_t bytes, const std::string& what);
  void AllocateSlot(Slot& slot);
  void FreeSlot(Slot& slot, std::vector<BpuError>& errors);
  void RetireSlot(Slot& slot);
  void FillInput(Slot& slot, const RunInput& input);

  std::vector<std::string> files_;
  std::string name_, subject_;
  std::vector<std::string> modelNames_;
  hbPackedDNNHandle_t packed_ = nullptr;
  hbDNNHandle_t dnn_ = nullptr;
  std::vector<TensorSpec> inputs_, outputs_;
  int32_t inputSource_ = 0;
  bool nv12_ = false;
  Nv12Feed nv12Feed_ = Nv12Feed::Separate;
  int64_t nv12Stride_ = 0;
  hbDNNTensorProperties feedProps_{};  // input 0's properties as handed to the runtime
  int slotCount_ = 0;
  std::vector<Slot> slots_;
  // Memory of released tasks that may still run; two slots can retire memory at once (pipelining).
  mutable std::mutex retiredMu_;
  std::vector<hbSysMem> retired_;
  int retiredRuns_ = 0;
  std::atomic<int64_t> inputBytesCopied_{0};
};

}  // namespace segbpu
