#!/usr/bin/env bash
# Ingest at scale: files/s and peak resident memory of `kizon ingest` at 10^4, 10^5 and 10^6
# files (or the SIZES given), each against the floor (openssl SHA-256 of the same files, 2
# workers) in the same run. The files are hard links to testdata/dicom under new names (one
# folder per copy), so every one is read and hashed as a file of its own while the disk holds
# one copy; the page cache is warmed before the timed runs. Throughput should stay flat and
# memory bounded as the study grows.
#
# Usage: bench/ingest/curve.sh [SIZES...]     (env: CARGO_TARGET_DIR, KIZON_BENCH_DIR)
set -euo pipefail
export KIZON_HOME="${KIZON_HOME:-$(mktemp -d)}"
export KIZON_PASSPHRASE="${KIZON_PASSPHRASE:-kizon-bench-passphrase}"
cd "$(dirname "$0")/../.."
root=$PWD
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
target="${CARGO_TARGET_DIR:-$root/target}"
CARGO_TARGET_DIR="$target" cargo build --release --quiet -p kizon
kizon="$target/release/kizon"

work=$(mktemp -d "${KIZON_BENCH_DIR:-${TMPDIR:-/tmp}}/kizon-ingest-curve.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$root/testdata/dicom" "$work/source"
per_copy=$(find "$work/source" -type f | wc -l)

printf '%10s %10s %10s %12s %12s %10s %12s\n' files floor_s kizon_s floor_files/s kizon_files/s ratio peak_RSS_MB
for size in "${sizes[@]}"; do
  corpus="$work/corpus-$size"
  mkdir "$corpus"
  copies=$(( (size + per_copy - 1) / per_copy ))
  for i in $(seq -w 1 "$copies"); do cp -al "$work/source" "$corpus/copy-$i"; done
  files=$(find "$corpus" -type f | wc -l)
  find "$corpus" -type f -print0 | xargs -0 cat > /dev/null   # warm the page cache
  start=$(date +%s.%N)
  find "$corpus" -type f -print0 | xargs -0 -P2 -n 256 openssl dgst -sha256 > /dev/null
  floor=$(echo "$(date +%s.%N) - $start" | bc -l)

  study="$work/study-$size"
  "$kizon" init "$study" > /dev/null
  "$kizon" --study "$study" provider add H --kind hospital --consent opt-out --legal-basis bench > /dev/null
  start=$(date +%s.%N)
  /usr/bin/time -f '%M' -o "$work/rss" "$kizon" --study "$study" ingest --provider H "$corpus" > /dev/null 2>&1
  ours=$(echo "$(date +%s.%N) - $start" | bc -l)
  rss_mb=$(echo "$(cat "$work/rss") / 1024" | bc -l)
  printf '%10d %10.2f %10.2f %12.0f %12.0f %10.2f %12.0f\n' "$files" "$floor" "$ours" \
    "$(echo "$files / $floor" | bc -l)" "$(echo "$files / $ours" | bc -l)" \
    "$(echo "$ours / $floor" | bc -l)" "$rss_mb"
  rm -rf "$corpus" "$study"
done
