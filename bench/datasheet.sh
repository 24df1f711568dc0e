#!/usr/bin/env bash
# The datasheet runs behind docs/performance.md. Each run appends a CSV row to bench/results/bench.csv and
# writes its full JSON (and its HTML datasheet beside it) into bench/results/: named here with --out/--csv,
# since `segstream bench` on its own never writes into the checkout. Run it on an otherwise idle machine; on a board, add
# `--model your.bin --backend bpu` to the bench lines (see docs/rdk-x5.md).
# Every run interleaves [pipeline | model-only] rounds (docs/performance.md, "Method: interleaved rounds"): the
# end-to-end / model-only and frame age p99 / model p50 ratios come with a 95% interval over the rounds.
#   bench/datasheet.sh            # the standard runs (several minutes; transformers.js alone takes about 2.5)
#   bench/datasheet.sh --long     # also the 10-minute memory run
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/results
mkdir -p "$out"
run() { local name=$1; shift; echo "== $name: segstream bench $*" >&2; node bin/segstream.js bench "$@" --out "$out/$name.json" --csv "$out/bench.csv"; }

# 1280x720 test source at 30 fps through the SegFormer-B0-shaped demo model, boundary-exact post-processing,
# server overlay on, with the peers (transformers.js, a hand-written onnxruntime-node loop) on the same frames.
# 6 rounds of 20 measured frames and 10 model-only runs; each round's server warms up on 5 frames.
run e2e-720p --size 1280x720 --rounds 6 --frames 120 --warmup 5 --model-only-runs 60 --peers 20
# The same with ONNX Runtime's memory arena off (and glibc's malloc arenas capped): speed and RSS side by side.
run e2e-720p-arena-off --size 1280x720 --rounds 6 --frames 120 --warmup 5 --model-only-runs 60 --memory-arena off
# The same with the viewer in headless Chromium: glass-to-glass frame age (capture -> drawn).
run e2e-720p-browser --size 1280x720 --rounds 6 --frames 120 --warmup 5 --model-only-runs 30 --browser
# Threads: one intra-op thread leaves a core for the rest of the pipeline.
run e2e-720p-1thread --size 1280x720 --rounds 5 --frames 60 --warmup 5 --model-only-runs 30 --threads 1
# Post-processing modes and the client-side overlay.
run e2e-720p-exact --size 1280x720 --rounds 5 --frames 60 --warmup 5 --model-only-runs 30 --postprocess exact
run e2e-720p-lowres-nooverlay --size 1280x720 --rounds 5 --frames 60 --warmup 5 --model-only-runs 30 --postprocess lowres --overlay client
if [ "${1:-}" = "--long" ]; then
  # One continuous server for 10 minutes (--rounds 1: memory flat over time is the point; no ratio interval).
  run e2e-720p-10min --size 1280x720 --rounds 1 --duration 600 --warmup 10 --model-only-runs 30
fi
