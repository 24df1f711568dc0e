#!/usr/bin/env bash
# Native code without Node: the kernels (SIMD vs scalar, sanitizers, scalar-only, NEON under qemu, no-AVX2 CPU),
# the BPU backend against the vendor-shaped hb_dnn headers (-Werror, x86-64 and aarch64), its aarch64 cross build,
# and the BPU tests under AddressSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
for script in scripts/native-tests.sh scripts/bpu-header-check.sh scripts/bpu-cross-compile.sh scripts/bpu-asan.sh; do
  printf '\n== %s\n' "$script"
  "$script"
done
