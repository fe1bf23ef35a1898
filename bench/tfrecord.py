#!/usr/bin/env python3
"""Python peer for `gcml-bench tfrecord`: read frame-level YouTube-8M shards
without TensorFlow the usual way (protobuf's C/upb parser + numpy), verifying
CRC-32C, dequantising as the starter code does and mean-pooling each video.

Usage: tfrecord.py SHARD...   (prints one line like the Swift bench)
"""
import os
import struct
import sys
import time

import numpy as np
import crc32c

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures"))
from make_tfrecords import build_messages, masked  # noqa: E402


def records(path):
    with open(path, "rb") as f:
        while True:
            header = f.read(12)
            if not header:
                return
            (length,) = struct.unpack("<Q", header[:8])
            if struct.unpack("<I", header[8:])[0] != masked(crc32c.crc32c(header[:8])):
                raise ValueError("%s: bad length checksum" % path)
            payload = f.read(length)
            if struct.unpack("<I", f.read(4))[0] != masked(crc32c.crc32c(payload)):
                raise ValueError("%s: bad payload checksum" % path)
            yield payload


def main():
    shards = sys.argv[1:]
    SequenceExample = build_messages()["SequenceExample"]
    scalar, bias = np.float32(4.0 / 255.0), np.float32(4.0 / 512.0 - 2.0)
    total = sum(os.path.getsize(p) for p in shards)
    videos = frames = 0
    start, start_cpu = time.perf_counter(), time.process_time()
    for path in shards:
        for payload in records(path):
            ex = SequenceExample.FromString(payload)
            lists = ex.feature_lists.feature_list
            for key in ("rgb", "audio"):
                raw = b"".join(f.bytes_list.value[0] for f in lists[key].feature)
                q = np.frombuffer(raw, dtype=np.uint8).reshape(len(lists[key].feature), -1)
                (q.astype(np.float32) * scalar + bias).mean(axis=0)
            videos += 1
            frames += len(lists["rgb"].feature)
    wall, seconds = time.perf_counter() - start, time.process_time() - start_cpu
    print("%-44s %6.2f s CPU %9.0f records/s %8.1f MB/s %7.0f k frames/s  (wall %.2f s, %.1f MB/s)" % (
        "python peer (protobuf upb + numpy)", seconds, videos / seconds, total / 1e6 / seconds, frames / seconds / 1e3,
        wall, total / 1e6 / wall))


if __name__ == "__main__":
    main()
