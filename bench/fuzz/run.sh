#!/usr/bin/env bash
# Hostile-input benchmark: every parser and decoder that takes outside bytes (DICOM and the
# formats `inspect` recognises, the pixel codecs, DICOM waveforms, EDF/BDF, WFDB header, signal
# and annotations, MFER, CSV imports, marks JSON/COCO, study.toml) run over INPUTS mutated real
# files each (default 1,000,000), seeded (default 1) so that a failure is reproduced by its
# seed and iteration. Prints per parser the inputs, panics, slowest input and inputs/s; inputs
# that panicked are kept in fuzz-crashes/ (copy them to crates/kizon-fuzz/tests/regressions/
# with the fix). CI runs a fixed-seed sample of 10,000 per parser (`cargo test -p kizon-fuzz`).
#
# Usage: bench/fuzz/run.sh [INPUTS] [SEED]     (env: CARGO_TARGET_DIR)
set -euo pipefail
cd "$(dirname "$0")/../.."
inputs="${1:-1000000}"
seed="${2:-1}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
CARGO_TARGET_DIR="$target" cargo build --release --quiet -p kizon-fuzz
# One input at a time, so the run's peak resident memory bounds every input's (the goal is
# 256 MB); the address space is capped at 2 GiB so that a runaway allocation fails here.
ulimit -v $((2 * 1024 * 1024))
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f "peak resident memory: %M KB" \
    "$target/release/kizon-fuzz" --inputs "$inputs" --seed "$seed" --crashes fuzz-crashes
else
  "$target/release/kizon-fuzz" --inputs "$inputs" --seed "$seed" --crashes fuzz-crashes
fi
