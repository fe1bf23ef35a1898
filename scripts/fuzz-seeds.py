#!/usr/bin/env python3
"""Seed inputs for the libFuzzer targets (scripts/fuzz.sh): valid examples the mutations start from.

usage: fuzz-seeds.py TARGET CORPUS_FOLDER   (TARGET: lines, tfrecord or artifact)
Each input begins as the target expects (FuzzTargets.swift): lines and tfrecord take a first
byte of flags.
"""
import os
import subprocess
import sys
import tempfile

target, corpus = sys.argv[1], sys.argv[2]
os.makedirs(corpus, exist_ok=True)
here = os.path.dirname(os.path.abspath(__file__))


def seed(name, data):
    with open(os.path.join(corpus, "seed-" + name), "wb") as f:
        f.write(data)


if target == "lines":
    sessions = b"u1\tv1\t10\nu1\tv2\t11\nu1\ta\t12\nu2\tv3\nu2\tv1\nu2\tb\n"
    pairs = b"v1\tv2\t3\nv2\tv3\na\tb\t0.5\nv9\tc\t1e3\n"
    seed("sessions", b"\x00" + sessions)
    seed("sessions-skip", b"\x02" + sessions)
    seed("pairs", b"\x01" + pairs)
    seed("pairs-gz-like", b"\x03" + pairs.replace(b"\t", b" "))
elif target == "tfrecord":
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([sys.executable, os.path.join(here, "..", "tests", "fixtures", "make_tfrecords.py"), folder], check=True)
        custom = os.path.join(folder, "custom")
        for name in sorted(os.listdir(custom)):
            with open(os.path.join(custom, name), "rb") as f:
                data = f.read()
            for flags in (0, 1, 2, 3):   # checksums off/on, direct/protobuf decoder
                seed("%s-%d" % (name, flags), bytes([flags]) + data)
elif target == "artifact":
    import h5py
    import hdf5plugin
    import numpy as np

    def h5(name, build):
        path = os.path.join(corpus, "seed-" + name)
        with h5py.File(path, "w") as f:
            build(f)

    def triplets(f):
        f.attrs["schema"] = "gcml.triplets/1"
        for key in ("anchor", "positive", "negative"):
            f[key] = np.arange(6, dtype=np.int32)
        f["negative_level"] = np.zeros(6, dtype=np.int8)

    def graph(f):
        f.attrs["schema"] = "gcml.graph/1"
        f["video_id"] = np.array(["a", "b", "c"], dtype=h5py.string_dtype("utf-8"))
        for group in ("train", "heldout"):
            f[group + "/indptr"] = np.array([0, 1, 2, 2], dtype=np.int64)
            f[group + "/indices"] = np.array([1, 0], dtype=np.int32)
            f[group + "/weights"] = np.array([1, 1], dtype=np.float32)
        f["heldout_nodes"] = np.array([2], dtype=np.int32)

    def features(f):
        f.attrs["schema"] = "gcml.features/1"
        f["video_id"] = np.array(["a", "b", "c", "d"], dtype=h5py.string_dtype("utf-8"))
        f.create_dataset("visual", data=np.arange(16, dtype=np.float32).reshape(4, 4), chunks=(2, 4), **hdf5plugin.Zstd())
        f["audio"] = np.ones((4, 2), dtype=np.float32)
        f["frame_count"] = np.ones(4, dtype=np.int32)

    def tree(f):
        f.attrs["schema"] = "gcml.tree/1"
        f["level_1/assignment"] = np.array([0, 0, 1, 2], dtype=np.int32)
        f["level_1/size"] = np.array([2, 1, 1], dtype=np.int64)
        f["level_1/parent"] = np.array([0, 0, 1], dtype=np.int32)
        f["level_2/assignment"] = np.array([0, 0, 0, 1], dtype=np.int32)
        f["level_2/size"] = np.array([3, 1], dtype=np.int64)

    h5("triplets.h5", triplets)
    h5("graph.h5", graph)
    h5("features.h5", features)
    h5("tree.h5", tree)
else:
    sys.exit("unknown target " + target)
