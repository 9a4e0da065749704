#!/usr/bin/env bash
# Ingest benchmark: `kizon ingest` against the peer users would run instead
# (bench/peers/scan_pydicom.py: pydicom header read + SHA-256, all cores) and against the
# physical floor (reading and SHA-256-hashing every byte with openssl, 2 parallel workers),
# side by side in one run on the same corpus: testdata/dicom replicated COPIES times
# (default 20). The page cache is warmed once before the timed runs, so every tool reads
# from memory. Prints files/s and the ratios.
#
# Usage: bench/ingest/run.sh [COPIES]     (env: CARGO_TARGET_DIR, PEERS_VENV)
set -euo pipefail
# The study owner's signing key (kizon init makes one) lives in a throwaway key ring, with a
# fixed passphrase: a benchmark study guards nothing.
export KIZON_HOME="${KIZON_HOME:-$(mktemp -d)}"
export KIZON_PASSPHRASE="${KIZON_PASSPHRASE:-kizon-bench-passphrase}"
cd "$(dirname "$0")/../.."
root=$PWD
copies="${1:-20}"
peers="$root/bench/peers"
venv="${PEERS_VENV:-/tmp/kizon-peers-venv}"
target="${CARGO_TARGET_DIR:-$root/target}"

[ -x "$venv/bin/python" ] || PEERS_VENV="$venv" bash "$peers/setup.sh"
CARGO_TARGET_DIR="$target" cargo build --release --quiet -p kizon
kizon="$target/release/kizon"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for i in $(seq -w 1 "$copies"); do cp -r "$root/testdata/dicom" "$work/corpus-$i"; done
mkdir "$work/corpus" && mv "$work"/corpus-* "$work/corpus/"
files=$(find "$work/corpus" -type f | wc -l)
bytes=$(du -sb "$work/corpus" | cut -f1)
cat $(find "$work/corpus" -type f) > /dev/null   # warm the page cache

seconds() { local s; s=$(date +%s.%N); "$@" >/dev/null 2>&1; echo "$(date +%s.%N) - $s" | bc -l; }

floor=$(seconds bash -c "find '$work/corpus' -type f -print0 | xargs -0 -P2 -n 256 openssl dgst -sha256")
peer=$(seconds "$venv/bin/python" "$peers/scan_pydicom.py" "$work/corpus" --jobs "$(nproc)")
"$kizon" init "$work/study" >/dev/null
"$kizon" --study "$work/study" provider add H --kind hospital --consent opt-out --legal-basis bench >/dev/null
ours=$(seconds "$kizon" --study "$work/study" ingest --provider H "$work/corpus")
items=$("$kizon" --study "$work/study" items --json | grep -c '"sha256"')

printf 'corpus: %d files, %.1f MB (%s copies of testdata/dicom), %d items ingested\n' "$files" "$(echo "$bytes/1000000" | bc -l)" "$copies" "$items"
printf '%-28s %10s %12s %10s\n' tool seconds files/s ratio
rate() { echo "$files / $1" | bc -l; }
printf '%-28s %10.3f %12.0f %10s\n' "openssl sha256 (floor)" "$floor" "$(rate "$floor")" "-"
printf '%-28s %10.3f %12.0f %10s\n' "pydicom scan (peer)" "$peer" "$(rate "$peer")" "-"
printf '%-28s %10.3f %12.0f %10s\n' "kizon ingest" "$ours" "$(rate "$ours")" "-"
printf 'kizon vs peer: %.1fx faster; kizon vs floor: %.2fx the floor time\n' "$(echo "$peer / $ours" | bc -l)" "$(echo "$ours / $floor" | bc -l)"
