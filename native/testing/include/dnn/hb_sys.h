/*
 * segstream's test double of the RDK X5 system-memory API (board header: /usr/include/dnn/hb_sys.h).
 *
 * Written from the public API description in the project's notes (types, names, enum values); it is not the
 * vendor header. Only the subset segstream uses is declared. On a board the vendor header is used instead, so
 * code must never rely on anything here that the notes do not document.
 */
#ifndef SEGSTREAM_TEST_DOUBLE_HB_SYS_H_
#define SEGSTREAM_TEST_DOUBLE_HB_SYS_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A block of BPU-visible memory: physical address for the device, virtual address for the CPU. */
typedef struct {
  uint64_t phyAddr;
  void *virAddr;
  uint32_t memSize;
} hbSysMem;

/** Cache maintenance: INVALIDATE before the CPU reads what the BPU wrote, CLEAN after the CPU wrote. */
typedef enum {
  HB_SYS_MEM_CACHE_INVALIDATE = 1,
  HB_SYS_MEM_CACHE_CLEAN = 2
} hbSysMemFlushFlag;

int32_t hbSysAllocCachedMem(hbSysMem *mem, uint32_t size);
int32_t hbSysFlushMem(hbSysMem *mem, int32_t flag);
int32_t hbSysFreeMem(hbSysMem *mem);

#ifdef __cplusplus
}
#endif

#endif /* SEGSTREAM_TEST_DOUBLE_HB_SYS_H_ */
