"""Peer for gcml-bench io: h5py + hdf5plugin writing and cold-reading the same data layout."""
import os, sys, time
import numpy as np, h5py, hdf5plugin

path, label, megabytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
columns = 1024
rows = megabytes * (1 << 20) // (columns * 4)
block_rows = min(rows, 16384)
rng = np.random.default_rng(1)
basis = rng.standard_normal((16, columns)).astype(np.float32)
block = ((rng.standard_normal((block_rows, 16)).astype(np.float32) @ basis
          + 0.05 * rng.standard_normal((block_rows, columns)).astype(np.float32)) * 0.1).astype(np.float32)
kwargs = {} if label == "none" else hdf5plugin.Zstd(clevel=3)
start = time.perf_counter()
with h5py.File(path, "w") as f:
    d = f.create_dataset("x", shape=(0, columns), maxshape=(None, columns), dtype=np.float32, chunks=(1024, columns), **kwargs)
    written = 0
    while written < rows:
        n = min(block_rows, rows - written)
        d.resize(written + n, axis=0)
        d[written:written + n] = block[:n]
        written += n
write = time.perf_counter() - start
fd = os.open(path, os.O_RDONLY); os.fsync(fd); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)
start = time.perf_counter()
with h5py.File(path, "r") as f:
    d = f["x"]
    read = 0
    buffer = np.empty((block_rows, columns), np.float32)
    while read < rows:
        n = min(block_rows, rows - read)
        d.read_direct(buffer, np.s_[read:read + n], np.s_[0:n])
        read += n
read_time = time.perf_counter() - start
mb = rows * columns * 4 / 1e6
print("write_mbps", mb / write)
print("read_mbps", mb / read_time)
os.remove(path)
