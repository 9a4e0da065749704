#!/usr/bin/env bash
# Load test of reading in the browser (issue 17): READERS readers (default 50) reading at once
# for SECONDS per run (default 60), each with their own account, reader code and session, with
# wrk (Debian's `wrk`) and bench/web/reading.lua.
#
# The study is the reader-study demo: by default its 24 cases of 5 frames of 256×256; with
# CASES and SLICES set (e.g. CASES=400 SLICES=250: 100,000 items), every case a CT series of
# SLICES single-frame 512×512 slices (`kizon demo --kind reader-study --cases N --slices M`).
#
# Runs: readers reading (THINK ms between requests on average, default 1000: case pages, marks
# and frames as a reader scrolls), then each kind alone at the same pace (p99 per kind), then
# frames from the decode cache only, then the mix at saturation (no think time). Any response
# other than 200 is an error. Prints throughput and latency percentiles per run, the size of
# the study and the decode cache's hits.
#
# Usage: [CASES=N SLICES=M] bench/web/reading.sh [READERS] [SECONDS] [THINK]
#        (env: CARGO_TARGET_DIR, KIZON_BENCH_DIR to keep the built study between runs)
set -euo pipefail
export KIZON_HOME="${KIZON_HOME:-$(mktemp -d)}"
export KIZON_PASSPHRASE="${KIZON_PASSPHRASE:-kizon-bench-passphrase}"
cd "$(dirname "$0")/../.."
root=$PWD
readers="${1:-50}"
duration="${2:-60}"
think="${3:-1000}"
target="${CARGO_TARGET_DIR:-$root/target}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

CARGO_TARGET_DIR="$target" cargo build --release --quiet -p kizon
kizon="$target/release/kizon"
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

shape=()
if [ -n "${CASES:-}" ] && [ -n "${SLICES:-}" ]; then shape=(--cases "$CASES" --slices "$SLICES"); fi
study="${KIZON_BENCH_DIR:-$work/study}"
if [ ! -f "$study/kizon.sqlite" ]; then
  start=$(date +%s.%N)
  "$kizon" demo --kind reader-study "${shape[@]}" "$study" >/dev/null
  printf 'built the study in %.0f s\n' "$(echo "$(date +%s.%N) - $start" | bc -l)"
fi
items=$(sqlite3 "$study/kizon.sqlite" 'SELECT COUNT(*) FROM items')
case_count=$(sqlite3 "$study/kizon.sqlite" 'SELECT COUNT(*) FROM cases')
password="load-test-password"
for i in $(seq 1 "$readers"); do
  code=$(printf 'B%02d' "$i")
  if ! sqlite3 "$study/kizon.sqlite" "SELECT 1 FROM readers WHERE code = '$code'" | grep -q 1; then
    "$kizon" --study "$study" readers add "$code" --qualification "放射線診断専門医" --specialty chest --years 10 --independent >/dev/null
    "$kizon" --study "$study" readers assign "$code" --dataset --sessions unaided >/dev/null
    echo "$password" | "$kizon" --study "$study" user add "reader$i" --role reader --reader "$code" >/dev/null
  fi
done

port=$((20000 + RANDOM % 20000))
KIZON_WEB_QUIET=1 "$kizon" --study "$study" serve --bind "127.0.0.1:$port" >/dev/null 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/login" && break; sleep 0.1; done

: > "$work/sessions"
for i in $(seq 1 "$readers"); do
  jar="$work/jar$i"
  token=$(curl -s -c "$jar" "http://127.0.0.1:$port/login" | grep -o 'name="login_token" value="[0-9a-f]*"' | sed 's/.*value="//;s/"//')
  curl -s -o /dev/null -b "$jar" -c "$jar" -d "name=reader$i&password=$password&login_token=$token" "http://127.0.0.1:$port/login"
  session=$(awk '$6 == "kizon_session" { print $7 }' "$jar")
  csrf=$(curl -s -b "$jar" "http://127.0.0.1:$port/reading" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -1 | sed 's/.*value="//;s/"//')
  echo "$session $csrf" >> "$work/sessions"
done
[ "$(wc -l < "$work/sessions")" -eq "$readers" ] || { echo "login failed" >&2; exit 1; }

# Each case's items in slice order, as the reader's page lists them (the JSON API).
first=$(head -1 "$work/sessions" | cut -d' ' -f1)
curl -s -b "kizon_session=$first" "http://127.0.0.1:$port/api/worklist" \
  | python3 -c 'import json,sys; [print(c["case_id"]) for c in json.load(sys.stdin)]' > "$work/case-ids"
while read -r case; do
  curl -s -b "kizon_session=$first" "http://127.0.0.1:$port/api/reading/$case" | python3 -c '
import json, sys
c = json.load(sys.stdin)
items = c["items"]
print(c["case"], items[0].get("width") or 512, items[0]["frames"], " ".join(str(i["id"]) for i in items))'
done < "$work/case-ids" > "$work/cases"

entries_before=$(sqlite3 "$study/kizon.sqlite" 'SELECT COUNT(*) FROM ledger')
printf 'reader-study demo: %s cases, %s items; %s readers; %s s per run; machine: %s cores\n' \
  "$case_count" "$items" "$readers" "$duration" "$(nproc)"
run() {
  wrk -t2 -c"$readers" -d"${duration}s" --timeout 10s -s "$root/bench/web/reading.lua" \
    "http://127.0.0.1:$port" -- "$work/sessions" "$work/cases" "$1" "$2" | sed -n '/^requests/,$p'
}
echo "== readers reading (think time ${think} ms on average): case pages, marks and frames"
run "$think" reading
for kind in pages marks frames; do
  echo "== $kind alone, same pace"
  run "$think" "$kind"
done
echo "== frames from the decode cache (512×512 when SLICES is set), same pace"
run "$think" cached
echo "== saturation (no think time): the mix"
run 0 reading
entries_after=$(sqlite3 "$study/kizon.sqlite" 'SELECT COUNT(*) FROM ledger')
echo "ledger entries: $entries_before before, $entries_after after"
kill "$server"; wait "$server" 2>/dev/null || true; server=""
"$kizon" --study "$study" audit verify | tail -1
