/*
 * Controls of segstream's hb_dnn test double (not part of the board API). Tests use them to inject failures,
 * hold inference, and count what is still alive. Only compiled into the addon when it is built against the
 * double (SEGSTREAM_HB_DNN_TEST_DOUBLE).
 */
#ifndef SEGSTREAM_TEST_DOUBLE_CONTROL_H_
#define SEGSTREAM_TEST_DOUBLE_CONTROL_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  /* Alive right now. */
  int64_t liveAllocations;
  int64_t liveAllocatedBytes;
  int64_t liveTasks;
  int64_t livePackedHandles;
  /* Counted since the last hbTestDoubleResetCounters(). */
  int64_t allocations;
  int64_t cleanFlushes;
  int64_t invalidateFlushes;
  int64_t inferCalls;
  int64_t maxConcurrentTasks; /* most tasks in flight (created, not yet done) at once */
  int64_t lastNv12RowStride;  /* row stride of the last NV12 input inferred (alignedShape W for NV12_SEPARATE) */
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
/** Frees whatever callers leaked (memory, tasks, packed handles); returns how many objects it freed. */
int64_t hbTestDoubleReleaseLeaks(void);
/** Why the last failing API call on this thread failed (a sentence), or "". */
const char *hbTestDoubleLastError(void);
/** Leaks 48 bytes on purpose (pointer dropped): proves a leak checker run actually sees this library. */
void hbTestDoubleLeakCanary(void);
/** Names of the API functions that can be told to fail, separated by commas. */
const char *hbTestDoubleCallNames(void);

#ifdef __cplusplus
}
#endif

#endif /* SEGSTREAM_TEST_DOUBLE_CONTROL_H_ */
