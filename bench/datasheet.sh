#!/usr/bin/env bash
# The datasheet runs behind docs/performance.md. Each run appends a CSV row to bench/results/bench.csv and
# writes its full JSON (and its HTML datasheet beside it) into bench/results/: named here with --out/--csv,
# since `segstream bench` on its own never writes into the checkout. Run it on an otherwise idle machine; on a board, add
# `--model your.bin --backend bpu` to the bench lines (see docs/rdk-x5.md).
#   bench/datasheet.sh            # the standard runs (about 5 minutes here)
#   bench/datasheet.sh --long     # also the 10-minute memory run
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/results
mkdir -p "$out"
run() { local name=$1; shift; echo "== $name: segstream bench $*" >&2; node bin/segstream.js bench "$@" --out "$out/$name.json" --csv "$out/bench.csv"; }

# 1280x720 test source at 30 fps through the SegFormer-B0-shaped demo model, boundary-exact post-processing,
# server overlay on, with the peers (transformers.js, a hand-written onnxruntime-node loop) on the same frames.
run e2e-720p --size 1280x720 --frames 120 --warmup 10 --model-only-runs 60 --peers 20
# The same with the viewer in headless Chromium: glass-to-glass frame age (capture -> drawn).
run e2e-720p-browser --size 1280x720 --frames 120 --warmup 10 --model-only-runs 30 --browser
# Threads: one intra-op thread leaves a core for the rest of the pipeline.
run e2e-720p-1thread --size 1280x720 --frames 60 --warmup 5 --model-only-runs 30 --threads 1
# Post-processing modes and the client-side overlay.
run e2e-720p-exact --size 1280x720 --frames 60 --warmup 5 --model-only-runs 30 --postprocess exact
run e2e-720p-lowres-nooverlay --size 1280x720 --frames 60 --warmup 5 --model-only-runs 30 --postprocess lowres --overlay client
if [ "${1:-}" = "--long" ]; then
  run e2e-720p-10min --size 1280x720 --duration 600 --warmup 10 --model-only-runs 30
fi
