/*
 * segstream's test double of the RDK X5 BPU inference header (on the board: /usr/include/dnn/hb_dnn.h).
 *
 * Shaped after the public facts of hobot-dnn 1.23.10 (D-Robotics x5-hobot-dnn): the same names, enum values,
 * struct layouts, macros and function signatures as the board's hb_dnn.h, and nothing more, so a program that
 * compiles against this double compiles against the board's headers. Written by the segstream authors; it is not
 * the vendor's file. Like the board's, this header includes hb_sys.h and nothing else: the status codes and
 * hbDNNGetErrorDesc are in hb_dnn_status.h, the extras (hbDNNGetInputSource, ...) in hb_dnn_ext.h.
 * Controls that only the double has are in hb_dnn_test_double.h.
 */
#ifndef SEGSTREAM_DOUBLE_DNN_HB_DNN_H_
#define SEGSTREAM_DOUBLE_DNN_HB_DNN_H_

#include "hb_sys.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The runtime release these headers follow. */
#define HB_DNN_VERSION_MAJOR 1U
#define HB_DNN_VERSION_MINOR 23U
#define HB_DNN_VERSION_PATCH 10U

#define HB_DNN_TENSOR_MAX_DIMENSIONS 8

/*
 * Fills an hbDNNInferCtrlParam with the defaults (any core, lowest priority, not batched). As on the board it
 * expands to a plain { ... } block, not do/while(0): use it as a statement of its own, never as the only
 * statement of an if that has an else. It uses `false`, so C callers need <stdbool.h>.
 */
#define HB_DNN_INITIALIZE_INFER_CTRL_PARAM(param) \
  {                                               \
    (param)->bpuCoreId = HB_BPU_CORE_ANY;         \
    (param)->dspCoreId = HB_DSP_CORE_ANY;         \
    (param)->priority = HB_DNN_PRIORITY_LOWEST;   \
    (param)->more = false;                        \
    (param)->customId = 0;                        \
    (param)->reserved1 = 0;                       \
    (param)->reserved2 = 0;                       \
  }

/* Opaque handles: a loaded file set (packed models), one model in it, one submitted inference. */
typedef void *hbPackedDNNHandle_t;
typedef void *hbDNNHandle_t;
typedef void *hbDNNTaskHandle_t;

typedef enum {
  HB_DNN_LAYOUT_NHWC = 0,
  HB_DNN_LAYOUT_NCHW = 2,
  HB_DNN_LAYOUT_NONE = 255,
} hbDNNTensorLayout;

/* Element types: image formats first, then plain tensors; the order fixes the values (0, 1, 2, ...). */
typedef enum {
  HB_DNN_IMG_TYPE_Y,
  HB_DNN_IMG_TYPE_NV12,
  HB_DNN_IMG_TYPE_NV12_SEPARATE,
  HB_DNN_IMG_TYPE_YUV444,
  HB_DNN_IMG_TYPE_RGB,
  HB_DNN_IMG_TYPE_BGR,
  HB_DNN_TENSOR_TYPE_S4,
  HB_DNN_TENSOR_TYPE_U4,
  HB_DNN_TENSOR_TYPE_S8,
  HB_DNN_TENSOR_TYPE_U8,
  HB_DNN_TENSOR_TYPE_F16,
  HB_DNN_TENSOR_TYPE_S16,
  HB_DNN_TENSOR_TYPE_U16,
  HB_DNN_TENSOR_TYPE_F32,
  HB_DNN_TENSOR_TYPE_S32,
  HB_DNN_TENSOR_TYPE_U32,
  HB_DNN_TENSOR_TYPE_F64,
  HB_DNN_TENSOR_TYPE_S64,
  HB_DNN_TENSOR_TYPE_U64,
  HB_DNN_TENSOR_TYPE_MAX
} hbDNNDataType;

typedef struct {
  int32_t dimensionSize[HB_DNN_TENSOR_MAX_DIMENSIONS];
  int32_t numDimensions;
} hbDNNTensorShape;

/* SHIFT quantisation: value = raw / 2^shift, one shift per tensor or per index along quantizeAxis. */
typedef struct {
  int32_t shiftLen;
  uint8_t *shiftData;
} hbDNNQuantiShift;

/* SCALE quantisation: value = (raw - zeroPoint) * scale, per tensor or per index along quantizeAxis. */
typedef struct {
  int32_t scaleLen;
  float *scaleData;
  int32_t zeroPointLen;
  int8_t *zeroPointData;
} hbDNNQuantiScale;

typedef enum {
  NONE,
  SHIFT,
  SCALE
} hbDNNQuantiType;

/*
 * What a tensor looks like. Callers may change only tensorType (e.g. NV12 -> NV12_SEPARATE) and alignedShape
 * (e.g. the row stride of the image they pass, or validShape when they lay rows out at the valid width).
 */
