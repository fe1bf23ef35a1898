#!/usr/bin/env python3
"""Hash the values of every dataset in HDF5 files (attributes are ignored).

Prints one line per dataset: <file basename> <dataset path> <dtype> <shape> <sha256 of values>.
Two runs of a refactored pipeline compare with `diff`: the same seed must give the same lines.

    python3 scripts/dataset-hashes.py runs/tiny/features.h5 runs/tiny/graph.h5 > hashes.txt
"""
import hashlib
import os
import sys

import h5py
import hdf5plugin  # noqa: F401  (registers zstd, filter 32015)
import numpy as np


def dataset_lines(path):
    lines = []

    def visit(name, obj):
        if not isinstance(obj, h5py.Dataset):
            return
        values = obj[()]
        digest = hashlib.sha256()
        if obj.dtype.kind in ("O", "S", "U") or h5py.check_string_dtype(obj.dtype) is not None:
            flat = np.asarray(values).reshape(-1)
            for item in flat:
                digest.update(item if isinstance(item, bytes) else str(item).encode("utf-8"))
                digest.update(b"\0")
        else:
            digest.update(np.ascontiguousarray(values).tobytes())
        lines.append(f"{os.path.basename(path)} /{name} {obj.dtype} {list(obj.shape)} {digest.hexdigest()}")

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return lines


def main(paths):
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    for path in paths:
        for line in dataset_lines(path):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
