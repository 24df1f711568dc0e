#!/usr/bin/env bash
# The whole test suite (README: `./scripts/setup.sh && npm test`). Each part also runs on its own:
# npm run check | test:unit | test:integration | test:browser | test:native.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*"; }

step "static checks (npm run check)"
npm run --silent check
step "unit tests (npm run test:unit)"
npm run --silent test:unit
step "integration and reliability tests: real GStreamer, ONNX Runtime, WebSocket (npm run test:integration)"
npm run --silent test:integration
step "browser tests in Chromium (npm run test:browser)"
npm run --silent test:browser
step "native tests (npm run test:native)"
npm run --silent test:native
