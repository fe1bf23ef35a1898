import Foundation
import LinearAlgebra

// gcml-bench NAME... — prints benchmark numbers (and peers' numbers when the
// Python tools are importable). `make bench` runs `gcml-bench all`.
// Each benchmark lives in its own file as `enum <Area>Bench { static func run(_:) }`.

let benchmarks: [(name: String, about: String, run: ([String]) throws -> Void)] = [
    ("io", "HDF5 write/read of 1 GiB float32, none vs zstd-3, vs h5py + hdf5plugin", IOBench.run),
    ("pca", "extract-pca fit + pool, 200 000 x 2048 -> 1500, two sizes, vs scikit-learn", PCABench.run),
    ("graph", "build-graph: sessions -> pair counts (50 M rows), exact kNN K=50 on 100 000 x 256 vs faiss", GraphBench.run),
    ("affinity", "affinity clustering, 3 levels, 1M nodes / 10M edges, vs scipy minimum_spanning_tree", AffinityBench.run),
    ("sampling", "triplet sampling (smart and random) on a 1M-node graph", SamplingBench.run),
    ("train", "triplet + sampled-softmax training steps/s, default sizes, vs PyTorch", TrainBench.run),
    ("tfrecord", "frame-level TFRecord read + decode + dequantise + pool, vs python protobuf", TFRecordBench.run),
    ("retrieval", "full-corpus top-60 retrieval, 10 000 queries x 100 000 videos x 256, vs faiss", RetrievalBench.run),
    ("ranks", "every distributed stage (extract-pca, sample-triplets, train-embed, embeddings, eval-map-ndcg, eval-gap) as 1 process vs 2 MPI ranks: time, peak RSS per rank, train-embed's bytes and collective share per step", RanksBench.run),
    ("graph-ranks", "build-graph on 50 M session rows as 1, 2 and 4 MPI ranks: time, peak RSS per rank, bytes sent per rank", GraphRanksBench.run),
    ("tree-ranks", "affinity-tree on 5M nodes / 50M edges as 1, 2, 4 MPI ranks: time, peak RSS per rank, bytes exchanged", TreeRanksBench.run),
]

let arguments = Array(CommandLine.arguments.dropFirst())
let selected = arguments.first ?? "all"
if selected == "-h" || selected == "--help" || benchmarks.first(where: { $0.name == selected }) == nil && selected != "all" {
    print("usage: gcml-bench [all | NAME] [options]\n")
    for b in benchmarks { print("  \(b.name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(b.about)") }
    exit(selected == "-h" || selected == "--help" ? 0 : 2)
}
print("OpenBLAS kernel \(BLAS.kernelName), \(BLAS.threads) threads" +
      (ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"].map { " (OPENBLAS_CORETYPE=\($0))" } ?? ""))
do {
    for bench in benchmarks where selected == "all" || bench.name == selected {
        print("== \(bench.name): \(bench.about) (\(BenchSupport.load()))")
        try bench.run(Array(arguments.dropFirst()))
        print("")
    }
} catch {
    FileHandle.standardError.write("gcml-bench: \(error)\n".data(using: .utf8)!)
    exit(1)
}
