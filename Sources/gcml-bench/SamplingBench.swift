import Artifacts
import Contracts
import Foundation
import Graphs
import Sampling
import Support

/// sample-triplets on a random graph of 1 M videos / 10 M edges with its 3-level affinity tree:
/// triplets per second in memory (1 and 2 threads, smart and random) and for the stage writing a file.
///
///     gcml-bench sampling [--nodes N] [--edges E] [--count C] [--threads T] [--keep]
enum SamplingBench {
    static func run(_ arguments: [String]) throws {
        let nodes = AffinityBench.option(arguments, "--nodes") ?? 1_000_000
        let edges = AffinityBench.option(arguments, "--edges") ?? 10_000_000
        let count = AffinityBench.option(arguments, "--count") ?? 20_000_000
        let threads = AffinityBench.option(arguments, "--threads") ?? 2
        let folder = NSTemporaryDirectory() + "gcml-bench-sampling-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let keep = arguments.contains("--keep")
        defer { if keep { print("kept \(folder)") } else { try? FileManager.default.removeItem(atPath: folder) } }

        let graph = AffinityBench.randomGraph(nodes: nodes, edges: edges, seed: 2)
        let tree = AffinityClustering(levels: 3, linkage: .max, threads: threads).cluster(graph).tree
        let csrMiB = Double(graph.indptr.count * 8 + graph.indices.count * 4 + graph.weights.count * 4) / 1048576
        print("graph: \(nodes) videos, \(graph.entryCount / 2) edges (CSR \(BenchSupport.format(csrMiB)) MiB); tree clusters \(tree.levels.map { String($0.clusterCount) }.joined(separator: " / "))")

        for strategy in TripletSampler.Strategy.allCases {
            for t in Set([1, threads]).sorted() {
                let before = AffinityBench.residentMiB()
                AffinityBench.resetPeak()
                let (sampler, setup) = BenchSupport.time {
                    TripletSampler(graph: graph, tree: strategy == .smart ? tree : nil, strategy: strategy,
                                   levelWeights: [1, 1, 1], seed: 1, threads: t)
                }
                var checksum = 0
                let (stats, seconds) = try BenchSupport.time {
                    try sampler.sample(count: count) { block in checksum &+= Int(block.negative[block.count - 1]) }
                }
                let extra = AffinityBench.peakMiB() - before
                let levels = stats.negativeLevels.map(String.init).joined(separator: "/")
                print("gcml \(strategy.rawValue), \(t) thread\(t == 1 ? "" : "s"): \(BenchSupport.format(Double(count) / seconds / 1e6, 2)) M triplets/s (\(count) in \(BenchSupport.format(seconds, 2)) s, setup \(BenchSupport.format(setup, 2)) s); levels \(levels); memory over the graph \(BenchSupport.format(extra)) MiB")
            }
        }

        // The stage end to end: read graph + tree, sample, write zstd datasets.
        let graphPath = folder + "/graph.h5", treePath = folder + "/tree.h5"
        try Artifact.write(graphPath, schema: .graph, createdBy: "gcml-bench") { file in
            try RelationalGraph(videoIDs: (0..<nodes).map { "v\($0)" }, train: graph, heldout: CSRGraph(nodes: nodes), heldoutNodes: []).write(to: file)
        }
        try Artifact.write(treePath, schema: .tree, createdBy: "gcml-bench") { file in try tree.write(to: file) }
        let stage = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("sample-triplets").path
        if FileManager.default.isExecutableFile(atPath: stage) {
            // Once with no triplets (read the inputs, build the tables, write an empty file), once with `count`.
            var fixed = 0.0
            for n in [0, count] {
                let (status, seconds, peak) = try BenchSupport.runMeasured(stage, ["--graph", graphPath, "--tree", treePath, "--out", folder + "/triplets.h5",
                                                                                "--level-mix", "1,1,1", "--count", String(n), "--threads", String(threads)])
                guard status == 0 else { print("sample-triplets stage failed with status \(status)"); break }
                if n == 0 {
                    fixed = seconds
                    print("sample-triplets stage, read + tables only (--count 0): \(BenchSupport.format(seconds, 2)) s, peak RSS \(BenchSupport.format(peak)) MiB")
                } else {
                    let size = Double((try? FileManager.default.attributesOfItem(atPath: folder + "/triplets.h5")[.size] as? Int) ?? 0) / 1048576
                    print("sample-triplets stage (read, sample, write \(count)): \(BenchSupport.format(seconds, 2)) s, \(BenchSupport.format(Double(count) / seconds / 1e6, 2)) M triplets/s overall, \(BenchSupport.format(Double(count) / max(1e-9, seconds - fixed) / 1e6, 2)) M/s sample + write; file \(BenchSupport.format(size)) MiB; peak RSS \(BenchSupport.format(peak)) MiB")
                }
            }
        }
    }
}
