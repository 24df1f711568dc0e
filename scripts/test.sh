#!/usr/bin/env bash
# The whole test suite (README: `./scripts/setup.sh && npm test`).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*"; }

step "build the viewer (vite build)"
npx vite build --logLevel warn
step "type-check (tsc --noEmit)"
npx tsc --noEmit -p tsconfig.json
step "unit, integration and browser tests (vitest; browser tests against the deterministic mock server)"
npx vitest run
step "browser tests against the real server"
SEGSTREAM_BROWSER_SERVER=real npx vitest run test/browser/stream.test.ts test/browser/legend.test.ts \
  test/browser/reconnect.test.ts test/browser/controls.test.ts test/browser/snapshot.test.ts
for extra in scripts/native-tests.sh scripts/bpu-header-check.sh scripts/bpu-cross-compile.sh scripts/bpu-asan.sh; do
  if [ -x "$extra" ]; then
    step "$extra"
    "$extra"
  fi
done
