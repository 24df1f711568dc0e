// Compile-time checks that a set of dnn/ headers has the shape of the RDK X5 runtime's (hobot-dnn 1.23.x):
// which header declares what, enum values, struct layouts (LP64), function types and the infer-control macro.
// Every expected value is a public fact recorded in the project notes; nothing here is taken from vendor files.
// scripts/bpu-header-check.sh compiles it against segstream's test double in CI, and can be pointed at the
// board's headers (SEGSTREAM_HB_DNN_INCLUDE) to show both pass the same checks.
//
// HB_CHECK selects one translation unit:
//   sys / status / dnn / ext   that header alone declares what it should (and the ones it includes);
//   fail_<n>                   must NOT compile: a name used without the header that declares it, or the
//                              infer-control macro in a position where the board's form breaks.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#define HB_CHECK_sys 1
#define HB_CHECK_status 2
#define HB_CHECK_dnn 3
#define HB_CHECK_ext 4
#define HB_CHECK_fail_desc_from_dnn 10
#define HB_CHECK_fail_status_from_dnn 11
#define HB_CHECK_fail_source_from_dnn 12
#define HB_CHECK_fail_tensor_from_sys 13
#define HB_CHECK_fail_mem_from_status 14
#define HB_CHECK_fail_macro_if_else 15

#ifndef HB_CHECK
#error "define HB_CHECK (see the file comment)"
#endif

// Each positive unit includes exactly one header; hb_dnn_ext.h is checked through everything it brings in.
#if HB_CHECK == HB_CHECK_sys
#include "dnn/hb_sys.h"
#elif HB_CHECK == HB_CHECK_status
#include "dnn/hb_dnn_status.h"
#elif HB_CHECK == HB_CHECK_dnn
#include "dnn/hb_dnn.h"
#elif HB_CHECK == HB_CHECK_ext
#include "dnn/hb_dnn_ext.h"
#endif

static_assert(sizeof(void*) == 8, "the layout checks are for LP64 (x86_64, aarch64)");

template <typename Expected, typename Actual>
constexpr bool SameType() {
  return std::is_same<Expected, Actual>::value;
}

// ------------------------------------------------------------------------------------------------------ hb_sys.h
#if HB_CHECK == HB_CHECK_sys || HB_CHECK == HB_CHECK_dnn || HB_CHECK == HB_CHECK_ext
namespace sys_checks {
static_assert(HB_BPU_CORE_ANY == 0 && HB_BPU_CORE_0 == 1 && HB_BPU_CORE_1 == 2, "hbBPUCore values");
static_assert(HB_DSP_CORE_ANY == 0 && HB_DSP_CORE_0 == 1 && HB_DSP_CORE_1 == 2, "hbDSPCore values");
static_assert(SameType<hbBPUCore, decltype(HB_BPU_CORE_0)>() && SameType<hbDSPCore, decltype(HB_DSP_CORE_0)>(), "core enums");
static_assert(HB_SYS_MEM_CACHE_INVALIDATE == 1 && HB_SYS_MEM_CACHE_CLEAN == 2, "flush flags");
static_assert(SameType<hbSysMemFlushFlag, decltype(HB_SYS_MEM_CACHE_CLEAN)>(), "flush flag enum");
static_assert(HB_SYS_SUCCESS == 0 && HB_SYS_INVALID_ARGUMENT == -6000129 && HB_SYS_OUT_OF_MEMORY == -6000130 &&
                  HB_SYS_REGISTER_MEM_FAILED == -6000131,
              "hbSysStatus values");
static_assert(SameType<hbSysStatus, decltype(HB_SYS_OUT_OF_MEMORY)>(), "hbSysStatus enum");
static_assert(sizeof(hbSysMem) == 24 && alignof(hbSysMem) == 8, "hbSysMem size");
static_assert(offsetof(hbSysMem, phyAddr) == 0 && offsetof(hbSysMem, virAddr) == 8 && offsetof(hbSysMem, memSize) == 16,
              "hbSysMem layout");
static_assert(SameType<uint64_t, decltype(hbSysMem::phyAddr)>() && SameType<void*, decltype(hbSysMem::virAddr)>() &&
                  SameType<uint32_t, decltype(hbSysMem::memSize)>(),
              "hbSysMem field types");
static_assert(SameType<int32_t(hbSysMem*, uint32_t), decltype(hbSysAllocMem)>(), "hbSysAllocMem");
static_assert(SameType<int32_t(hbSysMem*, uint32_t), decltype(hbSysAllocCachedMem)>(), "hbSysAllocCachedMem");
static_assert(SameType<int32_t(hbSysMem*, int32_t), decltype(hbSysFlushMem)>(), "hbSysFlushMem");
static_assert(SameType<int32_t(hbSysMem*, char*, uint32_t), decltype(hbSysWriteMem)>(), "hbSysWriteMem");
static_assert(SameType<int32_t(char*, hbSysMem*, uint32_t), decltype(hbSysReadMem)>(), "hbSysReadMem");
static_assert(SameType<int32_t(hbSysMem*), decltype(hbSysFreeMem)>(), "hbSysFreeMem");
static_assert(SameType<int32_t(hbSysMem*), decltype(hbSysRegisterMem)>(), "hbSysRegisterMem");
static_assert(SameType<int32_t(hbSysMem*), decltype(hbSysUnregisterMem)>(), "hbSysUnregisterMem");
}  // namespace sys_checks
#endif

