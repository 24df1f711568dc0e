#include "bpu_model.h"

#include <chrono>
#include <cstring>

#include "bpu_error.h"
#include "dnn/hb_sys.h"

namespace segbpu {
namespace {

std::string Quote(const std::vector<std::string>& items) {
  std::string s;
  for (const std::string& i : items) s += (s.empty() ? "'" : ", '") + i + "'";
  return s;
}

std::string FilesText(const std::vector<std::string>& files) {
  return (files.size() == 1 ? "" : "files ") + Quote(files);
}

// Row stride for NV12_SEPARATE planes: the runtime wants 16-byte aligned rows.
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
  if (!SupportedInputType(in.props.tensorType))
    throw BpuError("unsupported-input-type",
                   "unsupported input type " + std::string(TensorTypeName(in.props.tensorType)) + " for input '" + in.name +
                       "' of " + subj + "; segstream can feed NV12, NV12_SEPARATE, YUV444, RGB, BGR and F32/S8/U8 featuremaps");
  if (IsNv12(in.props.tensorType)) {
    const Axes ax = AxesOf(in.props.tensorLayout);
    if (in.validShape.size() != 4 || in.validShape[ax.c] != 3 || in.validShape[ax.h] % 2 || in.validShape[ax.w] % 2)
      throw BpuError("invalid-properties", "input '" + in.name + "' of " + subj + " is NV12 but its validShape is not (1,3,H,W) with even H and W");
  }
  const TensorSpec& out = m->outputs_[0];
  if (!SupportedOutputType(out.props.tensorType))
    throw BpuError("unsupported-output-type", "unsupported output type " + std::string(TensorTypeName(out.props.tensorType)) +
                                                  " for output '" + out.name + "' of " + subj);

