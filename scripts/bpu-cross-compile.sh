#!/usr/bin/env bash
# Compile/link check of the BPU backend for the RDK X5's architecture (aarch64) with Debian's cross compiler,
# against the test double's hb_dnn headers, which have the board headers' shape (scripts/bpu-header-check.sh checks
# that shape and compiles the backend with -Werror for x86-64 and aarch64, also against a board's headers):
#   1. the hb_dnn test double as libdnn.so;
#   2. the addon as the board build makes it (no test-double define, -ldnn -lpthread -lrt -ldl,
#      -Wl,--allow-shlib-undefined), Node headers from /usr/include/node; also proves that the vendor samples'
#      -Wl,-unresolved-symbols=ignore-in-shared-libs must NOT be used for an addon (it makes Node's N-API symbols,
#      resolved only when node loads the addon, link errors);
#   3. the addon as the off-board build makes it (test-double controls compiled in, $ORIGIN rpath);
#   4. bpu_smoke, a Node-free check of the backend core, which is also run under qemu-aarch64 when available.
#
#   scripts/bpu-cross-compile.sh            (output in ${SEGSTREAM_CROSS_DIR:-/tmp/segstream-bpu-aarch64})
# Environment: CXX_AARCH64 (default aarch64-linux-gnu-g++), NODE_INCLUDE (default /usr/include/node).
# Exits non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${SEGSTREAM_CROSS_DIR:-/tmp/segstream-bpu-aarch64}"
CXX="${CXX_AARCH64:-aarch64-linux-gnu-g++}"
NODE_INCLUDE="${NODE_INCLUDE:-/usr/include/node}"
NAPI_INCLUDE="$(cd "$ROOT" && node -p "require('node-addon-api').include_dir")"
command -v "$CXX" >/dev/null || { echo "bpu-cross-compile: $CXX not found (apt-get install g++-aarch64-linux-gnu)" >&2; exit 2; }
[[ -f "$NODE_INCLUDE/node_api.h" ]] || { echo "bpu-cross-compile: no node_api.h in $NODE_INCLUDE" >&2; exit 2; }

rm -rf "$OUT"
mkdir -p "$OUT/double" "$OUT/board" "$OUT/offboard" "$OUT/smoke"
FLAGS=(-std=c++17 -O2 -fPIC -Wall -Wextra -Wno-unused-parameter -Werror -pthread)
DOUBLE_SRC=(compute double json model_desc)
CORE_SRC=(bpu_error bpu_model tensor_io tensor_layout)

echo "bpu-cross-compile: $($CXX --version | head -1)"
step() { echo "bpu-cross-compile: $*"; }

step "1/4 test double -> libdnn.so"
for s in "${DOUBLE_SRC[@]}"; do
  "$CXX" "${FLAGS[@]}" -fvisibility=hidden -I"$ROOT/native/testing/include" -c "$ROOT/native/testing/src/$s.cc" -o "$OUT/double/$s.o"
done
"$CXX" -shared -pthread -Wl,-soname,libdnn.so -o "$OUT/double/libdnn.so" "$OUT"/double/*.o

ADDON_INC=(-I"$NODE_INCLUDE" -I"$NAPI_INCLUDE" -I"$ROOT/native/testing/include" -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS)

step "2/4 addon, board flavour (vendor-style link against libdnn)"
for s in addon "${CORE_SRC[@]}"; do
  "$CXX" "${FLAGS[@]}" "${ADDON_INC[@]}" -c "$ROOT/native/bpu/src/$s.cc" -o "$OUT/board/$s.o"
done
# Node's N-API symbols are resolved by the node executable at load time, as for every addon.
"$CXX" -shared -pthread -o "$OUT/board/segstream_bpu.node" "$OUT"/board/*.o -L"$OUT/double" \
  -ldnn -lpthread -lrt -ldl -Wl,--allow-shlib-undefined
if "$CXX" -shared -pthread -o "$OUT/board/vendor-flag.node" "$OUT"/board/*.o -L"$OUT/double" \
  -ldnn -lpthread -lrt -ldl -Wl,-unresolved-symbols=ignore-in-shared-libs >"$OUT/board/vendor-flag.log" 2>&1; then
  echo "bpu-cross-compile: note: the link with -unresolved-symbols=ignore-in-shared-libs succeeded with this toolchain"
else
  echo "bpu-cross-compile: (as expected) -unresolved-symbols=ignore-in-shared-libs breaks an addon link: $(grep -c 'undefined reference to .napi_' "$OUT/board/vendor-flag.log") undefined napi_* references"
fi

step "3/4 addon, off-board flavour (test-double controls, \$ORIGIN rpath)"
for s in addon "${CORE_SRC[@]}"; do
  "$CXX" "${FLAGS[@]}" "${ADDON_INC[@]}" -DSEGSTREAM_HB_DNN_TEST_DOUBLE=1 -c "$ROOT/native/bpu/src/$s.cc" -o "$OUT/offboard/$s.o"
done
"$CXX" -shared -pthread -o "$OUT/offboard/segstream_bpu.node" "$OUT"/offboard/*.o -L"$OUT/double" -ldnn -Wl,-rpath,'$ORIGIN'

step "4/4 bpu_smoke (backend core without Node)"
CORE_FILES=()
for s in "${CORE_SRC[@]}"; do CORE_FILES+=("$ROOT/native/bpu/src/$s.cc"); done
"$CXX" "${FLAGS[@]}" -I"$ROOT/native/testing/include" -DSEGSTREAM_HB_DNN_TEST_DOUBLE=1 \
  "$ROOT/native/bpu/tools/bpu_smoke.cc" "${CORE_FILES[@]}" -L"$OUT/double" -ldnn -Wl,-rpath,'$ORIGIN/../double' \
  -o "$OUT/smoke/bpu_smoke"

for f in double/libdnn.so board/segstream_bpu.node offboard/segstream_bpu.node smoke/bpu_smoke; do
  desc="$(file -b "$OUT/$f")"
  [[ "$desc" == *"ARM aarch64"* ]] || { echo "bpu-cross-compile: $f is not an aarch64 ELF: $desc" >&2; exit 1; }
  echo "bpu-cross-compile: $f: ${desc%%, BuildID*}"
done
if [[ "$(aarch64-linux-gnu-readelf -d "$OUT/board/segstream_bpu.node")" != *"libdnn.so"* ]]; then
  echo "bpu-cross-compile: board addon does not depend on libdnn.so" >&2
  exit 1
fi

QEMU="$(command -v qemu-aarch64 || command -v qemu-aarch64-static || true)"
SYSROOT=/usr/aarch64-linux-gnu
if [[ -n "$QEMU" && -d "$SYSROOT" ]]; then
  step "running bpu_smoke under $(basename "$QEMU") (sysroot $SYSROOT)"
  "$QEMU" -L "$SYSROOT" "$OUT/smoke/bpu_smoke" "$ROOT/test/fixtures/bpu"
else
  step "qemu-aarch64 or $SYSROOT missing: bpu_smoke built, not run"
fi
echo "bpu-cross-compile: ok ($OUT)"
