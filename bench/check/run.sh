#!/usr/bin/env bash
# Check benchmark (issue 3, benchmark b): `kizon check` — decode every image, pixel-content and
# perceptual hash, near-duplicate search, the whole rule catalogue — against the peer users run
# today (bench/peers/dedup_phash.py files: pydicom + pylibjpeg decode, ImageHash pHash on
# every core, all pairs), side by side on the same corpus: testdata/dicom replicated
# COPIES times (default 20). The study is ingested first (not timed); `check` runs with a cold
# decode cache, then once more to show the cached rerun; then "per file": every copy's files
# made distinct, so that nothing is shared by content (issue 19, point 3).
#
# Usage: bench/check/run.sh [COPIES]     (env: CARGO_TARGET_DIR, PEERS_VENV)
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
# KIZON=path/to/kizon uses a binary already built (e.g. the dev build, whose kizon-pixels is
# optimised too); otherwise the release build.
if [ -n "${KIZON:-}" ]; then
  kizon="$KIZON"
else
  CARGO_TARGET_DIR="$target" cargo build --release --quiet -p kizon
  kizon="$target/release/kizon"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for i in $(seq -w 1 "$copies"); do cp -r "$root/testdata/dicom" "$work/corpus-$i"; done
mkdir "$work/corpus" && mv "$work"/corpus-* "$work/corpus/"
files=$(find "$work/corpus" -type f | wc -l)
cat $(find "$work/corpus" -type f) > /dev/null   # warm the page cache

seconds() { local s; s=$(date +%s.%N); "$@" >/dev/null 2>&1; echo "$(date +%s.%N) - $s" | bc -l; }

"$kizon" init "$work/study" >/dev/null
"$kizon" --study "$work/study" provider add H --kind hospital --consent opt-out --legal-basis bench >/dev/null
"$kizon" --study "$work/study" ingest --provider H "$work/corpus" >/dev/null
peer_json=$("$venv/bin/python" "$peers/dedup_phash.py" files "$work/corpus" --jobs "$(nproc)")
peer=$(echo "$peer_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')
# The same check without OCR (no tesseract on its PATH): decoding and hashing alone, what the
# peer does; the cold run above it adds the burned-in text search (Q1) on the images where
# text is often burned in, which the peer does not do.
"$kizon" init "$work/study-no-ocr" >/dev/null
"$kizon" --study "$work/study-no-ocr" provider add H --kind hospital --consent opt-out --legal-basis bench >/dev/null
"$kizon" --study "$work/study-no-ocr" ingest --provider H "$work/corpus" >/dev/null
mkdir "$work/no-tools"
no_ocr=$(seconds env PATH="$work/no-tools" "$kizon" --study "$work/study-no-ocr" check)
cold=$(seconds "$kizon" --study "$work/study" check)
warm=$(seconds "$kizon" --study "$work/study" check)
"$kizon" --study "$work/study" findings --json > "$work/findings.json"
# Per file, no sharing by content: the same corpus with each copy's files made distinct by a
# stamp in the 128-byte preamble (PS3.10 7.1: readers ignore it), so that every file has its
# own SHA-256 and kizon decodes each one, as the peer does. Files without a preamble (14 of
# testdata's 229) cannot be stamped and are left out of this corpus for both tools.
python3 - "$root/testdata/dicom" "$work/distinct" "$copies" <<'PY'
import os, sys
src, dst, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
for c in range(1, copies + 1):
    for d, _, fs in os.walk(src):
        for f in fs:
            b = bytearray(open(os.path.join(d, f), "rb").read())
            if b[128:132] != b"DICM":
                continue
            b[0:16] = f"kizon-copy-{c:05d}".encode()
            out = os.path.join(dst, f"copy-{c:03d}", os.path.relpath(d, src))
            os.makedirs(out, exist_ok=True)
            open(os.path.join(out, f), "wb").write(b)
PY
distinct_files=$(find "$work/distinct" -type f | wc -l)
cat $(find "$work/distinct" -type f) > /dev/null
"$kizon" init "$work/study-distinct" >/dev/null
"$kizon" --study "$work/study-distinct" provider add H --kind hospital --consent opt-out --legal-basis bench >/dev/null
"$kizon" --study "$work/study-distinct" ingest --provider H "$work/distinct" >/dev/null
peer_distinct_json=$("$venv/bin/python" "$peers/dedup_phash.py" files "$work/distinct" --jobs "$(nproc)" 2>/dev/null)
peer_distinct=$(echo "$peer_distinct_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')
distinct=$(seconds env PATH="$work/no-tools" "$kizon" --study "$work/study-distinct" check)
summary=$(python3 - "$work/findings.json" <<'PY'
import json, sys, collections
f = json.load(open(sys.argv[1]))
c = collections.Counter(x["rule"] for x in f)
print(", ".join(f"{k} {v}" for k, v in sorted(c.items()) if k in ("same-pixels", "near-duplicate", "undecodable-pixels", "same-file")))
PY
)
printf 'corpus: %d files (%s copies of testdata/dicom)\n' "$files" "$copies"
printf 'peer (dedup_phash.py files): %s\n' "$peer_json"
printf '%-36s %10s %10s\n' tool seconds files/s
printf '%-36s %10.2f %10.0f\n' "dedup_phash.py files (peer)" "$peer" "$(echo "$files / $peer" | bc -l)"
printf '%-36s %10.2f %10.0f\n' "kizon check (cold, without OCR)" "$no_ocr" "$(echo "$files / $no_ocr" | bc -l)"
printf '%-36s %10.2f %10.0f\n' "kizon check (cold decode cache)" "$cold" "$(echo "$files / $cold" | bc -l)"
printf '%-36s %10.2f %10.0f\n' "kizon check (cached rerun)" "$warm" "$(echo "$files / $warm" | bc -l)"
printf 'kizon check vs peer: %.1fx faster (cold, without OCR), %.1fx (cold, with OCR), %.1fx (cached)\n' "$(echo "$peer / $no_ocr" | bc -l)" "$(echo "$peer / $cold" | bc -l)" "$(echo "$peer / $warm" | bc -l)"
printf 'findings: %s\n' "$summary"
printf '\nper file, every file distinct (%d files, stamped preambles; no sharing by content):\n' "$distinct_files"
printf 'peer: %s\n' "$peer_distinct_json"
printf '%-36s %10.2f %10.0f\n' "dedup_phash.py files (peer)" "$peer_distinct" "$(echo "$distinct_files / $peer_distinct" | bc -l)"
printf '%-36s %10.2f %10.0f\n' "kizon check (every file, without OCR)" "$distinct" "$(echo "$distinct_files / $distinct" | bc -l)"
printf 'kizon check vs peer, every file decoded: %.1fx faster (the peer hashes the first frame only, and fails on some files)\n' "$(echo "$peer_distinct / $distinct" | bc -l)"
