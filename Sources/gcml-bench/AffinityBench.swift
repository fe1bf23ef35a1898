import Artifacts
import Contracts
import Foundation
import Graphs
import Support

/// affinity-tree on a random graph (default 1 M nodes, 10 M undirected edges): 3 levels of
/// affinity clustering, and to convergence (a maximum spanning forest) against scipy's
/// `minimum_spanning_tree(-G)` on the same graph file.
enum AffinityBench {
    static func run(_ arguments: [String]) throws {
        let nodes = option(arguments, "--nodes") ?? 1_000_000
        let edges = option(arguments, "--edges") ?? 10_000_000
        let levels = option(arguments, "--levels") ?? 3
        let threads = option(arguments, "--threads") ?? 2
        let folder = NSTemporaryDirectory() + "gcml-bench-affinity-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }

        let (graph, buildSeconds) = BenchSupport.time { randomGraph(nodes: nodes, edges: edges, seed: 1) }
        let csrMiB = Double(graph.indptr.count * 8 + graph.indices.count * 4 + graph.weights.count * 4) / 1048576
        print("graph: \(nodes) nodes, \(graph.entryCount / 2) edges, uniform weights; CSR \(BenchSupport.format(csrMiB)) MiB (generated in \(BenchSupport.format(buildSeconds, 1)) s)")

        var best3 = Double.infinity
        for linkage in AffinityClustering.Linkage.allCases {
            for t in Set([1, threads]).sorted() {
                let before = residentMiB()
                resetPeak()
                let cpuBefore = cpuSeconds()
                let (result, seconds) = BenchSupport.time {
                    AffinityClustering(levels: levels, linkage: linkage, threads: t).cluster(graph)
                }
                let cpu = cpuSeconds() - cpuBefore
                let extra = peakMiB() - before
                if linkage == .max && t == threads { best3 = seconds }
                let counts = result.tree.levels.map { String($0.clusterCount) }.joined(separator: " / ")
                print("gcml affinity \(linkage.rawValue), \(levels) levels, \(t) thread\(t == 1 ? "" : "s"): \(BenchSupport.format(seconds, 3)) s (CPU \(BenchSupport.format(cpu, 3)) s); clusters \(counts); working memory \(BenchSupport.format(extra)) MiB over the graph (peak = \(BenchSupport.format((csrMiB + extra) / csrMiB, 2))× CSR)")
            }
        }
        let (forest, forestSeconds) = BenchSupport.time {
            AffinityClustering(levels: 64, linkage: .max, threads: threads).cluster(graph)
        }
        let rounds = forest.links.last?.round ?? 0
        print("gcml Borůvka to convergence (\(rounds) rounds), \(threads) threads: \(BenchSupport.format(forestSeconds, 3)) s; spanning-forest weight \(BenchSupport.format(forest.linkWeight, 3))")

        // The stage end to end (read graph.h5, cluster, write tree.h5), in a child process for its own peak memory.
        let graphPath = folder + "/graph.h5"
        try Artifact.write(graphPath, schema: .graph, createdBy: "gcml-bench") { file in
            try RelationalGraph(videoIDs: (0..<nodes).map { "v\($0)" }, train: graph, heldout: CSRGraph(nodes: nodes), heldoutNodes: []).write(to: file)
        }
        let stage = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("affinity-tree").path
        if FileManager.default.isExecutableFile(atPath: stage) {
            let (status, seconds, maxrss) = try BenchSupport.runMeasured(stage, ["--graph", graphPath, "--out", folder + "/tree.h5", "--levels", String(levels), "--threads", String(threads)])
            if status == 0 {
                print("affinity-tree stage (read + cluster + write): \(BenchSupport.format(seconds, 2)) s, peak RSS \(BenchSupport.format(maxrss)) MiB (\(BenchSupport.format(maxrss / csrMiB, 2))× CSR)")
            }
        }

        if BenchSupport.pythonHas("scipy, h5py, hdf5plugin, numpy"), let peer = BenchSupport.peer("mst.py", [graphPath]),
           let scipySeconds = peer["scipy_mst_seconds"] {
            print("scipy minimum_spanning_tree(-G): \(BenchSupport.format(scipySeconds, 3)) s; spanning-forest weight \(BenchSupport.format(peer["forest_weight"] ?? .nan, 3))")
            print("→ affinity \(levels) levels ×\(BenchSupport.format(scipySeconds / best3, 1)) faster than scipy MST; to convergence ×\(BenchSupport.format(scipySeconds / forestSeconds, 1))")
        } else {
            print("(scipy/h5py/hdf5plugin not importable: no peer number)")
        }
    }

