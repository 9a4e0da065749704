#!/usr/bin/env bash
# Several web servers on one PostgreSQL study against one server on SQLite and one on the same
# PostgreSQL study (issue 18), side by side in one run: the same ITEMS-item study (default
# 100,000), the same CONNECTIONS users (default 50) and the same page mix as bench/web/run.sh
# (browse.lua), for SECONDS (default 60) each, as people browse (THINK ms between pages,
# default 1000) and at saturation (none). Each row also gives how busy the machine's cores
# were (from /proc/stat): at 100% the servers, PostgreSQL and wrk share the cores and a second
# server can only take its share of them.
#
# The study is built once on SQLite (bench/web/study.sh), then copied and moved into
# PostgreSQL with `kizon migrate-store`, so every run serves the very same rows. PostgreSQL is a throwaway cluster
# on loopback made here (initdb/pg_ctl in a temporary folder), never a service. The two servers
# share `--session-key-file`: every user signs in on the first, and half of them browse the
# second with that session (two wrk processes, one per server, at once: the load balancer's
# part; one wrk thread each, two for the single server). Throughput is the two servers' sum;
# p99 is the worse of the two.
#
# Goals: two servers on PostgreSQL give >= 1.6x the requests per second of one, p99 < 200 ms,
# no error. Both ratios are printed: against one server on SQLite and against one on
# PostgreSQL.
#
# Usage: bench/web/servers.sh [ITEMS] [SECONDS] [CONNECTIONS] [THINK]   (env: CARGO_TARGET_DIR,
#        PG_OPTIONS adds server settings)
set -euo pipefail
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
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "bench/web: PostgreSQL's server binaries are missing (apt-get install postgresql)" >&2; exit 1; }

CARGO_TARGET_DIR="$target" cargo build --release --quiet -p kizon
kizon="$target/release/kizon"
work=$(mktemp -d)
chmod 755 "$work"
servers=()
as_pg=()
[ "$(id -u)" -eq 0 ] && as_pg=(runuser -u postgres --)
cleanup() {
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -d "$work/pg" ] && { "${as_pg[@]}" "$bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true; }
  rm -rf "$work"
}
trap cleanup EXIT

# The study, on SQLite (bench/web/study.sh).
source "$root/bench/web/study.sh"
sqlite_study="$work/study-sqlite"
make_study "$sqlite_study"

# The same study, moved into PostgreSQL.
mkdir "$work/pg"
[ "$(id -u)" -eq 0 ] && chown postgres "$work/pg"
pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${as_pg[@]}" "$bin/initdb" -D "$work/pg" -U kizon --auth=trust -E UTF8 --locale=C >/dev/null
"${as_pg[@]}" "$bin/pg_ctl" -D "$work/pg" -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c max_connections=200 ${PG_OPTIONS:-}" -w -l "$work/pg/log" start >/dev/null
"${as_pg[@]}" "$bin/createdb" -h 127.0.0.1 -p "$pg_port" -U kizon bench
pg_study="$work/study-pg"
cp -a "$sqlite_study" "$pg_study"
start=$(date +%s.%N)
"$kizon" --study "$pg_study" migrate-store --to "postgres://kizon@127.0.0.1:$pg_port/bench" >/dev/null
migrate_s=$(echo "$(date +%s.%N) - $start" | bc -l)

