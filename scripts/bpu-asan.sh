#!/usr/bin/env bash
# Builds the BPU addon and the hb_dnn test double with AddressSanitizer (+ LeakSanitizer) into a separate
# directory and runs, with Node preloading libasan:
#   1. the BPU tests (vitest, test/stages/infer/bpu): any ASan error fails;
#   2. test/stages/infer/bpu/asan-workload.ts, a plain script driving every path and exiting normally, so the exit-time leak
#      check sees the whole process: any leak whose allocation passes through the addon or the double fails
#      (Node and V8 leak plenty by design at exit; those records are counted and ignored);
#   3. the same workload with a deliberate 48-byte leak inside the double: the leak check must report it, or it
#      is blind (no LeakSanitizer at exit, or a filter that misses our libraries).
#
#   scripts/bpu-asan.sh
# Environment: SEGSTREAM_BPU_ASAN_DIR (default /tmp/segstream-bpu-asan), NODE_GYP (default: npx --yes node-gyp).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${SEGSTREAM_BPU_ASAN_DIR:-/tmp/segstream-bpu-asan}"
LOGS="$OUT/logs"
LIBASAN="$(gcc -print-file-name=libasan.so)"
if [[ ! -f "$LIBASAN" ]]; then
  echo "bpu-asan: libasan.so not found (gcc -print-file-name=libasan.so gave '$LIBASAN')" >&2
  exit 2
fi

# A copy of the sources, so the normal build in native/bpu/build is left alone.
rm -rf "$OUT"
mkdir -p "$OUT/native/bpu" "$LOGS/tests" "$LOGS/workload" "$LOGS/canary"
cp -r "$ROOT/native/testing" "$OUT/native/testing"
cp -r "$ROOT/native/bpu/src" "$ROOT/native/bpu/binding.gyp" "$ROOT/native/bpu/detect-hb-dnn.cjs" "$OUT/native/bpu/"

SAN="-fsanitize=address -fno-omit-frame-pointer -g -O1"
echo "bpu-asan: building into $OUT/native/bpu/build ($SAN)"
(
  cd "$ROOT" # so npx finds the project's npm configuration
  export NODE_PATH="$ROOT/node_modules" # binding.gyp resolves node-addon-api from the copy's directory
  CFLAGS="$SAN" CXXFLAGS="$SAN" LDFLAGS="-fsanitize=address" ${NODE_GYP:-npx --yes node-gyp} rebuild --directory "$OUT/native/bpu" >"$LOGS/build.log" 2>&1
) || {
  tail -40 "$LOGS/build.log" >&2
  echo "bpu-asan: build failed (log: $LOGS/build.log)" >&2
  exit 1
}

ADDON="$OUT/native/bpu/build/Release/segstream_bpu.node"
if [[ "$(nm -D "$ADDON")" != *__asan_init* ]]; then
  echo "bpu-asan: $ADDON is not instrumented" >&2
  exit 1
fi

SYMBOLIZER="$(command -v llvm-symbolizer || command -v llvm-symbolizer-14 || true)"
if [[ -n "$SYMBOLIZER" ]]; then export ASAN_SYMBOLIZER_PATH="$SYMBOLIZER"; fi
export SEGSTREAM_BPU_ADDON="$ADDON"
# Leaks never change exit codes (they are judged from the logs below); ASan errors stop the process.
export LSAN_OPTIONS="exitcode=0:report_objects=0"
asan_options() { echo "detect_leaks=1:halt_on_error=1:detect_odr_violation=0:log_path=$1/asan"; }

# Prints the verdict for a log directory: "<errors> <leaks through our code> <other leak records>".
judge() {
  node - "$1" <<'JS'
const fs = require('node:fs');
const path = require('node:path');
const dir = process.argv[2];
// Our code shows up as module paths when frames are not symbolised, as source files when they are.
const ours = /segstream_bpu\.node|libdnn\.so|node-addon-api|\b(addon|bpu_error|bpu_model|tensor_io|tensor_layout|double|compute|json|model_desc)\.(cc|h):/;
let errors = 0, leaks = 0, foreign = 0;
for (const f of fs.readdirSync(dir).filter((n) => n.startsWith('asan.'))) {
  const text = fs.readFileSync(path.join(dir, f), 'utf8');
  for (const m of text.matchAll(/ERROR: AddressSanitizer: ([^\n]*)/g)) {
    errors++;
    console.error(`bpu-asan: ${dir}/${f}: AddressSanitizer: ${m[1]}`);
  }
  for (const block of text.split(/\n(?=(?:Direct|Indirect) leak of )/).slice(1)) {
    const frames = block.split('\n\n')[0];
    if (ours.test(frames)) {
      leaks++;
      if (!dir.endsWith('canary')) console.error(`bpu-asan: ${dir}/${f}: leak through segstream code:\n${frames}\n`);
    } else {
      foreign++;
    }
  }
}
console.log(`${errors} ${leaks} ${foreign}`);
JS
}

cd "$ROOT"
status=0

echo "bpu-asan: 1/3 vitest run test/stages/infer/bpu"
if ! ASAN_OPTIONS="$(asan_options "$LOGS/tests")" LD_PRELOAD="$LIBASAN" npx vitest run test/stages/infer/bpu; then
  echo "bpu-asan: tests failed under ASan" >&2
  status=1
fi
read -r e l f <<<"$(judge "$LOGS/tests")"
echo "bpu-asan: tests: $e ASan error(s) ($l leak record(s) through segstream code, $f elsewhere; leaks are judged in step 2)"
[[ $e -eq 0 ]] || status=1

echo "bpu-asan: 2/3 asan-workload"
if ! ASAN_OPTIONS="$(asan_options "$LOGS/workload")" LD_PRELOAD="$LIBASAN" node --import tsx test/stages/infer/bpu/asan-workload.ts; then
  echo "bpu-asan: workload failed under ASan" >&2
  status=1
fi
read -r e l f <<<"$(judge "$LOGS/workload")"
echo "bpu-asan: workload: $e ASan error(s), $l leak(s) through segstream code, $f leak record(s) elsewhere (Node/V8, ignored)"
[[ $e -eq 0 && $l -eq 0 ]] || status=1

echo "bpu-asan: 3/3 canary (a deliberate leak inside the double)"
SEGSTREAM_ASAN_CANARY=1 ASAN_OPTIONS="$(asan_options "$LOGS/canary")" LD_PRELOAD="$LIBASAN" node --import tsx test/stages/infer/bpu/asan-workload.ts >/dev/null || status=1
read -r e l f <<<"$(judge "$LOGS/canary")"
if [[ $l -gt 0 ]]; then
  echo "bpu-asan: canary: the leak check reported the deliberate leak ($l record(s)): it works"
else
  echo "bpu-asan: canary: the deliberate leak was NOT reported: the leak check is blind" >&2
  status=1
fi

[[ $status -eq 0 ]] && echo "bpu-asan: clean" || echo "bpu-asan: FAILED (logs: $LOGS)" >&2
exit $status
