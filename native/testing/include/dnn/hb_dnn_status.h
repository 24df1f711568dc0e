/*
 * segstream's test double of the RDK X5 runtime's status header (on the board: /usr/include/dnn/hb_dnn_status.h).
 *
 * Same names, values and signature as the board's file (hobot-dnn 1.23.10 facts), written by the segstream
 * authors. As on the board, NOTHING includes this header for you: hb_dnn.h does not, so code that names a status
 * code or calls hbDNNGetErrorDesc must include "dnn/hb_dnn_status.h" itself, or it fails to compile here as it
 * would on the board.
 */
#ifndef SEGSTREAM_DOUBLE_DNN_HB_DNN_STATUS_H_
#define SEGSTREAM_DOUBLE_DNN_HB_DNN_STATUS_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Return codes of the hbDNN* functions (0 is success, failures count down from -6000001). */
typedef enum {
  HB_DNN_SUCCESS = 0,
  HB_DNN_INVALID_ARGUMENT = -6000001,
  HB_DNN_INVALID_MODEL = -6000002,
  HB_DNN_MODEL_NUMBER_EXCEED_LIMIT = -6000003,
  HB_DNN_INVALID_PACKED_DNN_HANDLE = -6000004,
  HB_DNN_INVALID_DNN_HANDLE = -6000005,
  HB_DNN_CAN_NOT_OPEN_FILE = -6000006,
  HB_DNN_OUT_OF_MEMORY = -6000007,
  HB_DNN_TIMEOUT = -6000008,
  HB_DNN_TASK_NUM_EXCEED_LIMIT = -6000009,
  HB_DNN_TASK_BATCH_SIZE_EXCEED_LIMIT = -6000010,
  HB_DNN_INVALID_TASK_HANDLE = -6000011,
  HB_DNN_RUN_TASK_FAILED = -6000012,
  HB_DNN_MODEL_IS_RUNNING = -6000013,
  HB_DNN_INCOMPATIBLE_MODEL = -6000014,
  HB_DNN_API_USE_ERROR = -6000015,
  HB_DNN_MULTI_PROGRESS_USE_ERROR = -6000016
} hbDNNStatus;

/* A sentence describing an hbDNN* return code (documented for the DNN codes above, not the HB_SYS ones). */
char const *hbDNNGetErrorDesc(int32_t errorCode);

#ifdef __cplusplus
}
#endif

#endif /* SEGSTREAM_DOUBLE_DNN_HB_DNN_STATUS_H_ */
