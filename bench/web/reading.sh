#!/usr/bin/env bash
# Load test of reading in the browser (issue 17): READERS readers (default 50) reading at once
# in the reader-study demo (`kizon demo --kind reader-study`: 24 cases, 5 frames of 256×256
# each), each with their own account, reader code and session, for SECONDS (default 60), with
# wrk (Debian's `wrk`): 40 % case pages (each records that the case is open, a ledger entry),
# 30 % marks saved through the JSON API (a ledger entry each), 30 % frames as PNG. Run twice:
# as readers read (THINK ms between requests on average; default 1000) and at saturation.
# Prints throughput and latency percentiles per run; any response other than 200 is an error.
#
# Usage: bench/web/reading.sh [READERS] [SECONDS] [THINK]   (env: CARGO_TARGET_DIR)
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

study="$work/study"
"$kizon" demo --kind reader-study "$study" >/dev/null
password="load-test-password"
for i in $(seq 1 "$readers"); do
  code=$(printf 'B%02d' "$i")
  "$kizon" --study "$study" readers add "$code" --qualification "放射線診断専門医" --specialty chest --years 10 --independent >/dev/null
  "$kizon" --study "$study" readers assign "$code" --dataset >/dev/null
  echo "$password" | "$kizon" --study "$study" user add "reader$i" --role reader --reader "$code" >/dev/null
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

entries_before=$(sqlite3 "$study/kizon.sqlite" 'SELECT COUNT(*) FROM ledger' 2>/dev/null || echo '?')
printf 'reader-study demo: 24 cases; %s readers; %s s per run; machine: %s cores\n' "$readers" "$duration" "$(nproc)"
echo "== readers reading (think time ${think} ms on average)"
wrk -t2 -c"$readers" -d"${duration}s" --timeout 10s -s "$root/bench/web/reading.lua" "http://127.0.0.1:$port" -- "$work/sessions" 24 5 "$think" | sed -n '/^requests/,$p'
echo "== saturation (no think time)"
wrk -t2 -c"$readers" -d"${duration}s" --timeout 10s -s "$root/bench/web/reading.lua" "http://127.0.0.1:$port" -- "$work/sessions" 24 5 0 | sed -n '/^requests/,$p'
entries_after=$(sqlite3 "$study/kizon.sqlite" 'SELECT COUNT(*) FROM ledger' 2>/dev/null || echo '?')
echo "ledger entries: $entries_before before, $entries_after after"
kill "$server"; wait "$server" 2>/dev/null || true; server=""
"$kizon" --study "$study" audit verify | tail -1