  // Memory: once per slot, sized from the properties (NV12_SEPARATE grows if a frame brings a wider stride).
  m->slots_.resize(static_cast<size_t>(o.slots));
  for (Slot& slot : m->slots_) {
    slot.inputs.resize(1);
    slot.outputs.resize(m->outputs_.size());
    hbDNNTensor& t = slot.inputs[0];
    std::memset(&t, 0, sizeof t);
    t.properties = in.props;
    if (in.props.tensorType == HB_DNN_IMG_TYPE_NV12_SEPARATE) {
      const Axes ax = AxesOf(in.props.tensorLayout);
      const int64_t h = in.validShape[ax.h];
      const int64_t stride = AlignedStride(in.alignedShape[ax.w]);
      m->Allocate(t.sysMem[0], stride * h, "input Y plane");
      m->Allocate(t.sysMem[1], stride * h / 2, "input UV plane");
    } else if (in.props.tensorType == HB_DNN_IMG_TYPE_NV12) {
      const Axes ax = AxesOf(in.props.tensorLayout);
      const int64_t packed = int64_t(in.validShape[ax.h]) * in.validShape[ax.w] * 3 / 2;
      m->Allocate(t.sysMem[0], packed > in.props.alignedByteSize ? packed : in.props.alignedByteSize, "input");
    } else {
      m->Allocate(t.sysMem[0], in.props.alignedByteSize, "input");
      std::memset(t.sysMem[0].virAddr, 0, t.sysMem[0].memSize);  // padding stays zero; runs write the valid region
    }
    for (size_t i = 0; i < m->outputs_.size(); i++) {
      hbDNNTensor& ot = slot.outputs[i];
      std::memset(&ot, 0, sizeof ot);
      ot.properties = m->outputs_[i].props;
      m->Allocate(ot.sysMem[0], m->outputs_[i].props.alignedByteSize, "output '" + m->outputs_[i].name + "'");
    }
  }
  return m;
}

BpuModel::~BpuModel() { Close(); }

void BpuModel::Allocate(hbSysMem& mem, int64_t bytes, const std::string& what) {
  if (bytes <= 0 || bytes > INT32_MAX)
    throw BpuError("invalid-properties", what + " of " + subject_ + " would need " + std::to_string(bytes) + " bytes");
  std::memset(&mem, 0, sizeof mem);
  CheckCall(hbSysAllocCachedMem(&mem, static_cast<uint32_t>(bytes)), "hbSysAllocCachedMem", what + " of " + subject_);
}

void BpuModel::FillInput(Slot& slot, const RunInput& input) {
  const TensorSpec& in = inputs_[0];
  hbDNNTensor& t = slot.inputs[0];
  const int32_t type = in.props.tensorType;
  if (IsNv12(type) != input.nv12)
    throw BpuError("invalid-argument", subject_ + (input.nv12 ? " does not take NV12 input" : " takes NV12 input"));
  if (input.nv12) {
    const Axes ax = AxesOf(in.props.tensorLayout);
    const Nv12Source& img = input.image;
    CheckNv12Bounds(img);
    if (img.width != in.validShape[ax.w] || img.height != in.validShape[ax.h])
      throw BpuError("invalid-argument", "NV12 image is " + std::to_string(img.width) + "x" + std::to_string(img.height) + " but " +
                                             subject_ + " takes " + std::to_string(in.validShape[ax.w]) + "x" +
                                             std::to_string(in.validShape[ax.h]));
    if (type == HB_DNN_IMG_TYPE_NV12) {
      CopyNv12Packed(img, static_cast<uint8_t*>(t.sysMem[0].virAddr));
      CheckCall(hbSysFlushMem(&t.sysMem[0], HB_SYS_MEM_CACHE_CLEAN), "hbSysFlushMem", "input of " + subject_);
      return;
    }
    // NV12_SEPARATE: keep the source's row stride when the runtime accepts it (same for both planes, 16-aligned),
    // so each plane is one block copy; otherwise repack to the model's aligned stride.
    const bool keep = img.strideY == img.strideUV && img.strideY % 16 == 0;
    const int64_t stride = keep ? img.strideY : AlignedStride(in.alignedShape[ax.w]);
    const int64_t h = img.height;
    if (int64_t(t.sysMem[0].memSize) < stride * h || int64_t(t.sysMem[1].memSize) < stride * h / 2) {
      for (int p = 0; p < 2; p++) {
        CheckCall(hbSysFreeMem(&t.sysMem[p]), "hbSysFreeMem", "input plane of " + subject_);
        std::memset(&t.sysMem[p], 0, sizeof t.sysMem[p]);
      }
      Allocate(t.sysMem[0], stride * h, "input Y plane");
      Allocate(t.sysMem[1], stride * h / 2, "input UV plane");
    }
    CopyNv12Planes(img, stride, static_cast<uint8_t*>(t.sysMem[0].virAddr), static_cast<uint8_t*>(t.sysMem[1].virAddr));
    t.properties.alignedShape.dimensionSize[ax.w] = static_cast<int32_t>(stride);
    t.properties.alignedByteSize = static_cast<int32_t>(stride * h * 3 / 2);
    CheckCall(hbSysFlushMem(&t.sysMem[0], HB_SYS_MEM_CACHE_CLEAN), "hbSysFlushMem", "input Y plane of " + subject_);
    CheckCall(hbSysFlushMem(&t.sysMem[1], HB_SYS_MEM_CACHE_CLEAN), "hbSysFlushMem", "input UV plane of " + subject_);
    return;
  }
  const size_t want = static_cast<size_t>(in.ValidElements()) * in.elementBytes;
  if (input.tensorBytes != want)
    throw BpuError("invalid-argument", "input tensor has " + std::to_string(input.tensorBytes) + " bytes but " + subject_ +
                                           " takes " + std::to_string(want));
  WriteTensor(in, input.tensor, static_cast<uint8_t*>(t.sysMem[0].virAddr));
  CheckCall(hbSysFlushMem(&t.sysMem[0], HB_SYS_MEM_CACHE_CLEAN), "hbSysFlushMem", "input of " + subject_);
}

double BpuModel::Run(int slotIndex, const RunInput& input, const RunOutput& output) {
  if (!dnn_) throw BpuError("closed", subject_ + " is closed");
  if (slotIndex < 0 || slotIndex >= slots()) throw BpuError("invalid-argument", "no slot " + std::to_string(slotIndex));
  Slot& slot = slots_[static_cast<size_t>(slotIndex)];
  const TensorSpec& out = outputs_[0];
  if (output.bytes != static_cast<size_t>(out.ValidElements()) * OutputTypeBytes(output.type))
    throw BpuError("invalid-argument", "output buffer has " + std::to_string(output.bytes) + " bytes, expected " +
                                           std::to_string(out.ValidElements() * OutputTypeBytes(output.type)));
  FillInput(slot, input);

  hbDNNInferCtrlParam ctrl;
  HB_DNN_INITIALIZE_INFER_CTRL_PARAM(&ctrl);
  hbDNNTaskHandle_t task = nullptr;
  hbDNNTensor* outputs = slot.outputs.data();
  const auto start = std::chrono::steady_clock::now();
  int32_t rc = hbDNNInfer(&task, &outputs, slot.inputs.data(), dnn_, &ctrl);
  const char* failed = rc ? "hbDNNInfer" : nullptr;
  if (rc == 0) {
    rc = hbDNNWaitTaskDone(task, 0);
    if (rc) failed = "hbDNNWaitTaskDone";
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
  if (failed) CheckCall(rc, failed, subject_);

  hbDNNTensor& o = slot.outputs[0];
  CheckCall(hbSysFlushMem(&o.sysMem[0], HB_SYS_MEM_CACHE_INVALIDATE), "hbSysFlushMem", "output '" + out.name + "' of " + subject_);
  if (out.ValidExtent() > int64_t(o.sysMem[0].memSize))
    throw BpuError("invalid-properties", "output '" + out.name + "' of " + subject_ + " reads past its memory");
  ReadOutput(out, static_cast<const uint8_t*>(o.sysMem[0].virAddr), output.type, output.data);
  return ms;
}

std::vector<BpuError> BpuModel::Close() {
  std::vector<BpuError> errors;
  auto release = [&](hbSysMem& mem, const std::string& what) {
    if (!mem.virAddr) return;
    const int32_t rc = hbSysFreeMem(&mem);
    if (rc) errors.emplace_back("hb-call", DescribeCall(rc, "hbSysFreeMem", what + " of " + subject_), "hbSysFreeMem", rc);
    std::memset(&mem, 0, sizeof mem);
  };
  for (Slot& slot : slots_) {
    for (hbDNNTensor& t : slot.inputs)
      for (hbSysMem& mem : t.sysMem) release(mem, "input memory");
    for (hbDNNTensor& t : slot.outputs)
      for (hbSysMem& mem : t.sysMem) release(mem, "output memory");
  }
  slots_.clear();
  dnn_ = nullptr;
  if (packed_) {
    const int32_t rc = hbDNNRelease(packed_);
    if (rc)
      errors.emplace_back("hb-call", DescribeCall(rc, "hbDNNRelease", subject_.empty() ? "model " + FilesText(files_) : subject_),
                          "hbDNNRelease", rc);
    packed_ = nullptr;
  }
  return errors;
}

}  // namespace segbpu
