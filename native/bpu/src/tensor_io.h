// Moving data between JavaScript buffers and BPU memory: inputs are written into the model's aligned layout,
// outputs are read back through the strides (valid region only) and dequantised or passed on as raw integers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor_layout.h"

namespace segbpu {

struct Nv12Source {
  const uint8_t* data;
  size_t length;
  int width, height;
  int64_t strideY, strideUV, offsetUV;
};

// Throws BpuError("invalid-argument") when a plane would be read past `length`.
void CheckNv12Bounds(const Nv12Source& src);

// Packed NV12 (Y rows then UV rows, no padding) of width x height.
void CopyNv12Packed(const Nv12Source& src, uint8_t* dst);
// Y and UV planes with row stride `stride` each (a single block copy when the source already has it).
void CopyNv12Planes(const Nv12Source& src, int64_t stride, uint8_t* dstY, uint8_t* dstUV);

// A contiguous tensor of the valid shape into the aligned layout (padding is left as it is).
void WriteTensor(const TensorSpec& t, const uint8_t* src, uint8_t* dst);

// Output element types segstream hands to JavaScript.
enum class OutputType { Float32 = 0, Int8 = 1, Uint8 = 2, Int16 = 3, Int32 = 4 };
int OutputTypeBytes(OutputType t);

// Reads the valid region of an output. Float32 dequantises (SCALE, SHIFT, or NONE for float and plain integer
// tensors); the integer types copy raw values, saturating when the destination is narrower.
void ReadOutput(const TensorSpec& t, const uint8_t* src, OutputType type, void* dst);

}  // namespace segbpu
