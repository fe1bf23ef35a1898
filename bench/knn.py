#!/usr/bin/env python3
"""Peer for gcml-bench graph: exact inner-product kNN with faiss IndexFlatIP.

usage: knn.py VECTORS.f32 N D K [THREADS]
Reads N x D float32 (raw, row-major, unit rows), searches every row against all
rows for K + 1 neighbours (the row itself is among them, as gcml excludes it),
and prints "seconds S" and "queries_per_second Q" lines.
"""
import sys
import time

import numpy as np
import faiss

path, n, d, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
threads = int(sys.argv[5]) if len(sys.argv) > 5 else 2
faiss.omp_set_num_threads(threads)
x = np.fromfile(path, dtype=np.float32).reshape(n, d)
index = faiss.IndexFlatIP(d)
index.add(x)
start = time.perf_counter()
scores, ids = index.search(x, k + 1)
seconds = time.perf_counter() - start
print(f"seconds {seconds:.3f}")
print(f"queries_per_second {n / seconds:.1f}")
