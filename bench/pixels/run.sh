#!/usr/bin/env bash
# Pixel duplicate benchmark (Q7): kizon-pixels against the peer users would run instead
# (bench/peers/dedup_phash.py: pydicom + pylibjpeg decoding, ImageHash pHash on every core,
# vectorised NumPy all-pairs search), side by side in one run.
#
# (a) Search alone. The same 64-bit hashes for both: the peer's own generator
#     (np.random.default_rng(20261125).integers(0, 2**63, size=N, dtype=np.int64)) written to a
#     file that kizon's example reads. Both search N = 20,000 and 50,000 (the peer is quadratic;
#     its 10^6 time is extrapolated by N²), pair counts must agree; kizon also searches 10^6.
# (b) Decode + pHash + all-pairs over testdata/dicom replicated COPIES times (default 20):
#     files/s of each and how many files each could not decode (non-image files included).
#
# "seconds" is each tool's own timer (process start-up and data generation excluded for the
# search; the whole job for (b)). ratio = peer seconds / kizon seconds.
#
# kizon runs twice in (b): the exact pHash (ImageHash's procedure on the full-resolution frame)
# and `--fast` (JPEG 2000 decoded at a reduced resolution level, at least 200 pixels on the
# shorter side; within 2 bits of the exact hash on the test data).
#
# Usage: bench/pixels/run.sh [COPIES]     (env: CARGO_TARGET_DIR, PEERS_VENV, PARTS="a b")
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
copies="${1:-20}"
peers="$root/bench/peers"
venv="${PEERS_VENV:-/tmp/kizon-peers-venv}"
target="${CARGO_TARGET_DIR:-$root/target}"
py="$venv/bin/python"

[ -x "$py" ] || PEERS_VENV="$venv" bash "$peers/setup.sh"
CARGO_TARGET_DIR="$target" cargo build --release --quiet -p kizon-pixels --example near_duplicates --example dedup_files
search="$target/release/examples/near_duplicates"
files_bin="$target/release/examples/dedup_files"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
json() { "$py" -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }

parts="${PARTS:-a b}"
if [[ $parts == *a* ]]; then
echo "== (a) all pairs within Hamming 8 over random 64-bit hashes =="
"$py" -c "import numpy as np; np.random.default_rng(20261125).integers(0, 2**63, size=1_000_000, dtype=np.int64).astype('<u8').tofile('$work/hashes.u64')"
printf '%-10s %12s %12s %10s %10s %8s\n' N peer_s kizon_s peer_pairs kizon_pairs ratio
for n in 20000 50000; do
    peer=$("$py" "$peers/dedup_phash.py" hashes "$n")
    ours=$("$search" "$work/hashes.u64" "$n")
    ps=$(echo "$peer" | json search_seconds); pp=$(echo "$peer" | json pairs)
    ks=$(echo "$ours" | json search_seconds); kp=$(echo "$ours" | json pairs)
    [ "$pp" = "$kp" ] || { echo "pair counts differ at N=$n: peer $pp, kizon $kp"; exit 1; }
    printf '%-10s %12.3f %12.3f %10s %10s %8.0f\n' "$n" "$ps" "$ks" "$pp" "$kp" "$(echo "$ps / $ks" | bc -l)"
    peer_50k=$ps
done
ours=$("$search" "$work/hashes.u64" 1000000)
ks=$(echo "$ours" | json search_seconds); kp=$(echo "$ours" | json pairs)
extrapolated=$(echo "$peer_50k * 400" | bc -l)   # (10^6 / 5*10^4)^2
printf '%-10s %12s %12.3f %10s %10s %8.0f   (peer extrapolated from N=50,000 by N^2: %.0f s)\n' \
    1000000 "~$(printf '%.0f' "$extrapolated")" "$ks" "-" "$kp" "$(echo "$extrapolated / $ks" | bc -l)" "$extrapolated"

fi

if [[ $parts == *b* ]]; then
echo
echo "== (b) decode + pHash + all pairs over testdata/dicom x $copies =="
for i in $(seq -w 1 "$copies"); do cp -r "$root/testdata/dicom" "$work/corpus-$i"; done
mkdir "$work/corpus" && mv "$work"/corpus-* "$work/corpus/"
files=$(find "$work/corpus" -type f | wc -l)
cat $(find "$work/corpus" -type f) > /dev/null   # warm the page cache
peer=$("$py" "$peers/dedup_phash.py" files "$work/corpus" --jobs "$(nproc)")
ours=$("$files_bin" "$work/corpus")
fast=$("$files_bin" "$work/corpus" --fast)
printf 'corpus: %d files\n' "$files"
printf '%-24s %10s %10s %8s %12s %10s %8s\n' tool seconds files/s hashed undecodable pairs ratio
ps=$(echo "$peer" | json seconds)
row() {
    local s u i p
    s=$(echo "$2" | json seconds); u=$(echo "$2" | json undecodable); i=$(echo "$2" | json items); p=$(echo "$2" | json pairs)
    printf '%-24s %10.3f %10.0f %8s %12s %10s %8.1f\n' "$1" "$s" "$(echo "$files / $s" | bc -l)" "$i" "$u" "$p" "$(echo "$ps / $s" | bc -l)"
}
row "dedup_phash.py (peer)" "$peer"
row "kizon-pixels (exact)" "$ours"
row "kizon-pixels (--fast)" "$fast"
echo "ratio = peer seconds / tool seconds"
fi
