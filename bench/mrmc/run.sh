#!/usr/bin/env bash
# MRMC and FROC benchmark (issue 7): kizon-stats on seeded synthetic studies.
#
#   Obuchowski–Rockette MRMC, 10 readers × 2 modalities × 10,000 cases, continuous scores
#     and 1–5 ratings, DeLong and jackknife covariances.
#   FROC on 100,000 images (50,000 patients) with 300,000 marks: matching marks to
#     lesions, then FOMs, curves and operating point without and with a 2,000-replicate
#     case bootstrap.
#
# Prints one line per task with kizon's own timer around the statistics (data generation
# excluded), and the wall time and peak RSS of each whole process from /usr/bin/time.
# Not a test: nothing is asserted. Usage: bench/mrmc/run.sh   (env: CARGO_TARGET_DIR)
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
CARGO_TARGET_DIR="$target" cargo build --release --quiet -p kizon-stats --example bench_mrmc
bin="$target/release/examples/bench_mrmc"
echo "kizon-stats MRMC/FROC benchmark, $(date -u +%FT%TZ), $(nproc) cores"
for task in mrmc froc; do
  tv=$(mktemp)
  /usr/bin/time -v -o "$tv" "$bin" "$task"
  awk -F': ' -v task="$task" '
    /Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; wall = s}
    /Maximum resident set size/ {rss = $2 / 1024}
    END {printf "  %s process: wall %.2f s, peak RSS %.0f MiB\n", task, wall, rss}' "$tv"
  rm -f "$tv"
done
