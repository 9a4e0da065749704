#!/usr/bin/env bash
# Passing-Bablok benchmark (issue 16): `kizon stats method-comparison --method passing-bablok`
# against methcomp 1.0.0 (PyPI; bench/peers/method_comparison_peer.py), side by side in one
# run on the same CSV files of N seeded pairs (proportional error, two decimals). kizon counts
# slopes by inversions in O(n log n) per count; methcomp lists all n(n-1)/2 slopes in Python.
# kizon's seconds are the whole command (CSV read included); methcomp's its own timer around
# the computation. At N = 100,000 methcomp would need 5·10⁹ slopes: kizon runs alone there.
#
# Usage: bench/method-comparison/run.sh     (env: CARGO_TARGET_DIR, PEERS_VENV, PEER_TIMEOUT)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
venv="${PEERS_VENV:-/tmp/kizon-peers-venv}"
timeout_s="${PEER_TIMEOUT:-900}"
target="${CARGO_TARGET_DIR:-$root/target}"
[ -x "$venv/bin/python" ] || PEERS_VENV="$venv" bash "$root/bench/peers/setup.sh"
"$venv/bin/python" -c 'import methcomp' 2>/dev/null || "$venv/bin/pip" install -q methcomp==1.0.0
CARGO_TARGET_DIR="$target" cargo build --release --quiet -p kizon
kizon="$target/release/kizon"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work" <<'PY'
import random, sys
for n in (1000, 10000, 100000):
    rng = random.Random(n)
    with open(f"{sys.argv[1]}/pairs-{n}.csv", "w") as f:
        f.write("x,y\n")
        for _ in range(n):
            t = rng.uniform(1, 100)
            f.write(f"{t * (1 + rng.gauss(0, 0.05)):.2f},{0.5 + 1.05 * t * (1 + rng.gauss(0, 0.05)):.2f}\n")
PY

printf '%-8s %14s %14s %10s   %s\n' n "kizon s" "methcomp s" ratio "slopes (kizon / methcomp)"
for n in 1000 10000 100000; do
  file="$work/pairs-$n.csv"
  start=$(date +%s.%N)
  "$kizon" stats method-comparison "$file" --x x --y y --method passing-bablok --json > "$work/out.json"
  ours=$(echo "$(date +%s.%N) - $start" | bc -l)
  ours_slope=$(python3 -c 'import json,sys; print("%.10g" % json.load(open(sys.argv[1]))["slope"])' "$work/out.json")
  if [ "$n" -le 10000 ]; then
    read -r peer peer_slope < <(timeout "$timeout_s" "$venv/bin/python" -W ignore "$root/bench/peers/method_comparison_peer.py" "$file" 2>/dev/null || echo "timeout -")
    ratio=$(echo "$peer / $ours" | bc -l 2>/dev/null || echo 0)
    printf '%-8s %14.3f %14s %9.0fx   %s / %s\n' "$n" "$ours" "$peer" "$ratio" "$ours_slope" "$peer_slope"
  else
    printf '%-8s %14.3f %14s %10s   %s\n' "$n" "$ours" "(not run)" - "$ours_slope"
  fi
done
