#!/usr/bin/env bash
# Checks the BPU backend against a set of hb_dnn headers, with the x86-64 and the aarch64 compiler:
#   1. the headers have the RDK X5 runtime's shape: which header declares what, enum values, struct layouts,
#      function types, the infer-control macro (native/testing/conformance/hb_dnn_conformance.cc);
#   2. wrong includes fail to compile as they do on the board (a status code or hbDNNGetErrorDesc with only
#      hb_dnn.h, hbDNNGetInputSource without hb_dnn_ext.h, ...), and so does the macro misused in an if/else;
#   3. every backend source (native/bpu/src, board flavour) compiles with -Werror; against the test double also
#      the test-double flavour, the double itself and bpu_smoke.
#
#   scripts/bpu-header-check.sh                  against segstream's test double (native/testing/include)
#   SEGSTREAM_HB_DNN_INCLUDE=DIR scripts/bpu-header-check.sh
#                                                against the headers in DIR/dnn/ (e.g. a board's /usr/include)
# Environment: CXX_X86_64 (default g++), CXX_AARCH64 (default aarch64-linux-gnu-g++), NODE_INCLUDE (default
# /usr/include/node). Both compilers are required. Exits non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DOUBLE_INCLUDE="$ROOT/native/testing/include"
INCLUDE="${SEGSTREAM_HB_DNN_INCLUDE:-$DOUBLE_INCLUDE}"
INCLUDE="$(cd "$INCLUDE" && pwd)"
NODE_INCLUDE="${NODE_INCLUDE:-/usr/include/node}"
NAPI_INCLUDE="$(cd "$ROOT" && node -p "require('node-addon-api').include_dir")"
CONFORMANCE="$ROOT/native/testing/conformance/hb_dnn_conformance.cc"
COMPILERS=("${CXX_X86_64:-g++}" "${CXX_AARCH64:-aarch64-linux-gnu-g++}")
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

for cxx in "${COMPILERS[@]}"; do
  command -v "$cxx" >/dev/null || { echo "bpu-header-check: $cxx not found (apt-get install g++ g++-aarch64-linux-gnu)" >&2; exit 2; }
done
[[ -f "$INCLUDE/dnn/hb_dnn.h" ]] || { echo "bpu-header-check: no $INCLUDE/dnn/hb_dnn.h" >&2; exit 2; }
[[ -f "$NODE_INCLUDE/node_api.h" ]] || { echo "bpu-header-check: no node_api.h in $NODE_INCLUDE" >&2; exit 2; }

IS_DOUBLE=0
[[ "$INCLUDE" == "$DOUBLE_INCLUDE" ]] && IS_DOUBLE=1
FLAGS=(-std=c++17 -Wall -Wextra -Wno-unused-parameter -Werror -fsyntax-only)
failures=0
fail() {
  echo "bpu-header-check: FAIL: $*" >&2
  failures=$((failures + 1))
}

echo "bpu-header-check: headers $INCLUDE/dnn ($([[ $IS_DOUBLE == 1 ]] && echo "segstream's test double" || echo "given by SEGSTREAM_HB_DNN_INCLUDE"))"
for cxx in "${COMPILERS[@]}"; do
  machine="$("$cxx" -dumpmachine)"
  # 1. Shape of each header.
  for unit in sys status dnn ext; do
    if ! "$cxx" "${FLAGS[@]}" -Wpedantic -I"$INCLUDE" -DHB_CHECK="HB_CHECK_$unit" "$CONFORMANCE" 2>"$OUT/log"; then
      fail "$machine: conformance '$unit':"
      head -20 "$OUT/log" >&2
    fi
  done
  # 2. Must not compile, each for its own reason (the name the compiler complains about).
  while read -r unit expect; do
    if "$cxx" -std=c++17 -fsyntax-only -I"$INCLUDE" -DHB_CHECK="HB_CHECK_$unit" "$CONFORMANCE" 2>"$OUT/log"; then
      fail "$machine: '$unit' compiled, but it must not (as on the board)"
    elif ! grep -q -- "$expect" "$OUT/log"; then
      fail "$machine: '$unit' failed, but not with '$expect':"
      head -5 "$OUT/log" >&2
    fi
  done <<'CASES'
fail_desc_from_dnn hbDNNGetErrorDesc
fail_status_from_dnn HB_DNN_SUCCESS
fail_source_from_dnn hbDNNGetInputSource
fail_tensor_from_sys hbDNNTensor
fail_mem_from_status hbSysMem
fail_macro_if_else else
CASES
  # 3. The backend, -Werror.
  for src in addon bpu_error bpu_model tensor_io tensor_layout; do
    if ! "$cxx" "${FLAGS[@]}" -I"$NODE_INCLUDE" -I"$NAPI_INCLUDE" -I"$INCLUDE" -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS \
      "$ROOT/native/bpu/src/$src.cc" 2>"$OUT/log"; then
      fail "$machine: native/bpu/src/$src.cc (board flavour):"
      head -20 "$OUT/log" >&2
    fi
    if [[ $IS_DOUBLE == 1 ]] && ! "$cxx" "${FLAGS[@]}" -I"$NODE_INCLUDE" -I"$NAPI_INCLUDE" -I"$INCLUDE" -DNAPI_VERSION=8 \
      -DNAPI_CPP_EXCEPTIONS -DSEGSTREAM_HB_DNN_TEST_DOUBLE=1 "$ROOT/native/bpu/src/$src.cc" 2>"$OUT/log"; then
      fail "$machine: native/bpu/src/$src.cc (test-double flavour):"
      head -20 "$OUT/log" >&2
    fi
  done
  if [[ $IS_DOUBLE == 1 ]]; then
    for src in "$ROOT"/native/testing/src/*.cc "$ROOT/native/bpu/tools/bpu_smoke.cc"; do
      if ! "$cxx" "${FLAGS[@]}" -I"$INCLUDE" -I"$ROOT/native/testing/src" -DSEGSTREAM_HB_DNN_TEST_DOUBLE=1 "$src" 2>"$OUT/log"; then
        fail "$machine: ${src#"$ROOT"/}:"
        head -20 "$OUT/log" >&2
      fi
    done
  fi
  echo "bpu-header-check: $machine: $("$cxx" -dumpfullversion) done"
done

if [[ $failures -gt 0 ]]; then
  echo "bpu-header-check: $failures failure(s)" >&2
  exit 1
fi
echo "bpu-header-check: ok (4 header shapes, 6 wrong uses refused, backend -Werror; x86-64 and aarch64)"
