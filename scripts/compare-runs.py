#!/usr/bin/env python3
"""Compares two pipeline runs (RUN folders of `make all`) artifact by artifact.

Every HDF5 file of RUN_A must exist in RUN_B. Each dataset and each numeric root
attribute (the metrics: map, ndcg_at_k, gap, ...) must be equal bit for bit, or, for
files matching a --tolerance pattern, within that relative difference (relative L2
norm for arrays). Timings (attributes with "seconds") and `ranks` are not compared.
Prints one line per file and exits 1 if anything differs beyond its tolerance.

    scripts/compare-runs.py /tmp/run-1 /tmp/run-3 --tolerance '*/annotation.h5=1e-3'

Needs h5py and numpy (and HDF5_PLUGIN_PATH=plugins for zstd-compressed datasets);
an outside reader for checking runs, never needed by the pipeline.
"""
import argparse
import fnmatch
import glob
import os
import sys

import h5py
import numpy as np

try:  # registers the zstd filter with h5py when installed; else HDF5_PLUGIN_PATH=plugins serves
    import hdf5plugin  # noqa: F401
except ImportError:
    pass


def tolerance_for(relative_path, tolerances):
    for pattern, value in tolerances:
        if fnmatch.fnmatch(relative_path, pattern):
            return value
    return 0.0


def relative_difference(a, b):
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    finite = np.isfinite(a) & np.isfinite(b)
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        return np.inf
    scale = np.linalg.norm(a[finite])
    gap = np.linalg.norm(a[finite] - b[finite])
    return gap / scale if scale > 0 else gap


def compare_values(name, a, b, tolerance, problems):
    """Appends a description to `problems` when a and b differ beyond `tolerance`; returns the relative difference."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        problems.append(f"{name}: shape {a.shape} vs {b.shape}")
        return np.inf
    if a.dtype.kind in "fc":
        if np.array_equal(a, b, equal_nan=True):
            return 0.0
    elif np.array_equal(a, b):
        return 0.0
    if a.dtype.kind not in "fciu" or tolerance == 0:
        problems.append(f"{name}: differs")
        return np.inf
    difference = relative_difference(a, b)
    if difference > tolerance:
        problems.append(f"{name}: relative difference {difference:.3g} > {tolerance:g}")
    return difference


def compare_file(path_a, path_b, tolerance):
    problems, largest, count = [], 0.0, 0
    with h5py.File(path_a, "r") as a, h5py.File(path_b, "r") as b:
        names = []
        a.visititems(lambda name, item: names.append(name) if isinstance(item, h5py.Dataset) else None)
        for name in names:
            if name not in b:
                problems.append(f"{name}: missing")
                continue
            count += 1
            largest = max(largest, compare_values(name, a[name][()], b[name][()], tolerance, problems))
        for key, value in a.attrs.items():
            if key == "ranks" or "seconds" in key or not isinstance(value, (int, float, np.number)):
                continue
            if key not in b.attrs:
                problems.append(f"@{key}: missing")
                continue
            largest = max(largest, compare_values("@" + key, value, b.attrs[key], tolerance, problems))
    return problems, largest, count


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_a")
    parser.add_argument("run_b")
    parser.add_argument("--tolerance", action="append", default=[], metavar="PATTERN=REL",
                        help="files matching PATTERN (relative to the run folder) may differ by REL (relative L2)")
    options = parser.parse_args()
    tolerances = []
    for item in options.tolerance:
        pattern, _, value = item.rpartition("=")
        try:
            tolerances.append((pattern, float(value)))
        except ValueError:
            sys.exit(f"--tolerance {item}: expected PATTERN=number")
    files = sorted(glob.glob(os.path.join(options.run_a, "**", "*.h5"), recursive=True))
    if not files:
        sys.exit(f"{options.run_a}: no .h5 files")
    failed = False
    for path in files:
        relative = os.path.relpath(path, options.run_a)
        other = os.path.join(options.run_b, relative)
        if not os.path.exists(other):
            print(f"{relative}: MISSING in {options.run_b}")
            failed = True
            continue
        tolerance = tolerance_for(relative, tolerances)
        problems, largest, count = compare_file(path, other, tolerance)
        if problems:
            failed = True
            print(f"{relative}: DIFFERS ({'; '.join(problems[:6])})")
        elif largest == 0:
            print(f"{relative}: identical ({count} datasets)")
        else:
            print(f"{relative}: within {tolerance:g} (largest relative difference {largest:.3g}, {count} datasets)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
