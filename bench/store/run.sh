#!/usr/bin/env bash
# Store backends (issue 18): `kizon ingest` of testdata/dicom replicated COPIES times (default 20)
# into a study kept in SQLite and into one kept in PostgreSQL, side by side in one run, three
# runs each (the median is reported); PostgreSQL is a throwaway cluster on loopback made here
# (initdb/pg_ctl in a temporary folder, fsync on as a real server has it), never a service.
# Goal: PostgreSQL within 2x of SQLite.
#
# Usage: bench/store/run.sh [COPIES]     (env: CARGO_TARGET_DIR, KIZON; PG_OPTIONS adds server
#        settings, e.g. PG_OPTIONS="-c synchronous_commit=off" to see what the commit costs)
set -euo pipefail
export KIZON_HOME="${KIZON_HOME:-$(mktemp -d)}"
export KIZON_PASSPHRASE="${KIZON_PASSPHRASE:-kizon-bench-passphrase}"
cd "$(dirname "$0")/../.."
root=$PWD
copies="${1:-20}"
target="${CARGO_TARGET_DIR:-$root/target}"
if [ -n "${KIZON:-}" ]; then
  kizon="$KIZON"
else
  CARGO_TARGET_DIR="$target" cargo build --release --quiet -p kizon
  kizon="$target/release/kizon"
fi
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "bench/store: PostgreSQL's server binaries are missing (apt-get install postgresql)" >&2; exit 1; }

work=$(mktemp -d)
chmod 755 "$work"
as_pg=()
[ "$(id -u)" -eq 0 ] && as_pg=(runuser -u postgres --)
mkdir "$work/pg"
[ "$(id -u)" -eq 0 ] && chown postgres "$work/pg"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${as_pg[@]}" "$bin/initdb" -D "$work/pg" -U kizon --auth=trust -E UTF8 --locale=C >/dev/null
"${as_pg[@]}" "$bin/pg_ctl" -D "$work/pg" -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1 ${PG_OPTIONS:-}" -w -l "$work/pg/log" start >/dev/null
trap '"${as_pg[@]}" "$bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1; rm -rf "$work"' EXIT

for i in $(seq -w 1 "$copies"); do cp -r "$root/testdata/dicom" "$work/corpus-$i"; done
mkdir "$work/corpus" && mv "$work"/corpus-* "$work/corpus/"
files=$(find "$work/corpus" -type f | wc -l)
cat $(find "$work/corpus" -type f) > /dev/null

seconds() { local s; s=$(date +%s.%N); "$@" >/dev/null 2>&1; echo "$(date +%s.%N) - $s" | bc -l; }
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
ingest_into() {  # BACKEND RUN -> seconds of one ingest into a new study
  local n=$2 study="$work/study-$1-$2"
  if [ "$1" = postgres ]; then
    "${as_pg[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U kizon "s$n"
    "$kizon" init "$study" --database "postgres://kizon@127.0.0.1:$port/s$n" >/dev/null
  else
    "$kizon" init "$study" >/dev/null
  fi
  "$kizon" --study "$study" provider add H --kind hospital --consent opt-out --legal-basis bench >/dev/null
  seconds "$kizon" --study "$study" ingest --provider H "$work/corpus"
}
sqlite=(); postgres=()
for run in 1 2 3; do
  sqlite+=("$(ingest_into sqlite "$run")")
  postgres+=("$(ingest_into postgres "$run")")
done
s=$(median "${sqlite[@]}"); p=$(median "${postgres[@]}")
printf 'corpus: %d files (%s copies of testdata/dicom); PostgreSQL %s on loopback, fsync on\n' "$files" "$copies" "$("$bin/postgres" --version | awk '{print $3}')"
printf '%-32s %10s %10s\n' backend seconds files/s
printf '%-32s %10.3f %10.0f\n' "kizon ingest, SQLite" "$s" "$(echo "$files / $s" | bc -l)"
printf '%-32s %10.3f %10.0f\n' "kizon ingest, PostgreSQL" "$p" "$(echo "$files / $p" | bc -l)"
printf 'PostgreSQL / SQLite: %.2fx the time (goal <= 2x); runs: sqlite %s, postgres %s\n' "$(echo "$p / $s" | bc -l)" "${sqlite[*]}" "${postgres[*]}"
