#!/usr/bin/env bash
# A study of ITEMS items end to end (default 1,000,000): the time and peak resident memory of
# the steps a study takes (today: ingest, check, the findings, one decision, the dataset view,
# audit verify) and of the web workspace's list, search and item pages on it. Nothing may be quadratic: run it at 10^5 and 10^6 and
# compare the per-item costs.
#
# The items are hard links to testdata/dicom under new names (229 files a copy), one case per
# file through a manifest, so that every file is read, hashed and decoded as a file of its own
# while the disk holds one copy. The protocol is the demo's (`kizon demo` writes it); every case
# would get a confirmed diagnosis and a device result. The same content in every copy makes
# Q7 "same data in several cases" findings by design.
#
# Usage: bench/scale/million.sh [ITEMS]     (env: CARGO_TARGET_DIR, KIZON_BENCH_DIR)
set -euo pipefail
export KIZON_HOME="${KIZON_HOME:-$(mktemp -d)}"
export KIZON_PASSPHRASE="${KIZON_PASSPHRASE:-kizon-bench-passphrase}"
export KIZON_ACTOR=bench
cd "$(dirname "$0")/../.."
root=$PWD
items="${1:-1000000}"
target="${CARGO_TARGET_DIR:-$root/target}"
CARGO_TARGET_DIR="$target" cargo build --release --quiet -p kizon
kizon="$target/release/kizon"
command -v curl >/dev/null || { echo "curl is needed for the web pages" >&2; exit 1; }

work=$(mktemp -d "${KIZON_BENCH_DIR:-${TMPDIR:-/tmp}}/kizon-scale.XXXXXX")
server=""
cleanup() { [ -z "$server" ] || kill "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# step NAME CMD...: runs one step, prints its wall time and peak memory.
step() {
  local name=$1
  shift
  local start
  start=$(date +%s.%N)
  if ! /usr/bin/time -f '%M' -o "$work/rss" "$@" >"$work/out" 2>"$work/err"; then
    echo "step failed: $name" >&2
    tail -5 "$work/err" >&2
    exit 1
  fi
  local seconds
  seconds=$(echo "$(date +%s.%N) - $start" | bc -l)
  printf '%-34s %10.2f %12.0f %14.1f\n' "$name" "$seconds" "$(echo "$(cat "$work/rss") / 1024" | bc -l)" \
    "$(echo "$seconds * 1000000 / $items" | bc -l)"
}

# The corpus: hard-linked copies, one folder (and case) per copy, and their manifest.
cp -r "$root/testdata/dicom" "$work/source"
per_copy=$(find "$work/source" -type f | wc -l)
copies=$(( (items + per_copy - 1) / per_copy ))
mkdir "$work/corpus"
for i in $(seq -w 1 "$copies"); do cp -al "$work/source" "$work/corpus/copy-$i"; done
# One case per file: a copy holds several patients, and a case is one patient's.
# Every case is collected today, so that every acquisition is before its collection (Q2): a
# manifest without the date gets an `acquired-after-collection` warning per case by design.
(cd "$work" && find corpus -type f | sort | awk -v day="$(date +%F)" 'BEGIN { print "case_id,collection_date,path" } { printf "C-%07d,%s,%s\n", NR, day, $0 }') >"$work/manifest.csv"
files=$(( $(wc -l <"$work/manifest.csv") - 1 ))
cases=$files
find "$work/corpus" -type f -print0 | xargs -0 cat >/dev/null   # warm the page cache

# The protocol: the demo's.
"$kizon" demo "$work/demo" >/dev/null 2>&1
study="$work/study"
"$kizon" init "$study" >/dev/null
cp "$work/demo/demo-sources/protocol-v1.toml" "$study/study.toml"
K() { "$kizon" --study "$study" "$@"; }
K provider add H --kind hospital --consent opt-out --legal-basis bench >/dev/null
K lock protocol >/dev/null

echo "study: $files items in $cases cases ($(nproc) cores)"
printf '%-34s %10s %12s %14s\n' step seconds peak_MB "µs per item"
step "ingest" "$kizon" --study "$study" ingest --provider H --manifest "$work/manifest.csv"
step "check" "$kizon" --study "$study" check
K findings --json >"$work/findings.json"
python3 - "$work/findings.json" >"$work/open" <<'EOF'
import json, sys
findings = json.load(open(sys.argv[1]))
if isinstance(findings, dict):
    findings = findings.get("findings", [])
for f in findings:
    if f.get("status", "open") == "open":
        print(f["id"])
EOF
echo "findings: $(wc -l <"$work/open") open"
step "findings (list)" "$kizon" --study "$study" findings --json
step "resolve one finding" "$kizon" --study "$study" resolve "$(head -1 "$work/open")" --accept --reason "ベンチマーク: 同一データの複製 (設計どおり)" --reason-en "benchmark: copies by design"
# Resolving every finding is one process per finding today (0.34 s each at 12,000 findings):
# the dataset lock, reference, results, analysis, report and package steps wait for a bulk
# resolve. They are the next part of this benchmark.
step "dataset show (before the lock)" "$kizon" --study "$study" dataset show --json
step "audit verify" "$kizon" --study "$study" audit verify

# The web workspace: an admin's list, search and item pages.
printf 'bench-password-1234\n' | K user add admin --role admin >/dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$kizon" --study "$study" serve --bind "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -s "http://127.0.0.1:$port/login" >/dev/null && break; sleep 0.2; done
jar="$work/cookies"
token=$(curl -s -c "$jar" "http://127.0.0.1:$port/login" | grep -o 'name="login_token" value="[0-9a-f]*"' | sed 's/.*value="//;s/"//')
curl -s -o /dev/null -b "$jar" -c "$jar" -d "name=admin&password=bench-password-1234&login_token=$token" "http://127.0.0.1:$port/login"
grep -q kizon_session "$jar" || { echo "login failed" >&2; exit 1; }
page() {
  local name=$1 url=$2 best=""
  for _ in 1 2 3; do
    local t
    t=$(curl -s -b "$jar" -o "$work/page" -w '%{http_code} %{time_total}' "http://127.0.0.1:$port$url")
    [ "${t%% *}" = 200 ] || { echo "web page failed: $name ($t)" >&2; exit 1; }
    t=${t#* }
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
  done
  printf '%-34s %10.3f %12s %14s\n' "web: $name" "$best" "-" "$(wc -c <"$work/page") B"
}
item=$(K items --json | python3 -c 'import json, sys; items = json.load(sys.stdin); items = items.get("items", items) if isinstance(items, dict) else items; print(items[len(items) // 2]["id"])')
page "overview" "/"
page "items, first page" "/items"
page "items, a page deep in" "/items?page=$(( files / 100 / 2 ))"
page "search by case" "/items?q=$(printf 'C-%07d' $(( cases / 2 )))"
page "item" "/items/$item"
page "findings" "/findings"
rss=$(ps -o rss= -p "$server" | tr -d ' ')
printf '%-34s %10s %12.0f\n' "web server after the pages" "-" "$(echo "$rss / 1024" | bc -l)"
