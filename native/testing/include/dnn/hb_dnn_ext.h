/*
 * segstream's test double of the RDK X5 runtime's extension header (on the board: /usr/include/dnn/hb_dnn_ext.h).
 *
 * A SUBSET: only the parts segstream uses, with the board's names, values and signatures (hobot-dnn 1.23.10
 * facts), written by the segstream authors. The board's file declares more (model/tensor descriptions, output
 * operator types, latency estimates, layout conversion helpers); none of it may be used by segstream until it is
 * added here from the facts. Like the board's, it includes hb_dnn.h and hb_sys.h.
 */
#ifndef SEGSTREAM_DOUBLE_DNN_HB_DNN_EXT_H_
#define SEGSTREAM_DOUBLE_DNN_HB_DNN_EXT_H_

#include "hb_dnn.h"
#include "hb_sys.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A layout value the main enum lacks. */
typedef enum {
  HB_DNN_LAYOUT_NHCW_NATIVE = 1,
} hbDNNExtraTensorLayout;

/*
 * Where a model input comes from. DDR and PYRAMID inputs are fed with hbDNNInfer (compiled NV12 camera models
 * report PYRAMID); RESIZER inputs must be fed with hbDNNRoiInfer.
 */
typedef enum {
  HB_DNN_INPUT_FROM_DDR = 0,
  HB_DNN_INPUT_FROM_RESIZER,
  HB_DNN_INPUT_FROM_PYRAMID,
} hbDNNInputSource;

int32_t hbDNNGetInputSource(int32_t *inputSource, hbDNNHandle_t dnnHandle, int32_t inputIndex);

#ifdef __cplusplus
}
#endif

#endif /* SEGSTREAM_DOUBLE_DNN_HB_DNN_EXT_H_ */
