#!/usr/bin/env bash
# Several web servers on one PostgreSQL study against one server on SQLite (issue 18), side by
# side in one run: the same ITEMS-item study (default 100,000), the same CONNECTIONS users
# (default 50) and the same page mix as bench/web/run.sh (browse.lua), for SECONDS (default 60)
# each, as people browse (THINK ms between pages, default 1000) and at saturation (none).
#
# The study is built once on SQLite (`kizon init`, a provider, `kizon ingest` of ITEMS real DICOM
# files, one data-manager account per user), then copied and moved into PostgreSQL with
# `kizon migrate-store`, so both runs serve the very same rows. PostgreSQL is a throwaway cluster
# on loopback made here (initdb/pg_ctl in a temporary folder), never a service. The two servers
# share `--session-key-file`: every user signs in on the first, and half of them browse the
# second with that session (two wrk processes, one per server, at once: the load balancer's
# part; one wrk thread each, two for the single server). Throughput is the two servers' sum;
# p99 is the worse of the two.
#
# Goals: two servers on PostgreSQL give >= 1.6x the requests per second of one on SQLite,
# p99 < 200 ms, no error.
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

# The study, on SQLite.
"$kizon" demo "$work/demo" >/dev/null
mkdir "$work/files"
mapfile -t sources < <(find "$work/demo/demo-sources/received/handover-2026-11-images" -name '*.dcm' | sort)
python3 - "$work/files" "$items" "${sources[@]}" <<'PY'
import os, sys
out, n, sources = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
for i in range(n):
    folder = os.path.join(out, f"{i // 1000:03d}")
    if i % 1000 == 0:
        os.makedirs(folder)
    os.link(sources[i % len(sources)], os.path.join(folder, f"img{i:06d}.dcm"))
PY
sqlite_study="$work/study-sqlite"
"$kizon" init "$sqlite_study" >/dev/null
"$kizon" --study "$sqlite_study" provider add H --kind hospital --consent opt-out --legal-basis bench >/dev/null
"$kizon" --study "$sqlite_study" ingest --provider H "$work/files" >/dev/null 2>&1
password="load-test-password"
for i in $(seq 1 "$connections"); do
  echo "$password" | "$kizon" --study "$sqlite_study" user add "dm$i" --role data-manager >/dev/null
done

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
sign_in() {  # PORT COOKIES: every user signs in on PORT; their session cookies into COOKIES
  : > "$2"
  for i in $(seq 1 "$connections"); do
    local jar="$work/jar$i" token
    token=$(curl -s -c "$jar" "http://127.0.0.1:$1/login" | grep -o 'name="login_token" value="[0-9a-f]*"' | sed 's/.*value="//;s/"//')
    curl -s -o /dev/null -b "$jar" -c "$jar" -d "name=dm$i&password=$password&login_token=$token" "http://127.0.0.1:$1/login"
    awk '$6 == "kizon_session" { print $7 }' "$jar" >> "$2"
  done
  [ "$(wc -l < "$2")" -eq "$connections" ] || { echo "bench/web: sign-in failed on port $1" >&2; exit 1; }
}
load() {  # PORT COOKIES CONNECTIONS THINK OUT THREADS: wrk against one server
  wrk -t"$6" -c"$3" -d"${duration}s" --timeout 10s -s "$root/bench/web/browse.lua" "http://127.0.0.1:$1" -- "$2" "$items" "$4" | sed -n '/^requests/,$p' > "$5"
}
field() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
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
printf '%-34s %12s %10s %10s %8s\n' "" "requests/s" "p50 ms" "p99 ms" errors
for mode in browsing saturation; do
  pause=$think; [ "$mode" = saturation ] && pause=0
  load "$one" "$work/cookies-sqlite" "$connections" "$pause" "$work/sqlite.out" 2
  load "$a" "$work/cookies-a" "$half" "$pause" "$work/a.out" 1 &
  first=$!
  load "$b" "$work/cookies-b" "$((connections - half))" "$pause" "$work/b.out" 1
  wait "$first"
  s_rps=$(field throughput "$work/sqlite.out")
  p_rps=$(echo "$(field throughput "$work/a.out") + $(field throughput "$work/b.out")" | bc -l)
  worst() { printf '%s\n%s\n' "$(field "$1" "$work/a.out")" "$(field "$1" "$work/b.out")" | sort -g | tail -1; }
  printf '%-34s %12.0f %10s %10s %8s\n' "$mode: 1 server, SQLite" "$s_rps" "$(field p50 "$work/sqlite.out")" "$(field p99 "$work/sqlite.out")" "$(errors "$work/sqlite.out")"
  printf '%-34s %12.0f %10s %10s %8s\n' "$mode: 2 servers, PostgreSQL" "$p_rps" "$(worst p50)" "$(worst p99)" "$(( $(errors "$work/a.out") + $(errors "$work/b.out") ))"
  printf '%-34s %12.2fx\n' "$mode: ratio" "$(echo "$p_rps / $s_rps" | bc -l)"
done
