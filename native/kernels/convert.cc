// Element-type conversions of whole tensors: half precision <-> float32, through the instruction set's loop, in
// chunks so that the per-call count stays an int.
#include <algorithm>
#include <climits>

#include "internal.h"

namespace segk {

namespace {
constexpr size_t kChunk = (size_t)1 << 30;
}

void halfToFloat(const uint16_t* src, size_t n, float* dst, Isa isa) {
  const Ops& ops = opsFor(isa);
  for (size_t i = 0; i < n; i += kChunk) ops.halfToFloat(src + i, (int)std::min(kChunk, n - i), dst + i);
}

void floatToHalf(const float* src, size_t n, uint16_t* dst, Isa isa) {
  const Ops& ops = opsFor(isa);
  for (size_t i = 0; i < n; i += kChunk) ops.floatToHalf(src + i, (int)std::min(kChunk, n - i), dst + i);
}

}  // namespace segk
