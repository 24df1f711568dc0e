/*
 * Controls of segstream's hb_dnn test double (not part of the board API, never on a board). Tests use them to
 * inject failures, hold inference, count what is still alive and look at what the "runtime" received. Only
 * compiled into the addon when it is built against the double (SEGSTREAM_HB_DNN_TEST_DOUBLE).
 */
#ifndef SEGSTREAM_TEST_DOUBLE_CONTROL_H_
#define SEGSTREAM_TEST_DOUBLE_CONTROL_H_

#include <stdint.h>

#include "hb_dnn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  /* Alive right now. */
  int64_t liveAllocations;
  int64_t liveAllocatedBytes;
  int64_t liveTasks;        /* task handles not yet released */
  int64_t livePackedHandles;
  int64_t runningTasks;     /* task threads not finished, including released (cancelled) ones */
  /* Counted since the last hbTestDoubleResetCounters(). */
  int64_t allocations;
  int64_t cleanFlushes;
  int64_t invalidateFlushes;
  int64_t inferCalls;
  int64_t maxConcurrentTasks; /* most tasks in flight (created, not yet done) at once */
  int64_t lastNv12RowStride;  /* row stride of the last NV12 input inferred (alignedShape W) */
  int64_t cancelledTasks;     /* tasks released before they finished (they stop without computing) */
} hbTestDoubleStats;

/**
 * Makes the `nth` next call (1 = the very next) of the API function named `call` (e.g. "hbDNNInfer") return
 * `code` without doing anything. Calls of other functions are not counted. Returns 0, or -1 for an unknown name.
 * The environment variable SEGSTREAM_HBDNN_DOUBLE_FAIL="call[:nth[:code]][,call...]" arms the same at load.
 */
int32_t hbTestDoubleFailAt(const char *call, int32_t nth, int32_t code);
void hbTestDoubleClearFailures(void);
/** While held, started tasks wait (up to 10 s, then fail) before computing; lets tests observe in-flight work. */
void hbTestDoubleHoldInference(int32_t hold);
void hbTestDoubleGetStats(hbTestDoubleStats *stats);
void hbTestDoubleResetCounters(void);
/** Frees whatever callers leaked (memory, tasks, packed handles), after letting running tasks end. */
int64_t hbTestDoubleReleaseLeaks(void);
/** Why the last failing API call on this thread failed (a sentence), or "". */
const char *hbTestDoubleLastError(void);
/** Leaks 48 bytes on purpose (pointer dropped): proves a leak checker run actually sees this library. */
void hbTestDoubleLeakCanary(void);
/** Names of the API functions that can be told to fail, separated by commas. */
const char *hbTestDoubleCallNames(void);
/**
 * Input 0 of the last accepted hbDNNInfer, as the runtime received it: the caller's properties and, per plane
 * (sysMem[0], and sysMem[1] for NV12_SEPARATE), the bytes the device copy held at submission. Returns the number
 * of planes (0 before any inference). `planeBytes` receives each plane's length.
 */
int32_t hbTestDoubleLastInput(hbDNNTensorProperties *properties, int64_t planeBytes[2]);
/** Copies up to `capacity` bytes of plane 0 or 1 of that input into `dst`; returns how many it copied, or -1. */
int64_t hbTestDoubleLastInputPlane(int32_t plane, uint8_t *dst, int64_t capacity);

#ifdef __cplusplus
}
#endif

#endif /* SEGSTREAM_TEST_DOUBLE_CONTROL_H_ */
