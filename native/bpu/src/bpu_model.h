// One model loaded through hb_dnn: its tensors, its BPU memory (allocated once, per pipelining slot) and the
// synchronous inference sequence (copy in, CLEAN, infer, wait, release task, INVALIDATE, read out).
// No Node types here: the addon runs Run() on a worker thread, and the cross-compile check builds this alone.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bpu_error.h"
#include "dnn/hb_dnn.h"
#include "tensor_io.h"
#include "tensor_layout.h"

namespace segbpu {

struct LoadOptions {
  std::vector<std::string> files;
  std::string modelName;  // empty: the first model in the files
  int slots = 1;          // 1: one inference in flight; 2: a second set of buffers for pipelining
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
  int slots() const { return static_cast<int>(slots_.size()); }
  // "model 'x' in 'a.bin'" for messages.
  const std::string& subject() const { return subject_; }

  // Runs one inference using slot `slot` (which the caller owns for the duration); returns the milliseconds
  // spent in hbDNNInfer + hbDNNWaitTaskDone. Throws BpuError.
  double Run(int slot, const RunInput& input, const RunOutput& output);

  // Frees all memory and releases the model; returns one error per call that failed (the rest still run).
  std::vector<BpuError> Close();

 private:
  struct Slot {
    std::vector<hbDNNTensor> inputs;
    std::vector<hbDNNTensor> outputs;
  };

  BpuModel() = default;
  void Allocate(hbSysMem& mem, int64_t bytes, const std::string& what);
  void FillInput(Slot& slot, const RunInput& input);

  std::vector<std::string> files_;
  std::string name_, subject_;
  std::vector<std::string> modelNames_;
  hbPackedDNNHandle_t packed_ = nullptr;
  hbDNNHandle_t dnn_ = nullptr;
  std::vector<TensorSpec> inputs_, outputs_;
  std::vector<Slot> slots_;
};

}  // namespace segbpu