    /// Uniform random graph: `edges` distinct undirected edges with weights in (0, 1], symmetric CSR
    /// with sorted columns. Built by counting sort (fromEntries' per-row sort is too slow at this size).
    static func randomGraph(nodes: Int, edges: Int, seed: UInt64) -> CSRGraph {
        var rng = SeededGenerator(seed: seed)
        var a = [Int32](repeating: 0, count: edges), b = a
        var w = [Float](repeating: 0, count: edges)
        for e in 0..<edges {
            let u = rng.below(nodes)
            var v = rng.below(nodes - 1)
            if v >= u { v += 1 }
            a[e] = Int32(u); b[e] = Int32(v); w[e] = Float(1 - rng.unit())
        }
        var indptr = [Int64](repeating: 0, count: nodes + 1)
        for e in 0..<edges { indptr[Int(a[e]) + 1] += 1; indptr[Int(b[e]) + 1] += 1 }
        for i in 0..<nodes { indptr[i + 1] += indptr[i] }
        var cursor = indptr
        var indices = [Int32](repeating: 0, count: 2 * edges)
        var weights = [Float](repeating: 0, count: 2 * edges)
        for e in 0..<edges {
            let (u, v) = (Int(a[e]), Int(b[e]))
            indices[Int(cursor[u])] = b[e]; weights[Int(cursor[u])] = w[e]; cursor[u] += 1
            indices[Int(cursor[v])] = a[e]; weights[Int(cursor[v])] = w[e]; cursor[v] += 1
        }
        a = []; b = []; w = []
        // Sort each row by column (insertion sort: rows are short) and merge repeated pairs (keep the max,
        // the same on both sides, so the graph stays symmetric).
        var out = 0
        var start = 0
        for i in 0..<nodes {
            let end = Int(indptr[i + 1])
            for j in (start + 1)..<max(start + 1, end) {
                let c = indices[j], x = weights[j]
                var k = j - 1
                while k >= start && indices[k] > c { indices[k + 1] = indices[k]; weights[k + 1] = weights[k]; k -= 1 }
                indices[k + 1] = c; weights[k + 1] = x
            }
            let rowStart = out
            for j in start..<end {
                if out > rowStart && indices[out - 1] == indices[j] { weights[out - 1] = max(weights[out - 1], weights[j]) } else {
                    indices[out] = indices[j]; weights[out] = weights[j]; out += 1
                }
            }
            start = end
            indptr[i + 1] = Int64(out)
        }
        indices.removeLast(indices.count - out)
        weights.removeLast(weights.count - out)
        return CSRGraph(indptr: indptr, indices: indices, weights: weights)
    }

    static func option(_ arguments: [String], _ name: String) -> Int? {
        guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
        return Int(arguments[i + 1].replacingOccurrences(of: "_", with: ""))
    }

    /// User + system CPU seconds of this process (a steadier number than wall time on a shared machine).
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// Current and peak resident memory from /proc (Linux); the peak can be reset.
    static func residentMiB() -> Double { procStatus("VmRSS:") }
    static func peakMiB() -> Double { procStatus("VmHWM:") }
    static func resetPeak() { try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8) }

    private static func procStatus(_ key: String) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key) }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return .nan }
        return kb / 1024
    }
}
