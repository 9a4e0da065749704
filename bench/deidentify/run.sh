#!/usr/bin/env bash
# De-identification benchmark: `kizon deidentify` against dicognito (PyPI, the peer a hospital
# would use instead; bench/peers/setup.sh installs it) and against the floor of copying and
# SHA-256-hashing the same bytes, side by side in one run on the DICOM files of testdata/dicom
# that dicognito can process, replicated COPIES times (default 20). dicognito runs one process per copy, as many at once as there are cores,
# so both tools use every core. The page cache is warmed once before the timed runs.
#
# The tools do not do the same work: dicognito rewrites every DICOM file it can read; kizon
# rewrites DICOM under PS3.15 Annex E and signs the hand-over, and copies what it cannot
# de-identify safely (ultrasound, secondary captures and the like: burned-in text is likely)
# into the quarantine. Both are timed over the same input files.
#
# Usage: bench/deidentify/run.sh [COPIES]     (env: CARGO_TARGET_DIR, PEERS_VENV)
set -euo pipefail
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
# The files of testdata/dicom that the peer can process (pydicom reads them and they have a
# Patient ID); dicognito stops at the first file it cannot read, so both tools get only these.
mkdir "$work/one"
"$venv/bin/python" - "$root/testdata/dicom" "$work/one" <<'PY'
import os, shutil, sys, pydicom
source, target = sys.argv[1], sys.argv[2]
for folder, _, names in os.walk(source):
    for name in names:
        path = os.path.join(folder, name)
        try:
            pydicom.dcmread(path).PatientID
        except Exception:
            continue
        relative = os.path.relpath(path, source).replace(os.sep, "_")
        shutil.copy(path, os.path.join(target, relative))
PY
mkdir "$work/corpus"
for i in $(seq -w 1 "$copies"); do cp -r "$work/one" "$work/corpus/copy-$i"; done
files=$(find "$work/corpus" -type f | wc -l)
bytes=$(du -sb "$work/corpus" | cut -f1)
cat $(find "$work/corpus" -type f) > /dev/null   # warm the page cache

seconds() { local s; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; echo "$(date +%s.%N) - $s" | bc -l; }
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }

# ROUNDS rounds (default 3), the three tools in turn in each, every output in a new folder; the
# median of each is reported. Creating thousands of files on ext4 costs more when many were
# deleted shortly before (the inode allocator skips recently freed inodes), so a single run
# can be off by 2x either way; interleaving gives each tool the same file-system weather.
rounds="${ROUNDS:-3}"
(cd "$work" && "$kizon" provider keygen --out hosp >/dev/null)
floors=(); peers_t=(); ours_t=()
for r in $(seq 1 "$rounds"); do
  floors+=("$(seconds bash -c "cp -r '$work/corpus' '$work/floor-$r' && find '$work/floor-$r' -type f -print0 | xargs -0 -P$(nproc) -n 256 openssl dgst -sha256")")
  peers_t+=("$(seconds bash -c "ls -d '$work/corpus'/copy-* | xargs -P$(nproc) -I{} sh -c '\"$venv/bin/python\" -m dicognito --quiet -o \"$work/peer-$r/\$(basename {})\" {}'")")
  ours_t+=("$(seconds bash -c "cd '$work' && '$kizon' deidentify --out handover-$r --signing-key hosp.key --key-table keys-$r.kizon corpus")")
  echo "round $r: floor ${floors[-1]} s, dicognito ${peers_t[-1]} s, kizon ${ours_t[-1]} s" >&2
  [ "$r" = "$rounds" ] || rm -rf "$work/floor-$r" "$work/peer-$r"
done
floor=$(median "${floors[@]}"); peer=$(median "${peers_t[@]}"); ours=$(median "${ours_t[@]}")
mv "$work/handover-$rounds" "$work/handover"; mv "$work/handover-$rounds.quarantine" "$work/handover.quarantine"
mv "$work/peer-$rounds" "$work/peer"
handed=$(find "$work/handover/files" -type f | wc -l)
kept=$(find "$work/handover.quarantine/files" -type f | wc -l)
peer_out=$(find "$work/peer" -type f 2>/dev/null | wc -l)
dicognito=$("$venv/bin/python" -c 'import dicognito; print(dicognito.__version__)' 2>/dev/null || echo '?')

printf 'corpus: %d files, %.1f MB (%s copies of the readable DICOM of testdata/dicom); kizon: %d handed over, %d quarantined; dicognito %s wrote %d\n' \
  "$files" "$(echo "$bytes/1000000" | bc -l)" "$copies" "$handed" "$kept" "$dicognito" "$peer_out"
printf '%-32s %10s %12s   (median of %s rounds)\n' tool seconds files/s "$rounds"
rate() { echo "$files / $1" | bc -l; }
printf '%-32s %10.3f %12.0f\n' "copy + sha256 (floor)" "$floor" "$(rate "$floor")"
printf '%-32s %10.3f %12.0f\n' "dicognito (peer)" "$peer" "$(rate "$peer")"
printf '%-32s %10.3f %12.0f\n' "kizon deidentify" "$ours" "$(rate "$ours")"
printf 'kizon vs dicognito: %.1fx the files per second; kizon vs floor: %.2fx the floor time\n' \
  "$(echo "$peer / $ours" | bc -l)" "$(echo "$ours / $floor" | bc -l)"
