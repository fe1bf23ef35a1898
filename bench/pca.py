#!/usr/bin/env python3
"""Peer for the extract-pca bench: scikit-learn PCA(svd_solver='covariance_eigh')
fit + transform on every frame, then numpy mean pooling per video, on the same
frames.h5 that extract-pca reads. Prints one JSON line of seconds."""
import argparse
import json
import os
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("frames")
    parser.add_argument("--k", type=int, default=1500)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[name] = str(args.threads)
    import h5py
    import numpy as np
    from sklearn.decomposition import PCA

    times = {}
    t = time.perf_counter()
    with h5py.File(args.frames, "r") as f:
        x = f["visual"][...]
        offsets = f["frame_offsets"][...]
    times["load"] = time.perf_counter() - t

    t = time.perf_counter()
    pca = PCA(n_components=args.k, svd_solver="covariance_eigh")
    pca.fit(x)
    times["fit"] = time.perf_counter() - t

    t = time.perf_counter()
    y = pca.transform(x)
    times["transform"] = time.perf_counter() - t

    t = time.perf_counter()
    counts = np.diff(offsets)
    pooled = np.add.reduceat(y, offsets[:-1], axis=0) / counts[:, None]
    times["pool"] = time.perf_counter() - t

    times["compute"] = times["fit"] + times["transform"] + times["pool"]
    times["total"] = times["load"] + times["compute"]
    print(f"sklearn dtype {x.dtype} -> {y.dtype}, pooled {pooled.shape}", file=sys.stderr)
    print(json.dumps(times))


if __name__ == "__main__":
    main()
