#!/usr/bin/env python3
"""Expected samples of a real DICOM waveform for kizon-formats, from an independent reader
(pydicom's numpy waveform handler), written as JSON into crates/kizon-formats/tests/fixtures/
and committed, so `cargo test` needs no Python. The fixture records the pydicom and numpy
versions that produced it; running the script again gives a byte-identical file.

For every multiplex group of testdata/dicom/pydicom/waveform_ecg.dcm it records the
group attributes, each channel's definition, and per channel:
  - the SHA-256 of the raw digital samples written as int32 little endian
    (`multiplex_array(ds, i, as_raw=True)`), plus count, sum, min, max and the first samples;
  - physical values from `ds.waveform_array(i)` (sample x sensitivity x correction + baseline):
    their sum and the values at a few fixed sample indices.

Setup:  bench/peers/setup.sh          (creates /tmp/kizon-peers-venv with pydicom 3.0.2, numpy)
Run:    /tmp/kizon-peers-venv/bin/python tools/oracle/make_dicom_waveform_fixture.py
"""
import hashlib
import json
import pathlib

import numpy as np
import pydicom
from pydicom.waveforms.numpy_handler import multiplex_array

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCE = ROOT / "testdata/dicom/pydicom/waveform_ecg.dcm"
FIXTURE = ROOT / "crates/kizon-formats/tests/fixtures/waveform_ecg_pydicom.json"
PROBES = [0, 1, 2, 100, 999, 1199]


def code_meaning(item, keyword):
    seq = item.get(keyword)
    return str(seq[0].CodeMeaning) if seq else None


def code_value(item, keyword):
    seq = item.get(keyword)
    return str(seq[0].CodeValue) if seq else None


def main():
    ds = pydicom.dcmread(SOURCE)
    groups = []
    for index, group in enumerate(ds.WaveformSequence):
        raw = multiplex_array(ds, index, as_raw=True)
        physical = ds.waveform_array(index)
        channels = []
        for c, definition in enumerate(group.ChannelDefinitionSequence):
            samples = raw[:, c].astype("<i4")
            channels.append({
                "source": code_meaning(definition, "ChannelSourceSequence"),
                "sensitivity": float(definition.ChannelSensitivity),
                "sensitivity_units": code_value(definition, "ChannelSensitivityUnitsSequence"),
                "correction_factor": float(definition.ChannelSensitivityCorrectionFactor),
                "baseline": float(definition.ChannelBaseline),
                "bits_stored": int(definition.WaveformBitsStored),
                "samples": int(samples.size),
                "int32le_sha256": hashlib.sha256(samples.tobytes()).hexdigest(),
                "sum": int(samples.astype(np.int64).sum()),
                "min": int(samples.min()),
                "max": int(samples.max()),
                "first": [int(v) for v in samples[:8]],
                "physical_sum": round(float(physical[:, c].sum()), 6),
                "physical_at": {str(i): float(physical[i, c]) for i in PROBES if i < len(samples)},
            })
        groups.append({
            "label": str(group.get("MultiplexGroupLabel", "")) or None,
            "channels": int(group.NumberOfWaveformChannels),
            "samples": int(group.NumberOfWaveformSamples),
            "sampling_frequency_hz": float(group.SamplingFrequency),
            "bits_allocated": int(group.WaveformBitsAllocated),
            "sample_interpretation": str(group.WaveformSampleInterpretation),
            "channel_definitions": channels,
        })
    doc = {
        "source": "testdata/dicom/pydicom/waveform_ecg.dcm",
        "oracle": "pydicom.waveforms.numpy_handler.multiplex_array(as_raw=True) and Dataset.waveform_array",
        "versions": {"pydicom": pydicom.__version__, "numpy": np.__version__},
        "groups": groups,
    }
    FIXTURE.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{FIXTURE.relative_to(ROOT)}: {len(groups)} groups")


if __name__ == "__main__":
    main()
