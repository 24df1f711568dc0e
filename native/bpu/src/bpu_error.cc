#include "bpu_error.h"

#include <cstring>

// On the board hbDNNGetErrorDesc and the HB_DNN_* codes are declared only in hb_dnn_status.h, which hb_dnn.h does
// not include; the HB_SYS_* codes are in hb_sys.h.
#include "dnn/hb_dnn_status.h"
#include "dnn/hb_sys.h"
#ifdef SEGSTREAM_HB_DNN_TEST_DOUBLE
#include "dnn/hb_dnn_test_double.h"
#endif

namespace segbpu {

std::string DescribeStatus(int32_t rc, const char* call) {
  // hbSys* calls return HB_SYS_* codes, which hbDNNGetErrorDesc is not documented to describe: name them here.
  if (std::strncmp(call, "hbSys", 5) == 0) {
    switch (rc) {
      case HB_SYS_INVALID_ARGUMENT: return "HB_SYS_INVALID_ARGUMENT: invalid argument";
      case HB_SYS_OUT_OF_MEMORY: return "HB_SYS_OUT_OF_MEMORY: out of BPU memory";
      case HB_SYS_REGISTER_MEM_FAILED: return "HB_SYS_REGISTER_MEM_FAILED: registering memory failed";
      default: break;  // not an HB_SYS code: fall through to the DNN description
    }
  }
  const char* desc = hbDNNGetErrorDesc(rc);
  return desc && *desc ? desc : "no description";
}

std::string DescribeCall(int32_t rc, const char* call, const std::string& subject) {
  std::string msg = std::string(call) + " failed with code " + std::to_string(rc) + " (" + DescribeStatus(rc, call) + ") for " + subject;
#ifdef SEGSTREAM_HB_DNN_TEST_DOUBLE
  const char* detail = hbTestDoubleLastError();
  if (detail && *detail) msg += " [test double: " + std::string(detail) + "]";
#endif
  return msg;
}

void CheckCall(int32_t rc, const char* call, const std::string& subject) {
  if (rc != 0) throw BpuError("hb-call", DescribeCall(rc, call, subject), call, rc);
}

}  // namespace segbpu
