"""Peer for bench/method-comparison: methcomp's Passing-Bablok (PyPI methcomp 1.0.0, the
Python package a user would reach for), timed around its computation (no plotting).

Usage: method_comparison_peer.py FILE.csv   (columns x,y)   prints: seconds slope
"""
import csv
import sys
import time

from methcomp.regression import _PassingBablok

with open(sys.argv[1], newline="") as f:
    rows = list(csv.DictReader(f))
x = [float(r["x"]) for r in rows]
y = [float(r["y"]) for r in rows]
start = time.perf_counter()
fit = _PassingBablok(x, y, "x", "y", None, 0.95, True, False, True, "#000000", "#008bff")
seconds = time.perf_counter() - start
print(f"{seconds:.6f} {fit.slope[0]:.10g}")
