// The double's deterministic "inference": a function of input 0 that tests can predict (see ComputeDesc).
#pragma once

#include <cstdint>
#include <vector>

#include "model_desc.h"

namespace hbdouble {

// Input 0 as the caller described it (properties from its hbDNNTensor) and the device copies of its planes.
struct InputPlanes {
  hbDNNTensorProperties props;
  const uint8_t* plane0 = nullptr;
  const uint8_t* plane1 = nullptr;  // UV plane for NV12_SEPARATE
};

struct OutputPlane {
  const TensorDesc* desc = nullptr;
  uint8_t* data = nullptr;
  uint32_t size = 0;
};

// Fills every output (padding with the sentinel byte 0xA5, valid region with the function's values).
void Compute(const ModelDesc& model, const InputPlanes& input, const std::vector<OutputPlane>& outputs);

}  // namespace hbdouble
