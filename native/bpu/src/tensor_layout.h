// What the backend needs to know about one model tensor, copied out of hbDNNTensorProperties at load, and the
// checks that reject properties it could not read safely.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dnn/hb_dnn.h"

namespace segbpu {

struct TensorSpec {
  std::string name;
  hbDNNTensorProperties props{};  // as the runtime returned them (pointer fields owned by the runtime)
  std::vector<int32_t> validShape, alignedShape;  // as reported (alignedShape is 4-D on the X5 runtime)
  // The aligned size of each valid dimension. Equal ranks map one to one; a 3-D validShape (e.g. a (1,H,W)
  // class map) with the 4-D alignedShape the runtime always reports leaves out one size-1 aligned dimension.
  std::vector<int32_t> alignedForValid;
  std::vector<int64_t> strides;  // byte strides per valid dimension: the runtime's, or derived when it gives zeros
  int elementBytes = 0;
  // Quantisation copied out: scales/zero points (SCALE) or shifts (SHIFT), per tensor (1) or along `axis`.
  std::vector<float> scales;
  std::vector<int32_t> zeroPoints;
  std::vector<int32_t> shifts;
  int axis = -1;  // -1 when per-tensor

  int64_t ValidElements() const;
  // One past the last byte of the valid region, read through the strides.
  int64_t ValidExtent() const;
};

const char* TensorTypeName(int32_t type);  // "HB_DNN_IMG_TYPE_NV12", "HB_DNN_TENSOR_TYPE_S32", ...
const char* LayoutName(int32_t layout);    // "NHWC", "NCHW", "NONE"
int ElementBytes(int32_t type);            // 0 for 4-bit and unknown types
bool IsNv12(int32_t type);
bool IsIntegerType(int32_t type);

struct Axes {
  int c, h, w;
};
// Channel/height/width axes of a 4-D tensor for its layout (NONE reads as NCHW).
Axes AxesOf(int32_t layout);

// Builds a TensorSpec and checks it; `subject` names the tensor in messages. Throws BpuError("invalid-properties").
TensorSpec MakeTensorSpec(const std::string& name, const hbDNNTensorProperties& p, const std::string& subject);

}  // namespace segbpu
