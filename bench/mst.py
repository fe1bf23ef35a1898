"""Peer for gcml-bench affinity: scipy's minimum_spanning_tree on the negated train graph
(a maximum spanning forest) read from the same graph.h5."""
import sys, time
import numpy as np, h5py, hdf5plugin  # noqa: F401  (hdf5plugin registers the zstd filter)
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import minimum_spanning_tree

with h5py.File(sys.argv[1], "r") as f:
    indptr = f["train/indptr"][...]
    indices = f["train/indices"][...]
    weights = f["train/weights"][...].astype(np.float64)
n = len(indptr) - 1
graph = csr_matrix((-weights, indices, indptr), shape=(n, n))
start = time.perf_counter()
forest = minimum_spanning_tree(graph)
seconds = time.perf_counter() - start
print("scipy_mst_seconds", seconds)
print("forest_weight", -forest.sum())
