#!/usr/bin/env bash
# Load test of the web workspace (issue 6): CONNECTIONS concurrent users (default 50), each
# with their own session, browsing a study of ITEMS items (default 100,000) for SECONDS
# (default 60) over loopback with wrk (Debian's `wrk`), twice: as people browse (a page, then
# THINK ms on average reading it; default 1000) and at saturation (no pause: each user asks
# for the next page as soon as the last arrives). Prints throughput and the latency
# percentiles; any response other than 200 is an error. The study is bench/web/study.sh's.
#
# Usage: bench/web/run.sh [ITEMS] [SECONDS] [CONNECTIONS] [THINK]   (env: CARGO_TARGET_DIR)
set -euo pipefail
# The study owner's signing key (kizon init makes one) lives in a throwaway key ring, with a
# fixed passphrase: a benchmark study guards nothing.
export KIZON_HOME="${KIZON_HOME:-$(mktemp -d)}"
export KIZON_PASSPHRASE="${KIZON_PASSPHRASE:-kizon-bench-passphrase}"
cd "$(dirname "$0")/../.."
root=$PWD
items="${1:-100000}"
duration="${2:-60}"
connections="${3:-50}"
think="${4:-1000}"
target="${CARGO_TARGET_DIR:-$root/target}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }

CARGO_TARGET_DIR="$target" cargo build --release --quiet -p kizon
kizon="$target/release/kizon"
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

source "$root/bench/web/study.sh"
study="$work/study"
make_study "$study"
count=$(sqlite3 "$study/kizon.sqlite" 'SELECT COUNT(*) FROM items' 2>/dev/null || echo "$items")

port=$((20000 + RANDOM % 20000))
KIZON_WEB_QUIET=1 "$kizon" --study "$study" serve --bind "127.0.0.1:$port" >/dev/null 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/login" && break; sleep 0.1; done

sign_in "$port" "$work/cookies"

printf 'study: %s items ingested in %.1f s; %s users; %s s; machine: %s cores\n' "$count" "$ingest_s" "$connections" "$duration" "$(nproc)"
echo "== users browsing (think time ${think} ms on average)"
wrk -t2 -c"$connections" -d"${duration}s" --timeout 10s -s "$root/bench/web/browse.lua" "http://127.0.0.1:$port" -- "$work/cookies" "$count" "$think" | sed -n '/^requests/,$p'
echo "== saturation (no think time)"
wrk -t2 -c"$connections" -d"${duration}s" --timeout 10s -s "$root/bench/web/browse.lua" "http://127.0.0.1:$port" -- "$work/cookies" "$count" 0 | sed -n '/^requests/,$p'
