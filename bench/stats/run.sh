#!/usr/bin/env bash
# Statistics benchmark: kizon-stats against the peers users would run instead, side by
# side in one run on the same kind of data (N seeded binormal scores, 30% positives,
# score = N(0,1) + truth; each tool draws its own sample with its own generator).
#
#   AUC + DeLong 95% CI at 10^6 and 10^7 scores: kizon vs R pROC 1.18 (roc_proc.R);
#     scikit-learn's roc_auc_score (AUC only, no CI) is listed for reference.
#   2,000 stratified bootstrap replicates on 10^5 cases: kizon vs NumPy/scikit-learn
#     (stats_peer.py roc, vectorised percentile bootstrap).
#
# "seconds" is each tool's own timer around the statistics (data generation excluded);
# wall and peak RSS come from /usr/bin/time -v for the whole process. ratio = peer
# seconds / kizon seconds. A peer that exceeds PEER_TIMEOUT (default 900 s) is reported
# as such, not tuned down.
#
# Usage: bench/stats/run.sh     (env: CARGO_TARGET_DIR, PEERS_VENV, PEER_TIMEOUT)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
peers="$root/bench/peers"
venv="${PEERS_VENV:-/tmp/kizon-peers-venv}"
timeout_s="${PEER_TIMEOUT:-900}"
target="${CARGO_TARGET_DIR:-$root/target}"

if [ ! -x "$venv/bin/python" ] || ! Rscript -e 'library(pROC)' >/dev/null 2>&1; then
  PEERS_VENV="$venv" bash "$peers/setup.sh"
fi
CARGO_TARGET_DIR="$target" cargo build --release --quiet -p kizon-stats --example bench_roc
CARGO_TARGET_DIR="$target" cargo build --release --quiet -p kizon-tables --example bench_csv
CARGO_TARGET_DIR="$target" cargo build --release --quiet -p kizon
kizon="$target/release/examples/bench_roc"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rows="$work/rows.tsv"

# run TASK TOOL JSON_SECONDS_KEY CMD...: one measured process, one row.
run() {
  local task=$1 tool=$2 key=$3
  shift 3
  local out="$work/out" tv="$work/time" status=0
  /usr/bin/time -v -o "$tv" timeout "$timeout_s" "$@" >"$out" 2>"$work/err" || status=$?
  local wall rss secs
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$tv")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$tv")
  if [ "$status" -eq 124 ]; then
    secs="timeout>${timeout_s}"
  elif [ "$status" -ne 0 ]; then
    secs="failed($status)"
    sed 's/^/    /' "$work/err" >&2
  else
    secs=$(python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])[sys.argv[2]])' "$out" "$key")
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$task" "$tool" "$secs" "$wall" "$rss" "$(tail -n 1 "$out" | cut -c1-160)" >>"$rows"
  printf '  %-28s %-32s %s s\n' "$task" "$tool" "$secs" >&2
}

echo "kizon-stats benchmark, $(date -u +%FT%TZ), $(nproc) cores" >&2
for n in 1000000 10000000; do
  task="AUC+DeLong CI n=$n"
  run "$task" "kizon-stats" seconds "$kizon" auc "$n"
  run "$task" "R pROC 1.18 (roc+ci.auc)" seconds Rscript "$peers/roc_proc.R" "$n"
  run "$task" "sklearn roc_auc_score (no CI)" auc_seconds "$venv/bin/python" "$peers/stats_peer.py" roc "$n" --reps 2
done
# `kizon stats roc` on a 2,000,000-row CSV, the whole process (reading, checking, DeLong),
# against pROC's compute alone on the same file (read.csv excluded); the CSV reader's own
# throughput and the peak memory against the file's size.
csv="$work/roc.csv"
python3 "$root/bench/stats/make_csv.py" 2000000 "$csv"
csv_mb=$(python3 -c 'import os, sys; print(f"{os.path.getsize(sys.argv[1]) / 1e6:.1f}")' "$csv")
task="roc CSV 2e6 rows (${csv_mb} MB)"
run "$task" "kizon stats roc (whole process)" wall_seconds bash -c '
  s=$(date +%s.%N); "$0" stats roc --csv "$1" --truth truth --positive 1 --score score --json >/dev/null
  printf "{\"wall_seconds\": %.4f}\n" "$(echo "$(date +%s.%N) - $s" | bc -l)"' "$target/release/kizon" "$csv"
run "$task" "R pROC 1.18 (compute only)" seconds Rscript "$peers/roc_proc.R" "$csv" truth score 1
run "CSV reader (kizon-tables)" "kizon-tables read + parse" seconds "$target/release/examples/bench_csv" "$csv" truth score
csv_reader=$(python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["mb_per_s"])' "$work/out")

task="bootstrap 2000 reps n=100000"
run "$task" "kizon-stats (percentile+BCa)" seconds "$kizon" bootstrap 100000 2000
run "$task" "NumPy/sklearn (percentile)" bootstrap_seconds "$venv/bin/python" "$peers/stats_peer.py" roc 100000

python3 - "$rows" <<'EOF'
import sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
def num(s):
    try:
        return float(s)
    except ValueError:
        return None
kizon = {r[0]: num(r[2]) for r in rows if r[1].startswith("kizon")}
print(f"\n{'task':<30} {'tool':<32} {'seconds':>12} {'wall s':>8} {'peak MB':>8} {'peer/kizon':>10}")
for task, tool, secs, wall, rss, _ in rows:
    s, k = num(secs), kizon.get(task)
    ratio = "" if tool.startswith("kizon") or s is None or not k else f"{s / k:.1f}x"
    print(f"{task:<30} {tool:<32} {secs:>12} {wall:>8} {rss:>8} {ratio:>10}")
print("\nraw output (last line of each tool):")
for task, tool, *_, raw in rows:
    print(f"  {tool}: {raw}")
EOF
printf '\nCSV reader: %s MB/s (goal >= 200); the whole-process roc peak MB above against the file (goal <= 3x %s MB)\n' "$csv_reader" "$csv_mb"
