#!/usr/bin/env python3
"""Peer for gcml-bench retrieval: exact inner-product top-k with faiss IndexFlatIP.

usage: retrieval.py VECTORS.f32 N D Q K [THREADS]
Reads N x D float32 (raw, row-major, unit rows), searches the first Q rows against
all N for K + 1 neighbours (the query itself is among them; gcml excludes it), and
prints one JSON line {"seconds": S, "queries_per_second": R}.
"""
import json
import sys
import time

import numpy as np
import faiss

path, n, d, q, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
threads = int(sys.argv[6]) if len(sys.argv) > 6 else 2
faiss.omp_set_num_threads(threads)
x = np.fromfile(path, dtype=np.float32).reshape(n, d)
index = faiss.IndexFlatIP(d)
index.add(x)
start = time.perf_counter()
scores, ids = index.search(x[:q], k + 1)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "queries_per_second": q / seconds}))
