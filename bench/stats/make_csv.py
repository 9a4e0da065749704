#!/usr/bin/env python3
"""Writes the ROC input of bench/stats/run.sh: N seeded binormal scores (30% positives,
score = N(0,1) + truth) as a CSV with a header `truth,score`, 6 significant digits.
Usage: make_csv.py N FILE"""
import random
import sys

n, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(20261203)
with open(path, "w") as out:
    out.write("truth,score\n")
    lines = []
    for _ in range(n):
        truth = rng.random() < 0.3
        lines.append(f"{int(truth)},{rng.gauss(0, 1) + truth:.6g}\n")
        if len(lines) == 65536:
            out.write("".join(lines))
            lines = []
    out.write("".join(lines))
