#!/usr/bin/env bash
# A study of ITEMS items end to end (default 1,000,000): the time and peak resident memory of
# the steps a study takes (ingest, check, the findings, one decision and one per rule, the
# dataset view and lock, the reference standard, the device's results, analyze, the reports,
# package and its verification, audit verify) and of the web workspace's overview, list,
# search, item and findings pages on it. Nothing may be quadratic: run it at 10^5 and 10^6 and
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
step "findings (list)" "$kizon" --study "$study" findings --json
step "findings (by rule)" "$kizon" --study "$study" findings --by-rule
first=$(K findings --open --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')
step "resolve one finding" "$kizon" --study "$study" resolve "$first" --accept --reason "ベンチマーク: 同一データの複製 (設計どおり)" --reason-en "benchmark: copies by design"
# The copies are made by design: one decision per rule (kizon resolve --rule), timed together.
rules=$(K findings --by-rule --json | python3 -c 'import json, sys; print(" ".join(t["rule"] for t in json.load(sys.stdin) if t["unresolved"]))')
step "resolve every rule ($(echo "$rules" | wc -w) rules)" bash -c '
  for rule in $0; do
    "$1" --study "$2" resolve --rule "$rule" --accept --reason "ベンチマーク: 設計上の複製" --reason-en "benchmark: copies by design" || exit 1
  done' "$rules" "$kizon" "$study"
step "dataset show (before the lock)" "$kizon" --study "$study" dataset show --json
step "lock dataset" "$kizon" --study "$study" lock dataset
# A confirmed diagnosis for every case (40 % positive) and a device score that separates them.
python3 - "$work/manifest.csv" "$work/reference.csv" "$work/results.csv" <<'PY'
import csv, random, sys
cases = [row["case_id"] for row in csv.DictReader(open(sys.argv[1]))]
random.seed(1)
with open(sys.argv[2], "w") as reference, open(sys.argv[3], "w") as results:
    reference.write("case_id,label,source_document,source_location\n")
    results.write("case_id,label,score\n")
    for k, case in enumerate(cases):
        positive = k % 5 < 2
        reference.write(f"{case},{'positive' if positive else 'negative'},pathology report,record {k}\n")
        score = min(1.0, max(0.0, random.gauss(0.7 if positive else 0.3, 0.2)))
        results.write(f"{case},,{score:.4f}\n")
PY
step "reference import" "$kizon" --study "$study" reference import "$work/reference.csv"
step "lock reference" "$kizon" --study "$study" lock reference
step "results import" "$kizon" --study "$study" results import --device-version 2.0.0 "$work/results.csv"
step "analyze" "$kizon" --study "$study" analyze
step "report (ja, pdf)" "$kizon" --study "$study" report --lang ja --out "$work/report-ja.pdf"
step "report (en, html)" "$kizon" --study "$study" report --lang en --format html --out "$work/report-en.html"
step "package" "$kizon" --study "$study" package --out "$work/package"
step "package verify" "$kizon" package verify "$work/package"
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
page "findings (open)" "/findings"
findings_total=$(K findings --by-rule --json | python3 -c 'import json, sys; print(sum(t["findings"] for t in json.load(sys.stdin)))')
page "findings, a page deep in" "/findings?show=all&page=$(( findings_total / 100 / 2 ))"
page "findings of one rule" "/findings?show=all&rule=same-file"
rss=$(ps -o rss= -p "$server" | tr -d ' ')
printf '%-34s %10s %12.0f\n' "web server after the pages" "-" "$(echo "$rss / 1024" | bc -l)"