// ---------------------------------------------------------------------------------------------- hb_dnn_status.h
#if HB_CHECK == HB_CHECK_status
namespace status_checks {
static_assert(HB_DNN_SUCCESS == 0, "success");
static_assert(HB_DNN_INVALID_ARGUMENT == -6000001 && HB_DNN_INVALID_MODEL == -6000002 &&
                  HB_DNN_MODEL_NUMBER_EXCEED_LIMIT == -6000003 && HB_DNN_INVALID_PACKED_DNN_HANDLE == -6000004 &&
                  HB_DNN_INVALID_DNN_HANDLE == -6000005 && HB_DNN_CAN_NOT_OPEN_FILE == -6000006 &&
                  HB_DNN_OUT_OF_MEMORY == -6000007 && HB_DNN_TIMEOUT == -6000008 && HB_DNN_TASK_NUM_EXCEED_LIMIT == -6000009 &&
                  HB_DNN_TASK_BATCH_SIZE_EXCEED_LIMIT == -6000010 && HB_DNN_INVALID_TASK_HANDLE == -6000011 &&
                  HB_DNN_RUN_TASK_FAILED == -6000012 && HB_DNN_MODEL_IS_RUNNING == -6000013 &&
                  HB_DNN_INCOMPATIBLE_MODEL == -6000014 && HB_DNN_API_USE_ERROR == -6000015 &&
                  HB_DNN_MULTI_PROGRESS_USE_ERROR == -6000016,
              "hbDNNStatus values");
static_assert(SameType<hbDNNStatus, decltype(HB_DNN_RUN_TASK_FAILED)>(), "the codes are enumerators of hbDNNStatus");
static_assert(SameType<const char*(int32_t), decltype(hbDNNGetErrorDesc)>(), "hbDNNGetErrorDesc");
}  // namespace status_checks
#endif

