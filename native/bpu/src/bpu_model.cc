#include "bpu_model.h"

#include <chrono>
#include <cstring>

#include "bpu_error.h"
#include "dnn/hb_dnn_ext.h"
#include "dnn/hb_sys.h"

namespace segbpu {
namespace {

// Runs whose task was released unfinished (their memory is kept, not reused) before the model refuses to run:
// bounds what a runtime that keeps failing at hbDNNWaitTaskDone can make segstream hold.
constexpr int kMaxRetiredRuns = 4;

std::string Quote(const std::vector<std::string>& items) {
  std::string s;
  for (const std::string& i : items) s += (s.empty() ? "'" : ", '") + i + "'";
  return s;
}

std::string FilesText(const std::vector<std::string>& files) {
  return (files.size() == 1 ? "" : "files ") + Quote(files);
}

// Row stride of NV12_SEPARATE planes: the runtime wants 16-byte aligned rows (what D-Robotics' dnn node uses).
int64_t AlignedStride(int64_t width) { return (width + 15) / 16 * 16; }

bool SupportedInputType(int32_t t) {
  switch (t) {
    case HB_DNN_IMG_TYPE_NV12:
    case HB_DNN_IMG_TYPE_NV12_SEPARATE:
    case HB_DNN_IMG_TYPE_YUV444:
    case HB_DNN_IMG_TYPE_RGB:
    case HB_DNN_IMG_TYPE_BGR:
    case HB_DNN_TENSOR_TYPE_F32:
    case HB_DNN_TENSOR_TYPE_S8:
    case HB_DNN_TENSOR_TYPE_U8: return true;
    default: return false;
  }
}

bool SupportedOutputType(int32_t t) {
  return t == HB_DNN_TENSOR_TYPE_F32 || t == HB_DNN_TENSOR_TYPE_F16 || t == HB_DNN_TENSOR_TYPE_F64 || IsIntegerType(t);
}

uint64_t NextGeneration() {
  static std::atomic<uint64_t> next{1};
  return next++;
}

}  // namespace

std::unique_ptr<BpuModel> BpuModel::Load(const LoadOptions& o) {
  if (o.files.empty()) throw BpuError("invalid-argument", "no model files given");
  if (o.slots < 1 || o.slots > 2) throw BpuError("invalid-argument", "slots must be 1 or 2");
  std::unique_ptr<BpuModel> m(new BpuModel());  // its destructor releases whatever a failed load acquired
  m->files_ = o.files;
  const std::string files = FilesText(o.files);

  std::vector<const char*> paths;
  for (const std::string& f : o.files) paths.push_back(f.c_str());
  CheckCall(hbDNNInitializeFromFiles(&m->packed_, paths.data(), static_cast<int32_t>(paths.size())),
            "hbDNNInitializeFromFiles", "model " + files);

  const char** names = nullptr;
  int32_t count = 0;
  CheckCall(hbDNNGetModelNameList(&names, &count, m->packed_), "hbDNNGetModelNameList", "model " + files);
  for (int32_t i = 0; i < count; i++) m->modelNames_.push_back(names[i] ? names[i] : "");
  if (m->modelNames_.empty()) throw BpuError("model-not-found", files + " contains no models");
  m->name_ = o.modelName.empty() ? m->modelNames_[0] : o.modelName;
  bool found = false;
  for (const std::string& n : m->modelNames_) found = found || n == m->name_;
  if (!found)
    throw BpuError("model-not-found",
                   "no model named '" + m->name_ + "' in " + files + "; it contains " + Quote(m->modelNames_));
  m->subject_ = "model '" + m->name_ + "' in " + files;
  const std::string& subj = m->subject_;
  CheckCall(hbDNNGetModelHandle(&m->dnn_, m->packed_, m->name_.c_str()), "hbDNNGetModelHandle", subj);

  int32_t inputCount = 0, outputCount = 0;
  CheckCall(hbDNNGetInputCount(&inputCount, m->dnn_), "hbDNNGetInputCount", subj);
  CheckCall(hbDNNGetOutputCount(&outputCount, m->dnn_), "hbDNNGetOutputCount", subj);
  for (int32_t i = 0; i < inputCount; i++) {
    const char* name = nullptr;
    hbDNNTensorProperties p{};
    CheckCall(hbDNNGetInputName(&name, m->dnn_, i), "hbDNNGetInputName", subj);
    CheckCall(hbDNNGetInputTensorProperties(&p, m->dnn_, i), "hbDNNGetInputTensorProperties", subj);
    const std::string n = name ? name : "";
    m->inputs_.push_back(MakeTensorSpec(n, p, "input '" + n + "' of " + subj));
  }
  for (int32_t i = 0; i < outputCount; i++) {
    const char* name = nullptr;
    hbDNNTensorProperties p{};
    CheckCall(hbDNNGetOutputName(&name, m->dnn_, i), "hbDNNGetOutputName", subj);
    CheckCall(hbDNNGetOutputTensorProperties(&p, m->dnn_, i), "hbDNNGetOutputTensorProperties", subj);
    const std::string n = name ? name : "";
    m->outputs_.push_back(MakeTensorSpec(n, p, "output '" + n + "' of " + subj));
  }

  if (m->inputs_.size() != 1)
    throw BpuError("unsupported-model", subj + " has " + std::to_string(m->inputs_.size()) +
                                            " inputs; segstream feeds models with exactly one input");
  if (m->outputs_.empty()) throw BpuError("unsupported-model", subj + " has no outputs");
  const TensorSpec& in = m->inputs_[0];
  CheckCall(hbDNNGetInputSource(&m->inputSource_, m->dnn_, 0), "hbDNNGetInputSource", subj);
  if (m->inputSource_ == HB_DNN_INPUT_FROM_RESIZER)
    throw BpuError("resizer-input",
                   "input '" + in.name + "' of " + subj + " is fed by the resizer (HB_DNN_INPUT_FROM_RESIZER): such a model " +
                       "must be run with hbDNNRoiInfer on regions of a camera image, which segstream does not do; compile it " +
                       "with its input from DDR, or as an nv12 camera (pyramid) input");
  if (!SupportedInputType(in.props.tensorType))
    throw BpuError("unsupported-input-type",
                   "unsupported input type " + std::string(TensorTypeName(in.props.tensorType)) + " for input '" + in.name +
                       "' of " + subj + "; segstream can feed NV12, NV12_SEPARATE, YUV444, RGB, BGR and F32/S8/U8 featuremaps");
  m->feedProps_ = in.props;
  if (IsNv12(in.props.tensorType)) {
    const Axes ax = AxesOf(in.props.tensorLayout);
    if (in.validShape.size() != 4 || in.alignedShape.size() != 4 || in.validShape[ax.c] != 3 || in.validShape[ax.h] % 2 ||
        in.validShape[ax.w] % 2)
      throw BpuError("invalid-properties", "input '" + in.name + "' of " + subj + " is NV12 but its validShape is not (1,3,H,W) with even H and W");
    m->nv12_ = true;
    // A model that reports NV12_SEPARATE itself can only take separate planes.
    m->nv12Feed_ = in.props.tensorType == HB_DNN_IMG_TYPE_NV12_SEPARATE ? Nv12Feed::Separate : o.nv12Feed;
    const int32_t W = in.validShape[ax.w];
    // Only tensorType and alignedShape may be changed by the caller (vendor docs); alignedByteSize stays.
    m->feedProps_.alignedShape = in.props.validShape;
    if (m->nv12Feed_ == Nv12Feed::Separate) {
      m->nv12Stride_ = AlignedStride(W);
      m->feedProps_.tensorType = HB_DNN_IMG_TYPE_NV12_SEPARATE;
      m->feedProps_.alignedShape.dimensionSize[ax.w] = static_cast<int32_t>(m->nv12Stride_);
    } else {
      // Packed rows at the valid width: alignedShape = validShape, as the docs require for data laid out so.
      m->nv12Stride_ = W;
      m->feedProps_.tensorType = HB_DNN_IMG_TYPE_NV12;
    }
  }
  const TensorSpec& out = m->outputs_[0];
  if (!SupportedOutputType(out.props.tensorType))
    throw BpuError("unsupported-output-type", "unsupported output type " + std::string(TensorTypeName(out.props.tensorType)) +
                                                  " for output '" + out.name + "' of " + subj);

  m->slotCount_ = o.slots;
  m->slots_.resize(static_cast<size_t>(o.slots));
  for (Slot& slot : m->slots_) m->AllocateSlot(slot);
  return m;
}

BpuModel::~BpuModel() {
  std::vector<BpuError> ignored;
  Close(ignored, true);
}

void BpuModel::Allocate(hbSysMem& mem, int64_t bytes, const std::string& what) {
  if (bytes <= 0 || bytes > INT32_MAX)
    throw BpuError("invalid-properties", what + " of " + subject_ + " would need " + std::to_string(bytes) + " bytes");
  std::memset(&mem, 0, sizeof mem);
  CheckCall(hbSysAllocCachedMem(&mem, static_cast<uint32_t>(bytes)), "hbSysAllocCachedMem", what + " of " + subject_);
}

void BpuModel::AllocateSlot(Slot& slot) {
  std::vector<BpuError> leftovers;
  FreeSlot(slot, leftovers);  // memory of an earlier attempt that failed half-way (no task used it)
  const TensorSpec& in = inputs_[0];
  slot.inputs.assign(1, hbDNNTensor{});
  slot.outputs.assign(outputs_.size(), hbDNNTensor{});
  hbDNNTensor& t = slot.inputs[0];
  t.properties = feedProps_;
  if (nv12_) {
    // One block holds both planes (Y rows, then UV rows, at the same stride), so it can also be lent out as one
    // NV12 image. For NV12_SEPARATE, sysMem[0] and sysMem[1] point into it; the UV plane starts 16-aligned.
    const Axes ax = AxesOf(in.props.tensorLayout);
    const int64_t y = nv12Stride_ * in.validShape[ax.h], uv = y / 2;
    Allocate(slot.inputBlock, y + uv, "input");
    const hbSysMem& b = slot.inputBlock;
    if (nv12Feed_ == Nv12Feed::Separate) {
      t.sysMem[0] = {b.phyAddr, b.virAddr, static_cast<uint32_t>(y)};
      t.sysMem[1] = {b.phyAddr + uint64_t(y), static_cast<uint8_t*>(b.virAddr) + y, static_cast<uint32_t>(uv)};
    } else {
      t.sysMem[0] = b;
    }
  } else {
    Allocate(slot.inputBlock, in.props.alignedByteSize, "input");
    std::memset(slot.inputBlock.virAddr, 0, slot.inputBlock.memSize);  // padding stays zero; runs write the valid region
    t.sysMem[0] = slot.inputBlock;
  }
  for (size_t i = 0; i < outputs_.size(); i++) {
    hbDNNTensor& ot = slot.outputs[i];
    ot.properties = outputs_[i].props;
    Allocate(ot.sysMem[0], outputs_[i].props.alignedByteSize, "output '" + outputs_[i].name + "'");
  }
  slot.allocated = true;
  slot.generation = NextGeneration();
}

void BpuModel::FreeSlot(Slot& slot, std::vector<BpuError>& errors) {
  auto release = [&](hbSysMem& mem, const std::string& what) {
    if (!mem.virAddr) return;
    const int32_t rc = hbSysFreeMem(&mem);
    if (rc) errors.emplace_back("hb-call", DescribeCall(rc, "hbSysFreeMem", what + " of " + subject_), "hbSysFreeMem", rc);
    std::memset(&mem, 0, sizeof mem);
  };
  release(slot.inputBlock, "input memory");
  for (hbDNNTensor& t : slot.outputs) release(t.sysMem[0], "output memory");
  for (hbDNNTensor& t : slot.inputs) std::memset(t.sysMem, 0, sizeof t.sysMem);
  slot.allocated = false;
}

void BpuModel::RetireSlot(Slot& slot) {
  // The released task may still read the input and write the outputs: keep that memory out of use (and unfreed)
  // until the runtime says the model has no tasks left; the slot gets fresh memory on its next run.
  std::lock_guard<std::mutex> lock(retiredMu_);
  if (slot.inputBlock.virAddr) retired_.push_back(slot.inputBlock);
  for (hbDNNTensor& t : slot.outputs)
    if (t.sysMem[0].virAddr) retired_.push_back(t.sysMem[0]);
  std::memset(&slot.inputBlock, 0, sizeof slot.inputBlock);
  for (hbDNNTensor& t : slot.outputs) std::memset(t.sysMem, 0, sizeof t.sysMem);
  for (hbDNNTensor& t : slot.inputs) std::memset(t.sysMem, 0, sizeof t.sysMem);
  slot.allocated = false;
  slot.generation = NextGeneration();
  retiredRuns_++;
}

Nv12Target BpuModel::InputTarget(int slotIndex) {
  if (!dnn_) throw BpuError("closed", subject_ + " is closed");
  if (!nv12_) throw BpuError("invalid-argument", subject_ + " does not take NV12 input");
  if (slotIndex < 0 || slotIndex >= slots()) throw BpuError("invalid-argument", "no slot " + std::to_string(slotIndex));
  Slot& slot = slots_[static_cast<size_t>(slotIndex)];
  if (!slot.allocated) AllocateSlot(slot);
  const Axes ax = AxesOf(inputs_[0].props.tensorLayout);
  Nv12Target t;
  t.data = static_cast<uint8_t*>(slot.inputBlock.virAddr);
  t.length = slot.inputBlock.memSize;
  t.width = inputs_[0].validShape[ax.w];
  t.height = inputs_[0].validShape[ax.h];
  t.stride = nv12Stride_;
  t.offsetUV = nv12Stride_ * t.height;
  t.generation = slot.generation;
  return t;
}

uint64_t BpuModel::InputGeneration(int slotIndex) const {
  if (slotIndex < 0 || slotIndex >= static_cast<int>(slots_.size())) return 0;
  return slots_[static_cast<size_t>(slotIndex)].generation;
}

void BpuModel::FillInput(Slot& slot, const RunInput& input) {
  const TensorSpec& in = inputs_[0];
  hbDNNTensor& t = slot.inputs[0];
  if (nv12_ != input.nv12)
    throw BpuError("invalid-argument", subject_ + (input.nv12 ? " does not take NV12 input" : " takes NV12 input"));
  uint8_t* block = static_cast<uint8_t*>(slot.inputBlock.virAddr);
  if (input.nv12) {
    const Axes ax = AxesOf(in.props.tensorLayout);
    const Nv12Source& img = input.image;
    CheckNv12Bounds(img);
    const int64_t H = in.validShape[ax.h], W = in.validShape[ax.w];
    if (img.width != W || img.height != H)
      throw BpuError("invalid-argument", "NV12 image is " + std::to_string(img.width) + "x" + std::to_string(img.height) + " but " +
                                             subject_ + " takes " + std::to_string(W) + "x" + std::to_string(H));
    const bool inPlace = img.data == block && img.strideY == nv12Stride_ && img.strideUV == nv12Stride_ &&
                         img.offsetUV == nv12Stride_ * H;
    if (!inPlace) {
      // Straight into the planes the runtime reads: one block copy per plane when the frame has the same stride.
      CopyNv12Planes(img, nv12Stride_, block, block + nv12Stride_ * H);
      inputBytesCopied_ += W * H * 3 / 2;
    }
    CheckCall(hbSysFlushMem(&slot.inputBlock, HB_SYS_MEM_CACHE_CLEAN), "hbSysFlushMem", "input of " + subject_);
    return;
  }
  const size_t want = static_cast<size_t>(in.ValidElements()) * in.elementBytes;
  if (input.tensorBytes != want)
    throw BpuError("invalid-argument", "input tensor has " + std::to_string(input.tensorBytes) + " bytes but " + subject_ +
                                           " takes " + std::to_string(want));
  WriteTensor(in, input.tensor, static_cast<uint8_t*>(t.sysMem[0].virAddr));
  inputBytesCopied_ += static_cast<int64_t>(want);
  CheckCall(hbSysFlushMem(&slot.inputBlock, HB_SYS_MEM_CACHE_CLEAN), "hbSysFlushMem", "input of " + subject_);
}

double BpuModel::Run(int slotIndex, const RunInput& input, const RunOutput& output) {
  if (!dnn_) throw BpuError("closed", subject_ + " is closed");
  if (slotIndex < 0 || slotIndex >= slots()) throw BpuError("invalid-argument", "no slot " + std::to_string(slotIndex));
  int retiredRuns;
  {
    std::lock_guard<std::mutex> lock(retiredMu_);
    retiredRuns = retiredRuns_;
  }
  if (retiredRuns >= kMaxRetiredRuns)
    throw BpuError("runtime-stuck", subject_ + ": " + std::to_string(retiredRuns) + " runs failed at hbDNNWaitTaskDone and " +
                                        "their tasks may still run on the BPU; segstream keeps their memory and runs no more: " +
                                        "close and load the model again");
  Slot& slot = slots_[static_cast<size_t>(slotIndex)];
  const TensorSpec& out = outputs_[0];
  if (output.bytes != static_cast<size_t>(out.ValidElements()) * OutputTypeBytes(output.type))
    throw BpuError("invalid-argument", "output buffer has " + std::to_string(output.bytes) + " bytes, expected " +
                                           std::to_string(out.ValidElements() * OutputTypeBytes(output.type)));
  if (!slot.allocated) AllocateSlot(slot);
  FillInput(slot, input);

  hbDNNInferCtrlParam ctrl;
  HB_DNN_INITIALIZE_INFER_CTRL_PARAM(&ctrl);
  hbDNNTaskHandle_t task = nullptr;
  hbDNNTensor* outputs = slot.outputs.data();
  const auto start = std::chrono::steady_clock::now();
  int32_t rc = hbDNNInfer(&task, &outputs, slot.inputs.data(), dnn_, &ctrl);
  const char* failed = rc ? "hbDNNInfer" : nullptr;
  bool mayStillRun = false;
  if (rc == 0) {
    rc = hbDNNWaitTaskDone(task, 0);
    if (rc) {
      failed = "hbDNNWaitTaskDone";
      mayStillRun = true;  // nothing says the task ended: releasing it only starts its cancellation
    }
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  // A task is released whatever happened to it, so none is ever leaked.
  if (task) {
    const int32_t released = hbDNNReleaseTask(task);
    if (!failed && released) {
      rc = released;
      failed = "hbDNNReleaseTask";
    }
  }
  if (mayStillRun) RetireSlot(slot);
  if (failed) CheckCall(rc, failed, subject_);

  hbDNNTensor& o = slot.outputs[0];
  CheckCall(hbSysFlushMem(&o.sysMem[0], HB_SYS_MEM_CACHE_INVALIDATE), "hbSysFlushMem", "output '" + out.name + "' of " + subject_);
  if (out.ValidExtent() > int64_t(o.sysMem[0].memSize))
    throw BpuError("invalid-properties", "output '" + out.name + "' of " + subject_ + " reads past its memory");
  ReadOutput(out, static_cast<const uint8_t*>(o.sysMem[0].virAddr), output.type, output.data);
  return ms;
}

bool BpuModel::Close(std::vector<BpuError>& errors, bool final) {
  // No run is in flight (the caller makes sure), so nothing else touches retired_ now.
  for (Slot& slot : slots_) FreeSlot(slot, errors);
  slots_.clear();
  dnn_ = nullptr;
  const std::string subject = subject_.empty() ? "model " + FilesText(files_) : subject_;
  if (packed_) {
    const int32_t rc = hbDNNRelease(packed_);
    if (rc) {
      // A released task may still be running: its memory must outlive it. Try again later, unless told to stop.
      if (!retired_.empty() && !final) return false;
      errors.emplace_back("hb-call", DescribeCall(rc, "hbDNNRelease", subject), "hbDNNRelease", rc);
      packed_ = nullptr;
      if (!retired_.empty()) {
        int64_t bytes = 0;
        for (const hbSysMem& m : retired_) bytes += m.memSize;
        errors.emplace_back("cancelled-task-memory",
                            "kept " + std::to_string(retired_.size()) + " BPU memory block(s) (" + std::to_string(bytes) +
                                " bytes) of " + subject + " unfreed: tasks released after a failed hbDNNWaitTaskDone may still use them");
        retired_.clear();
      }
      return true;
    }
    packed_ = nullptr;
  }
  for (hbSysMem& mem : retired_) {
    const int32_t rc = hbSysFreeMem(&mem);
    if (rc) errors.emplace_back("hb-call", DescribeCall(rc, "hbSysFreeMem", "memory of a cancelled task of " + subject), "hbSysFreeMem", rc);
  }
  retired_.clear();
  return true;
}

}  // namespace segbpu
