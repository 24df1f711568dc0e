#include "bpu_error.h"

#include "dnn/hb_dnn.h"
#ifdef SEGSTREAM_HB_DNN_TEST_DOUBLE
#include "dnn/hb_dnn_test_double.h"
#endif

namespace segbpu {

std::string DescribeCall(int32_t rc, const char* call, const std::string& subject) {
  const char* desc = hbDNNGetErrorDesc(rc);
  std::string msg = std::string(call) + " failed with code " + std::to_string(rc) + " (" +
                    (desc && *desc ? desc : "no description") + ") for " + subject;
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
