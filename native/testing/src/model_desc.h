// The test double's "models": JSON descriptions of tensors, quantisation, alignment padding and of the
// deterministic function the double computes (see native/testing/README.md for the format).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "dnn/hb_dnn.h"
#include "dnn/hb_dnn_ext.h"
#include "dnn/hb_dnn_status.h"

namespace hbdouble {

struct TensorDesc {
  std::string name;
  hbDNNTensorProperties base{};  // pointer fields are filled by Properties()
  int32_t inputSource = HB_DNN_INPUT_FROM_DDR;  // inputs only (hbDNNGetInputSource)
  std::vector<float> scales;
  std::vector<int8_t> zeroPoints;
  std::vector<uint8_t> shifts;

  // The properties as the API returns them; quantisation pointers point into this object.
  hbDNNTensorProperties Properties() const;
};

// What the double's inference computes, per output element at valid coordinates (c, h, w):
//   in(c', y, x) = input 0's value at channel c' (NV12/YUV444: Y, U, V), row y = h*Hin/Hout, column x = w*Win/Wout
//   affine: r = in(c % Cin, y, x) * gain + c * channelStep + offset
//   bands:  b = clamp(floor(in(sourceChannel, y, x) * classes / 256), 0, classes - 1)
//   grid:   b = (h / cellHeight + w / cellWidth) % classes
//   for bands/grid: r = b for a 1-channel output, otherwise r = high - step * |c - b| (argmax over c is b)
// Integer outputs store floor(r) saturated to the type; float outputs store r.
struct ComputeDesc {
  enum class Kind { Affine, Bands, Grid };
  Kind kind = Kind::Affine;
  double gain = 1, channelStep = 0, offset = 0;
  int classes = 0, sourceChannel = 0, cellHeight = 1, cellWidth = 1;
  double high = 0, step = 1;
};

struct ModelDesc {
  std::string name;
  std::string file;
  std::vector<TensorDesc> inputs;
  std::vector<TensorDesc> outputs;
  ComputeDesc compute;
  int inferDelayMs = 0;
  std::string march;
  // A model built for another chip (march other than bayes-e) that loads and then fails at hbDNNWaitTaskDone,
  // as publicly reported for the X5 runtime; otherwise such a model fails at load.
  bool incompatibleAtWait = false;
};

// A load failure: the API code to return and a sentence saying why (for hbTestDoubleLastError()).
struct LoadError : std::runtime_error {
  int32_t code;
  LoadError(int32_t c, const std::string& why) : std::runtime_error(why), code(c) {}
};

// Reads one model file; throws LoadError.
std::vector<ModelDesc> LoadModelFile(const std::string& path);
// Reads a model description held in memory (hbDNNInitializeFromDDR); `where` names it in messages.
std::vector<ModelDesc> LoadModelText(const std::string& text, const std::string& where);

// Bytes per element of a tensor type (image types count bytes), 0 for 4-bit and unknown types.
int ElementBytes(int32_t tensorType);
const char* TensorTypeName(int32_t tensorType);
// Byte strides, one per validShape dimension: the properties' own, or derived from the aligned shape when they
// are 0 (image inputs). A 3-D validShape with the 4-D alignedShape the runtime always reports is mapped onto it
// by leaving out one size-1 aligned dimension (see AlignedForValid).
std::vector<int64_t> EffectiveStrides(const hbDNNTensorProperties& p);
// The aligned sizes matching each valid dimension, and the aligned dimension left out (-1 when ranks agree).
std::vector<int32_t> AlignedForValid(const hbDNNTensorProperties& p, int* dropped = nullptr);
// Index of H, W and C in a 4-D shape for the layout (NONE is read as NCHW).
struct Axes {
  int n, c, h, w;
};
Axes AxesOf(int32_t layout);

}  // namespace hbdouble
