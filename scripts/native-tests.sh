#!/usr/bin/env bash
# Standalone tests of the native frame kernels (no Node):
#   1. native build (SIMD of this CPU vs scalar, fuzzed sizes/strides/values, reference ports)
#   2. the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   3. a scalar-only build (-DSEGK_FORCE_SCALAR: no SIMD tables compiled in) whose outputs are checked as well
#   4. an aarch64 cross build (NEON path) run under qemu-user
#   5. an unoptimised x86-64 build run on an emulated CPU without AVX2 (qemu-x86_64 -cpu Nehalem): the scalar path
#      must not pick up an AVX2-compiled copy of a shared inline function (see the top of ops_avx2.cc)
# Exits non-zero on the first failing stage. Options via env: SEED (default 12345), ITER (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=.cache/native-tests
mkdir -p "$OUT"
SEED=${SEED:-12345}
ITER=${ITER:-60}
SOURCES=$(ls native/kernels/*.cc | grep -v '/addon.cc$')
TEST=native/kernels/tests/kernel_tests.cc
FLAGS=(-std=c++17 -ffp-contract=off -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Inative/kernels)

step() { printf '\n== %s\n' "$*"; }

step "native x86-64 build (-O2), SIMD vs scalar"
g++ "${FLAGS[@]}" -O2 $SOURCES "$TEST" -o "$OUT/kernel_tests"
"$OUT/kernel_tests" --seed "$SEED" --iterations "$ITER"

step "ASan + UBSan build"
g++ "${FLAGS[@]}" -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
  $SOURCES "$TEST" -o "$OUT/kernel_tests_asan"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$OUT/kernel_tests_asan" --seed "$((SEED + 1))" --iterations "$((ITER / 2))"

step "scalar-only build (no SIMD compiled in)"
g++ "${FLAGS[@]}" -O2 -DSEGK_FORCE_SCALAR $SOURCES "$TEST" -o "$OUT/kernel_tests_scalar"
"$OUT/kernel_tests_scalar" --seed "$((SEED + 2))" --iterations "$((ITER / 2))"

step "aarch64 cross build (NEON) under qemu-aarch64"
if command -v aarch64-linux-gnu-g++ >/dev/null && command -v qemu-aarch64 >/dev/null; then
  aarch64-linux-gnu-g++ "${FLAGS[@]}" -O2 $SOURCES "$TEST" -o "$OUT/kernel_tests_aarch64"
  qemu-aarch64 -L /usr/aarch64-linux-gnu "$OUT/kernel_tests_aarch64" --seed "$((SEED + 3))" --iterations "$((ITER / 2))"
else
  echo "aarch64-linux-gnu-g++ or qemu-aarch64 missing" >&2
  exit 1
fi

step "x86-64 -O0 build on a CPU without AVX2 (qemu-x86_64 -cpu Nehalem)"
if [ "$(uname -m)" = x86_64 ]; then
  command -v qemu-x86_64 >/dev/null || { echo "qemu-x86_64 missing (Debian package qemu-user)" >&2; exit 1; }
  g++ "${FLAGS[@]}" -O0 $SOURCES "$TEST" -o "$OUT/kernel_tests_O0"
  qemu-x86_64 -cpu Nehalem "$OUT/kernel_tests_O0" --seed "$((SEED + 4))" --iterations 3
fi

step "all native kernel tests passed"
