#!/usr/bin/python3
"""Checks a blanked image against its original with pydicom and numpy (independent of kizon).

Usage: blanked.py ORIGINAL OUTPUT X Y W H [X Y W H ...]
Prints JSON: the samples inside the rectangles that are not 0, and the samples outside them
that differ from the original (both must be 0), and how many samples were compared."""
import json
import sys

import numpy
import pydicom

original = pydicom.dcmread(sys.argv[1]).pixel_array
output = pydicom.dcmread(sys.argv[2]).pixel_array
numbers = [int(v) for v in sys.argv[3:]]
if original.shape != output.shape:
    print(json.dumps({"shape": list(output.shape), "outside_changed": -1}))
    sys.exit(0)
inside = numpy.zeros(original.shape[:2] if original.ndim == 3 and original.shape[-1] in (3, 4) else original.shape, dtype=bool)
for x, y, w, h in zip(*[iter(numbers)] * 4):
    inside[..., y:y + h, x:x + w] = True
if original.ndim == 3 and original.shape[-1] in (3, 4) and inside.ndim == 2:
    inside = numpy.repeat(inside[:, :, None], original.shape[-1], axis=2)
print(json.dumps({
    "shape": list(original.shape),
    "inside_not_zero": int((output[inside] != 0).sum()),
    "inside": int(inside.sum()),
    "outside_changed": int((output[~inside] != original[~inside]).sum()),
    "outside": int((~inside).sum()),
    "inside_before_not_zero": int((original[inside] != 0).sum()),
}))