// ----------------------------------------------------------------------------------------------------- hb_dnn.h
#if HB_CHECK == HB_CHECK_dnn || HB_CHECK == HB_CHECK_ext
namespace dnn_checks {
static_assert(HB_DNN_VERSION_MAJOR == 1U && HB_DNN_VERSION_MINOR == 23U, "a 1.23.x runtime");
static_assert(HB_DNN_TENSOR_MAX_DIMENSIONS == 8, "dimensions");
static_assert(SameType<void*, hbPackedDNNHandle_t>() && SameType<void*, hbDNNHandle_t>() && SameType<void*, hbDNNTaskHandle_t>(),
              "handles are void*");
static_assert(HB_DNN_LAYOUT_NHWC == 0 && HB_DNN_LAYOUT_NCHW == 2 && HB_DNN_LAYOUT_NONE == 255, "layouts");
static_assert(HB_DNN_IMG_TYPE_Y == 0 && HB_DNN_IMG_TYPE_NV12 == 1 && HB_DNN_IMG_TYPE_NV12_SEPARATE == 2 &&
                  HB_DNN_IMG_TYPE_YUV444 == 3 && HB_DNN_IMG_TYPE_RGB == 4 && HB_DNN_IMG_TYPE_BGR == 5 &&
                  HB_DNN_TENSOR_TYPE_S4 == 6 && HB_DNN_TENSOR_TYPE_U4 == 7 && HB_DNN_TENSOR_TYPE_S8 == 8 &&
                  HB_DNN_TENSOR_TYPE_U8 == 9 && HB_DNN_TENSOR_TYPE_F16 == 10 && HB_DNN_TENSOR_TYPE_S16 == 11 &&
                  HB_DNN_TENSOR_TYPE_U16 == 12 && HB_DNN_TENSOR_TYPE_F32 == 13 && HB_DNN_TENSOR_TYPE_S32 == 14 &&
                  HB_DNN_TENSOR_TYPE_U32 == 15 && HB_DNN_TENSOR_TYPE_F64 == 16 && HB_DNN_TENSOR_TYPE_S64 == 17 &&
                  HB_DNN_TENSOR_TYPE_U64 == 18 && HB_DNN_TENSOR_TYPE_MAX == 19,
              "hbDNNDataType values");
static_assert(NONE == 0 && SHIFT == 1 && SCALE == 2 && sizeof(hbDNNQuantiType) == 4, "hbDNNQuantiType");
static_assert(HB_DNN_PRIORITY_LOWEST == 0 && HB_DNN_PRIORITY_HIGHEST == 255 && HB_DNN_PRIORITY_PREEMP == 255, "priorities");
static_assert(SameType<hbDNNTaskPriority, decltype(HB_DNN_PRIORITY_LOWEST)>(), "hbDNNTaskPriority enum");

static_assert(sizeof(hbDNNTensorShape) == 36 && offsetof(hbDNNTensorShape, numDimensions) == 32, "hbDNNTensorShape");
static_assert(sizeof(hbDNNQuantiShift) == 16 && offsetof(hbDNNQuantiShift, shiftData) == 8 &&
                  SameType<uint8_t*, decltype(hbDNNQuantiShift::shiftData)>(),
              "hbDNNQuantiShift");
static_assert(sizeof(hbDNNQuantiScale) == 32 && offsetof(hbDNNQuantiScale, scaleData) == 8 &&
                  offsetof(hbDNNQuantiScale, zeroPointLen) == 16 && offsetof(hbDNNQuantiScale, zeroPointData) == 24 &&
                  SameType<float*, decltype(hbDNNQuantiScale::scaleData)>() &&
                  SameType<int8_t*, decltype(hbDNNQuantiScale::zeroPointData)>(),
              "hbDNNQuantiScale");
static_assert(sizeof(hbDNNTensorProperties) == 176, "hbDNNTensorProperties size");
static_assert(offsetof(hbDNNTensorProperties, validShape) == 0 && offsetof(hbDNNTensorProperties, alignedShape) == 36 &&
                  offsetof(hbDNNTensorProperties, tensorLayout) == 72 && offsetof(hbDNNTensorProperties, tensorType) == 76 &&
                  offsetof(hbDNNTensorProperties, shift) == 80 && offsetof(hbDNNTensorProperties, scale) == 96 &&
                  offsetof(hbDNNTensorProperties, quantiType) == 128 && offsetof(hbDNNTensorProperties, quantizeAxis) == 132 &&
                  offsetof(hbDNNTensorProperties, alignedByteSize) == 136 && offsetof(hbDNNTensorProperties, stride) == 140,
              "hbDNNTensorProperties layout");
static_assert(sizeof(hbDNNTensor) == 4 * 24 + 176 && offsetof(hbDNNTensor, properties) == 96, "hbDNNTensor");
static_assert(sizeof(hbDNNRoi) == 16 && offsetof(hbDNNRoi, left) == 0 && offsetof(hbDNNRoi, top) == 4 &&
                  offsetof(hbDNNRoi, right) == 8 && offsetof(hbDNNRoi, bottom) == 12,
              "hbDNNRoi");
static_assert(sizeof(hbDNNInferCtrlParam) == 32 && offsetof(hbDNNInferCtrlParam, more) == 12 &&
                  offsetof(hbDNNInferCtrlParam, customId) == 16 && offsetof(hbDNNInferCtrlParam, reserved2) == 28 &&
                  SameType<int64_t, decltype(hbDNNInferCtrlParam::customId)>(),
              "hbDNNInferCtrlParam");

// The macro sets every field to the documented default (any core, lowest priority, not batched, ids 0).
constexpr hbDNNInferCtrlParam Defaults() {
  hbDNNInferCtrlParam p{7, 7, 7, 7, 7, 7, 7};
  HB_DNN_INITIALIZE_INFER_CTRL_PARAM(&p);
  return p;
}
static_assert(Defaults().bpuCoreId == HB_BPU_CORE_ANY && Defaults().dspCoreId == HB_DSP_CORE_ANY &&
                  Defaults().priority == HB_DNN_PRIORITY_LOWEST && Defaults().more == 0 && Defaults().customId == 0 &&
                  Defaults().reserved1 == 0 && Defaults().reserved2 == 0,
              "HB_DNN_INITIALIZE_INFER_CTRL_PARAM defaults");

static_assert(SameType<void (*)(hbDNNTaskHandle_t, int32_t, void*), hbDNNTaskDoneCb>(), "hbDNNTaskDoneCb");
static_assert(SameType<const char*(), decltype(hbDNNGetVersion)>(), "hbDNNGetVersion");
static_assert(SameType<int32_t(hbPackedDNNHandle_t*, const char**, int32_t), decltype(hbDNNInitializeFromFiles)>(), "InitializeFromFiles");
static_assert(SameType<int32_t(hbPackedDNNHandle_t*, const void**, int32_t*, int32_t), decltype(hbDNNInitializeFromDDR)>(), "InitializeFromDDR");
static_assert(SameType<int32_t(hbPackedDNNHandle_t), decltype(hbDNNRelease)>(), "hbDNNRelease");
static_assert(SameType<int32_t(const char***, int32_t*, hbPackedDNNHandle_t), decltype(hbDNNGetModelNameList)>(), "GetModelNameList");
static_assert(SameType<int32_t(hbDNNHandle_t*, hbPackedDNNHandle_t, const char*), decltype(hbDNNGetModelHandle)>(), "GetModelHandle");
static_assert(SameType<int32_t(int32_t*, hbDNNHandle_t), decltype(hbDNNGetInputCount)>(), "GetInputCount");
static_assert(SameType<int32_t(int32_t*, hbDNNHandle_t), decltype(hbDNNGetOutputCount)>(), "GetOutputCount");
static_assert(SameType<int32_t(const char**, hbDNNHandle_t, int32_t), decltype(hbDNNGetInputName)>(), "GetInputName");
static_assert(SameType<int32_t(const char**, hbDNNHandle_t, int32_t), decltype(hbDNNGetOutputName)>(), "GetOutputName");
static_assert(SameType<int32_t(hbDNNTensorProperties*, hbDNNHandle_t, int32_t), decltype(hbDNNGetInputTensorProperties)>(), "GetInputTensorProperties");
static_assert(SameType<int32_t(hbDNNTensorProperties*, hbDNNHandle_t, int32_t), decltype(hbDNNGetOutputTensorProperties)>(), "GetOutputTensorProperties");
static_assert(SameType<int32_t(hbDNNTaskHandle_t*, hbDNNTensor**, const hbDNNTensor*, hbDNNHandle_t, hbDNNInferCtrlParam*),
                       decltype(hbDNNInfer)>(),
              "hbDNNInfer");
static_assert(SameType<int32_t(hbDNNTaskHandle_t*, hbDNNTensor**, const hbDNNTensor*, hbDNNRoi*, int32_t, hbDNNHandle_t,
                               hbDNNInferCtrlParam*),
                       decltype(hbDNNRoiInfer)>(),
              "hbDNNRoiInfer");
static_assert(SameType<int32_t(hbDNNTaskHandle_t, hbDNNTaskDoneCb, void*), decltype(hbDNNSetTaskDoneCb)>(), "SetTaskDoneCb");
static_assert(SameType<int32_t(hbDNNTaskHandle_t, int32_t), decltype(hbDNNWaitTaskDone)>(), "WaitTaskDone");
static_assert(SameType<int32_t(hbDNNTaskHandle_t), decltype(hbDNNReleaseTask)>(), "ReleaseTask");
}  // namespace dnn_checks
#endif