serve() {  # STUDY PORT: a server in the background, its pid in servers
  KIZON_WEB_QUIET=1 "$kizon" --study "$1" serve --bind "127.0.0.1:$2" --session-key-file "$work/session.key" >/dev/null 2>&1 &
  servers+=($!)
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$2/login" && return; sleep 0.1; done
  echo "bench/web: the server on port $2 did not start" >&2; exit 1
}
load() {  # PORT COOKIES CONNECTIONS THINK OUT THREADS: wrk against one server
  wrk -t"$6" -c"$3" -d"${duration}s" --timeout 10s -s "$root/bench/web/browse.lua" "http://127.0.0.1:$1" -- "$2" "$items" "$4" | sed -n '/^requests/,$p' > "$5"
}
field() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
cpu_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $5 + $6 + $7 + $8, $5 + $6 }' /proc/stat; }
busy_since() {  # TICKS: the share of all cores' time busy since TICKS ("total idle"), in %
  local now; now=$(cpu_ticks)
  awk -v a="$1" -v b="$now" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[1] - x[1]; printf "%.0f", 100 * (t - (y[2] - x[2])) / t }'
}
errors() { awk '$1 == "requests" { gsub(",", ""); print $4 + $7 }' "$1"; }

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
one=$(port); serve "$sqlite_study" "$one"
sign_in "$one" "$work/cookies-sqlite"
a=$(port); b=$(port)
serve "$pg_study" "$a"; serve "$pg_study" "$b"
sign_in "$a" "$work/cookies-pg"
half=$((connections / 2))
head -n "$half" "$work/cookies-pg" > "$work/cookies-a"
tail -n +"$((half + 1))" "$work/cookies-pg" > "$work/cookies-b"

printf 'study: %s items, %s users, %s s per run; migrate-store to PostgreSQL %.1f s; PostgreSQL %s on loopback; %s cores\n' \
  "$items" "$connections" "$duration" "$migrate_s" "$("$bin/postgres" --version | awk '{print $3}')" "$(nproc)"
printf '%-34s %12s %10s %10s %8s %8s\n' "" "requests/s" "p50 ms" "p99 ms" errors "cpu %"
for mode in browsing saturation; do
  pause=$think; [ "$mode" = saturation ] && pause=0
  ticks=$(cpu_ticks)
  load "$one" "$work/cookies-sqlite" "$connections" "$pause" "$work/sqlite.out" 2
  s_cpu=$(busy_since "$ticks")
  ticks=$(cpu_ticks)
  load "$a" "$work/cookies-pg" "$connections" "$pause" "$work/pg1.out" 2
  p1_cpu=$(busy_since "$ticks")
  ticks=$(cpu_ticks)
  load "$a" "$work/cookies-a" "$half" "$pause" "$work/a.out" 1 &
  first=$!
  load "$b" "$work/cookies-b" "$((connections - half))" "$pause" "$work/b.out" 1
  wait "$first"
  p2_cpu=$(busy_since "$ticks")
  s_rps=$(field throughput "$work/sqlite.out")
  p1_rps=$(field throughput "$work/pg1.out")
  p_rps=$(echo "$(field throughput "$work/a.out") + $(field throughput "$work/b.out")" | bc -l)
  worst() { printf '%s\n%s\n' "$(field "$1" "$work/a.out")" "$(field "$1" "$work/b.out")" | sort -g | tail -1; }
  row() { printf '%-34s %12.0f %10s %10s %8s %8s\n' "$@"; }
  row "$mode: 1 server, SQLite" "$s_rps" "$(field p50 "$work/sqlite.out")" "$(field p99 "$work/sqlite.out")" "$(errors "$work/sqlite.out")" "$s_cpu"
  row "$mode: 1 server, PostgreSQL" "$p1_rps" "$(field p50 "$work/pg1.out")" "$(field p99 "$work/pg1.out")" "$(errors "$work/pg1.out")" "$p1_cpu"
  row "$mode: 2 servers, PostgreSQL" "$p_rps" "$(worst p50)" "$(worst p99)" "$(( $(errors "$work/a.out") + $(errors "$work/b.out") ))" "$p2_cpu"
  printf '%-34s %12.2fx of 1 on SQLite, %.2fx of 1 on PostgreSQL\n' "$mode: 2 servers on PostgreSQL" \
    "$(echo "$p_rps / $s_rps" | bc -l)" "$(echo "$p_rps / $p1_rps" | bc -l)"
done
