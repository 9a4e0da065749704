#!/usr/bin/python3
"""Facts about DICOM files, read with pydicom (an independent reader), as JSON for the tests.

Usage: dicom_facts.py FILE... ; prints {file: facts}. For each file: the patient's name and ID,
every DA value by keyword (top level), the instance UIDs, the SHA-256 of the Pixel Data element's
bytes as stored, a fingerprint of what de-identification keeps (to match an output to its
original), and every text value (for the test that looks for originals in the output)."""
import hashlib
import json
import sys

import pydicom

out = {}
for path in sys.argv[1:]:
    ds = pydicom.dcmread(path)
    dates = {}
    texts = []
    for element in ds.iterall():
        if element.VR in ("DA",) and element.value:
            dates[element.keyword or str(element.tag)] = str(element.value)
        if element.VR in ("PN", "LO", "SH", "LT", "ST", "UT", "CS", "AE", "DA", "UI") and element.value:
            texts.append(str(element.value))
    top_dates = {e.keyword: str(e.value) for e in ds if e.VR == "DA" and e.value}
    pixel = ds.get((0x7FE0, 0x0010))
    pixel_sha256 = hashlib.sha256(pixel.value).hexdigest() if pixel is not None else None
    # What de-identification keeps and a file is told apart by: the pixels as stored, the
    # numbers and times (kept when dates move), the class. Matches an output to its original.
    kept = [pixel_sha256] + [
        str(ds.get(k, ""))
        for k in ("SeriesNumber", "InstanceNumber", "StudyTime", "SeriesTime", "AcquisitionTime",
                  "ContentTime", "SOPClassUID", "Rows", "Columns")
    ]
    out[path] = {
        "PatientName": str(ds.get("PatientName", "")),
        "PatientID": str(ds.get("PatientID", "")),
        "PatientAge": str(ds.get("PatientAge", "")),
        "PatientIdentityRemoved": str(ds.get("PatientIdentityRemoved", "")),
        "methods": [str(i.CodeValue) for i in ds.get("DeidentificationMethodCodeSequence", [])],
        "dates": top_dates,
        "all_dates": dates,
        "StudyInstanceUID": str(ds.get("StudyInstanceUID", "")),
        "SeriesInstanceUID": str(ds.get("SeriesInstanceUID", "")),
        "SOPInstanceUID": str(ds.get("SOPInstanceUID", "")),
        "MediaStorageSOPInstanceUID": str(ds.file_meta.get("MediaStorageSOPInstanceUID", "")),
        "FrameOfReferenceUID": str(ds.get("FrameOfReferenceUID", "")),
        "pixel_sha256": pixel_sha256,
        "fingerprint": hashlib.sha256(json.dumps(kept).encode()).hexdigest(),
        "texts": texts,
        "pydicom": pydicom.__version__,
    }
print(json.dumps(out))