// ------------------------------------------------------------------------------------------------- hb_dnn_ext.h
#if HB_CHECK == HB_CHECK_ext
namespace ext_checks {
static_assert(HB_DNN_LAYOUT_NHCW_NATIVE == 1, "extra layout");
static_assert(HB_DNN_INPUT_FROM_DDR == 0 && HB_DNN_INPUT_FROM_RESIZER == 1 && HB_DNN_INPUT_FROM_PYRAMID == 2, "input sources");
static_assert(SameType<hbDNNInputSource, decltype(HB_DNN_INPUT_FROM_PYRAMID)>(), "hbDNNInputSource enum");
static_assert(SameType<int32_t(int32_t*, hbDNNHandle_t, int32_t), decltype(hbDNNGetInputSource)>(), "hbDNNGetInputSource");
}  // namespace ext_checks
#endif

// ------------------------------------------------------------------------- must not compile (wrong includes)
#if HB_CHECK == HB_CHECK_fail_desc_from_dnn
#include "dnn/hb_dnn.h"
const char* Describe(int32_t rc) { return hbDNNGetErrorDesc(rc); }  // declared in hb_dnn_status.h only
#elif HB_CHECK == HB_CHECK_fail_status_from_dnn
#include "dnn/hb_dnn.h"
int32_t Ok() { return HB_DNN_SUCCESS; }  // hb_dnn_status.h only
#elif HB_CHECK == HB_CHECK_fail_source_from_dnn
#include "dnn/hb_dnn.h"
int32_t Source(hbDNNHandle_t h) {
  int32_t s = 0;
  return hbDNNGetInputSource(&s, h, 0);  // hb_dnn_ext.h only
}
#elif HB_CHECK == HB_CHECK_fail_tensor_from_sys
#include "dnn/hb_sys.h"
hbDNNTensor tensor;  // hb_dnn.h only
#elif HB_CHECK == HB_CHECK_fail_mem_from_status
#include "dnn/hb_dnn_status.h"
hbSysMem mem;  // hb_sys.h only
#elif HB_CHECK == HB_CHECK_fail_macro_if_else
#include "dnn/hb_dnn.h"
// The board's macro is a bare { } block: "MACRO(&p); else" leaves the else without its if.
void Init(hbDNNInferCtrlParam* p, bool reset) {
  if (reset)
    HB_DNN_INITIALIZE_INFER_CTRL_PARAM(p);
  else
    p->priority = 1;
}
#endif