typedef struct {
  hbDNNTensorShape validShape;
  hbDNNTensorShape alignedShape;
  int32_t tensorLayout;
  int32_t tensorType;
  hbDNNQuantiShift shift;
  hbDNNQuantiScale scale;
  hbDNNQuantiType quantiType;
  int32_t quantizeAxis;
  int32_t alignedByteSize;
  int32_t stride[HB_DNN_TENSOR_MAX_DIMENSIONS];
} hbDNNTensorProperties;

/* A tensor's memory (one block; NV12_SEPARATE: Y in sysMem[0], UV in sysMem[1]) and its properties. */
typedef struct {
  hbSysMem sysMem[4];
  hbDNNTensorProperties properties;
} hbDNNTensor;

/* A region of an input image, for models fed by the resizer (hbDNNRoiInfer). */
typedef struct {
  int32_t left;
  int32_t top;
  int32_t right;
  int32_t bottom;
} hbDNNRoi;

typedef enum {
  HB_DNN_PRIORITY_LOWEST = 0,
  HB_DNN_PRIORITY_HIGHEST = 255,
  HB_DNN_PRIORITY_PREEMP = HB_DNN_PRIORITY_HIGHEST,
} hbDNNTaskPriority;

typedef struct {
  int32_t bpuCoreId;
  int32_t dspCoreId;
  int32_t priority;
  int32_t more;
  int64_t customId;
  int32_t reserved1;
  int32_t reserved2;
} hbDNNInferCtrlParam;

/* Called when a task finishes (status 0 or a failure code). */
typedef void (*hbDNNTaskDoneCb)(hbDNNTaskHandle_t taskHandle, int32_t status, void *userdata);

char const *hbDNNGetVersion();

int32_t hbDNNInitializeFromFiles(hbPackedDNNHandle_t *packedDNNHandle, char const **modelFileNames,
                                 int32_t modelFileCount);
int32_t hbDNNInitializeFromDDR(hbPackedDNNHandle_t *packedDNNHandle, const void **modelData, int32_t *modelDataLengths,
                               int32_t modelDataCount);
int32_t hbDNNRelease(hbPackedDNNHandle_t packedDNNHandle);
int32_t hbDNNGetModelNameList(char const ***modelNameList, int32_t *modelNameCount, hbPackedDNNHandle_t packedDNNHandle);
int32_t hbDNNGetModelHandle(hbDNNHandle_t *dnnHandle, hbPackedDNNHandle_t packedDNNHandle, char const *modelName);

int32_t hbDNNGetInputCount(int32_t *inputCount, hbDNNHandle_t dnnHandle);
int32_t hbDNNGetInputName(char const **name, hbDNNHandle_t dnnHandle, int32_t inputIndex);
int32_t hbDNNGetInputTensorProperties(hbDNNTensorProperties *properties, hbDNNHandle_t dnnHandle, int32_t inputIndex);
int32_t hbDNNGetOutputCount(int32_t *outputCount, hbDNNHandle_t dnnHandle);
int32_t hbDNNGetOutputName(char const **name, hbDNNHandle_t dnnHandle, int32_t outputIndex);
int32_t hbDNNGetOutputTensorProperties(hbDNNTensorProperties *properties, hbDNNHandle_t dnnHandle,
                                       int32_t outputIndex);

/* Submits an inference and returns at once; *taskHandle must be null unless appending to a batch (`more`). */
int32_t hbDNNInfer(hbDNNTaskHandle_t *taskHandle, hbDNNTensor **output, hbDNNTensor const *input,
                   hbDNNHandle_t dnnHandle, hbDNNInferCtrlParam *inferCtrlParam);
/* Same for models whose input comes from the resizer: the regions to crop and scale. */
int32_t hbDNNRoiInfer(hbDNNTaskHandle_t *taskHandle, hbDNNTensor **output, hbDNNTensor const *input, hbDNNRoi *rois,
                      int32_t roiCount, hbDNNHandle_t dnnHandle, hbDNNInferCtrlParam *inferCtrlParam);
int32_t hbDNNSetTaskDoneCb(hbDNNTaskHandle_t taskHandle, hbDNNTaskDoneCb cb, void *userdata);
/* timeout > 0: wait at most that many milliseconds; timeout <= 0: until the task finishes. */
int32_t hbDNNWaitTaskDone(hbDNNTaskHandle_t taskHandle, int32_t timeout);
/*
 * Releases a task without waiting: a task not started yet is cancelled, one still running is stopped, in the
 * background. Its memory may still be in use when this returns.
 */
int32_t hbDNNReleaseTask(hbDNNTaskHandle_t taskHandle);

#ifdef __cplusplus
}
#endif

#endif /* SEGSTREAM_DOUBLE_DNN_HB_DNN_H_ */
