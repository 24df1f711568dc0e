// Errors of the BPU backend. Every failing hb_dnn / hb_sys call becomes a BpuError naming the call, its return
// code, the runtime's description of the code and the model (file) it concerned.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace segbpu {

class BpuError : public std::runtime_error {
 public:
  // reason: a stable identifier for the kind of failure ("hb-call", "unsupported-input-type", ...).
  BpuError(std::string reason, const std::string& message, std::string call = "", int32_t status = 0)
      : std::runtime_error(message), reason(std::move(reason)), call(std::move(call)), status(status) {}
  std::string reason;
  std::string call;  // the hb_dnn / hb_sys function, for reason "hb-call"
  int32_t status;    // its return code
};

// The description of a return code: HB_SYS_* codes of hbSys* calls by name, anything else by hbDNNGetErrorDesc.
std::string DescribeStatus(int32_t rc, const char* call);
// Throws a BpuError when rc != 0. `subject` says what the call concerned, e.g. "model 'seg' in 'a.bin'".
void CheckCall(int32_t rc, const char* call, const std::string& subject);
// The message CheckCall would throw, without throwing (for clean-up paths that collect errors).
std::string DescribeCall(int32_t rc, const char* call, const std::string& subject);

}  // namespace segbpu
