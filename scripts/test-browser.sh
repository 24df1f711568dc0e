#!/usr/bin/env bash
# Browser tests in Debian's Chromium: first against the deterministic mock server (every viewer feature), then the
# ones that matter end to end against the real server (real GStreamer, ONNX Runtime, WebSocket).
set -euo pipefail
cd "$(dirname "$0")/.."
npx vite build --logLevel warn
npx vitest run test/browser --exclude test/browser/aspect.test.ts  # real-server only (below)
SEGSTREAM_BROWSER_SERVER=real npx vitest run test/browser/stream.test.ts test/browser/legend.test.ts \
  test/browser/reconnect.test.ts test/browser/controls.test.ts test/browser/snapshot.test.ts test/browser/smoothing.test.ts \
  test/browser/aspect.test.ts
