#!/usr/bin/env python3
"""Expected values for kizon-pixels from independent implementations: pydicom 3 with the
pylibjpeg plugins (libjpeg, openjpeg, rle) decodes every DICOM image under testdata/dicom,
and ImageHash computes the pHash the way the peer (bench/peers/dedup_phash.py) does.
Writes crates/kizon-pixels/tests/fixtures/pixels_oracle.json (committed, so the Rust tests need
no Python), recording the library versions.

Per file it records, when pydicom decodes it:
- the image attributes and the SHA-256 of the canonical form of kizon-pixels' content hash
  (documented in crates/kizon-pixels/src/content.rs) computed here from pydicom's values
  (`as_rgb=False`: values as stored; codecs that undo their own colour transform give RGB);
- a SHA-256 of the first frame's values only, and a few sample values, to locate differences;
- the peer's pHash (first frame to 8-bit grey by min-max, ImageHash phash) as 16 hex digits;
  kizon's pHash is compared with it by Hamming distance.

Setup:  bench/peers/setup.sh   (venv at /tmp/kizon-peers-venv with pydicom, pylibjpeg*,
        Pillow, ImageHash, numpy)
Run:    /tmp/kizon-peers-venv/bin/python tools/oracle/make_pixel_fixtures.py
"""
import hashlib
import importlib.metadata as md
import json
import os
import pathlib
import struct
import warnings

import imagehash
import numpy as np
import pydicom
from PIL import Image
from pydicom.pixels import pixel_array

warnings.filterwarnings("ignore")

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = (ROOT / "testdata" / "dicom").resolve()
OUT = ROOT / "crates" / "kizon-pixels" / "tests" / "fixtures" / "pixels_oracle.json"
PREFIX = b"kizon-pixels canonical v1\0"


def canonical(arr, rows, cols, spp, frames, bits_stored, signed):
    width = 1 if bits_stored <= 8 else 2 if bits_stored <= 16 else 4
    h = hashlib.sha256()
    h.update(PREFIX)
    h.update(struct.pack("<IIII", rows, cols, spp, frames))
    h.update(bytes([width, 1 if signed else 0]))
    dtype = {1: "<i1", 2: "<i2", 4: "<i4"}[width] if signed else {1: "<u1", 2: "<u2", 4: "<u4"}[width]
    values = np.asarray(arr).astype(np.int64)
    mask = (1 << (8 * width)) - 1
    h.update((values & mask).astype({1: "<u1", 2: "<u2", 4: "<u4"}[width]).tobytes())
    return h.hexdigest(), dtype


def peer_phash(arr):
    """Exactly the peer's one_hash after decoding (dedup_phash.py)."""
    arr = arr.astype(np.float64)
    if arr.ndim >= 3 and arr.shape[-1] not in (3, 4):
        arr = arr[0]
    if arr.ndim == 3:
        arr = arr.mean(axis=-1)
    lo, hi = float(arr.min()), float(arr.max())
    img = ((arr - lo) / (hi - lo or 1.0) * 255).astype(np.uint8)
    return str(imagehash.phash(Image.fromarray(img)))


def main():
    files = {}
    for d, _, fs in sorted(os.walk(DATA)):
        for f in sorted(fs):
            path = pathlib.Path(d) / f
            rel = str(path.relative_to(DATA))
            entry = {}
            try:
                ds = pydicom.dcmread(path, force=True)
                if "PixelData" not in ds:
                    continue
                rows, cols = int(ds.Rows), int(ds.Columns)
                spp = int(ds.get("SamplesPerPixel", 1))
                frames = int(ds.get("NumberOfFrames", 1) or 1)
                bs = int(ds.get("BitsStored", ds.BitsAllocated))
                signed = int(ds.get("PixelRepresentation", 0)) == 1
                stored = pixel_array(ds, as_rgb=False)
                entry.update(rows=rows, columns=cols, samples_per_pixel=spp, frames=frames,
                             bits_stored=bs, signed=signed,
                             transfer_syntax=str(ds.file_meta.TransferSyntaxUID))
                entry["content_sha256"], _ = canonical(stored, rows, cols, spp, frames, bs, signed)
                first = stored[0] if frames > 1 else stored
                entry["first_frame_sha256"], _ = canonical(first, rows, cols, spp, 1, bs, signed)
                flat = np.asarray(first).reshape(-1).astype(np.int64)
                entry["first_values"] = [int(v) for v in flat[:8]]
                entry["sum_first_frame"] = int(flat.sum())
                # The peer decodes with pydicom's defaults (YBR converted to RGB). It cannot
                # hash multi-frame colour images (a 4-D array); "first_frame_phash" is the
                # same method applied to the first frame, which is what kizon does.
                rgb = ds.pixel_array
                if spp == 3:
                    # pydicom's default (as_rgb=True): what kizon gives for JPEG colour images.
                    first_rgb = rgb[0] if frames > 1 else rgb
                    entry["rgb_first_frame_sha256"], _ = canonical(first_rgb, rows, cols, spp, 1, bs, signed)
                    flat_rgb = np.asarray(first_rgb).reshape(-1).astype(np.int64)
                    entry["rgb_first_values"] = [int(v) for v in flat_rgb[:8]]
                    entry["rgb_sum_first_frame"] = int(flat_rgb.sum())
                try:
                    entry["peer_phash"] = peer_phash(rgb)
                except Exception as e:
                    entry["peer_phash_error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"
                entry["first_frame_phash"] = peer_phash(rgb[0] if frames > 1 else rgb)
            except Exception as e:  # pydicom cannot decode it: record why
                entry = {"error": f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"}
            files[rel] = entry
    versions = {p: md.version(p) for p in ["pydicom", "pylibjpeg", "pylibjpeg-libjpeg",
                                           "pylibjpeg-openjpeg", "pylibjpeg-rle", "numpy",
                                           "ImageHash", "Pillow", "scipy"]}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"generated_by": "tools/oracle/make_pixel_fixtures.py",
                               "versions": versions, "files": files}, indent=1, sort_keys=True) + "\n")
    print(f"{len(files)} images, versions {versions} -> {OUT}")


if __name__ == "__main__":
    main()
