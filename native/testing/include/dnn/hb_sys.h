/*
 * segstream's test double of the RDK X5 runtime's system header (on the board: /usr/include/dnn/hb_sys.h).
 *
 * Shaped after the public facts of hobot-dnn 1.23.10 (D-Robotics x5-hobot-dnn): this file declares the same
 * names, with the same values and signatures, as the board's hb_sys.h, and nothing else, so code that compiles
 * here compiles there. Written by the segstream authors from those facts; it is not the vendor's file. The
 * include graph is the board's too: this header pulls in <stdint.h> only.
 */
#ifndef SEGSTREAM_DOUBLE_DNN_HB_SYS_H_
#define SEGSTREAM_DOUBLE_DNN_HB_SYS_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Which BPU core runs a task (a bit mask; ANY lets the runtime choose). The X5 has one core. */
typedef enum {
  HB_BPU_CORE_ANY = 0,
  HB_BPU_CORE_0 = (1 << 0),
  HB_BPU_CORE_1 = (1 << 1)
} hbBPUCore;

/* Which DSP core runs a task (a placeholder except on chips that have DSPs). */
typedef enum {
  HB_DSP_CORE_ANY = 0,
  HB_DSP_CORE_0 = (1 << 0),
  HB_DSP_CORE_1 = (1 << 1)
} hbDSPCore;

/* Memory the BPU can reach: its physical address (for the device), the CPU mapping and the size in bytes. */
typedef struct {
  uint64_t phyAddr;
  void *virAddr;
  uint32_t memSize;
} hbSysMem;

/* Cache maintenance of cached memory: INVALIDATE before the CPU reads device results, CLEAN after CPU writes. */
typedef enum {
  HB_SYS_MEM_CACHE_INVALIDATE = 1,
  HB_SYS_MEM_CACHE_CLEAN = 2
} hbSysMemFlushFlag;

/* What the hbSys* functions return. They have no describe function of their own. */
typedef enum {
  HB_SYS_SUCCESS = 0,
  HB_SYS_INVALID_ARGUMENT = -6000129,
  HB_SYS_OUT_OF_MEMORY = -6000130,
  HB_SYS_REGISTER_MEM_FAILED = -6000131,
} hbSysStatus;

/* Uncached memory: the CPU and the device see the same bytes, no flush needed. */
int32_t hbSysAllocMem(hbSysMem *mem, uint32_t size);
/* Cached memory: the CPU view must be CLEANed / INVALIDATEd around device use. */
int32_t hbSysAllocCachedMem(hbSysMem *mem, uint32_t size);
int32_t hbSysFlushMem(hbSysMem *mem, int32_t flag);
/* Copies size bytes from src into dest's memory / from src's memory into dest. */
int32_t hbSysWriteMem(hbSysMem *dest, char *src, uint32_t size);
int32_t hbSysReadMem(char *dest, hbSysMem *src, uint32_t size);
int32_t hbSysFreeMem(hbSysMem *mem);
/* Deprecated on the board (kept there for old callers); the double refuses them. */
int32_t hbSysRegisterMem(hbSysMem *mem);
int32_t hbSysUnregisterMem(hbSysMem *mem);

#ifdef __cplusplus
}
#endif

#endif /* SEGSTREAM_DOUBLE_DNN_HB_SYS_H_ */
