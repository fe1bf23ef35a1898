import Artifacts
import Contracts
import Foundation
import Support

/// affinity-tree as 1 process and as 2 and 4 MPI ranks (mpirun, oversubscribed here) on a generated
/// graph: wall time, peak RSS of each rank and the bytes the ranks sent each other. The edges are
/// split over the ranks, so their share of the RSS should fall as 1/ranks; what stays is replicated
/// (a label per video, a few arrays per cluster; see docs/cluster.md).
enum TreeRanksBench {
    static func run(_ arguments: [String]) throws {
        func value(_ name: String, _ fallback: Int) -> Int { BenchSupport.intOption(arguments, name, fallback) }
        let nodes = value("--nodes", 5_000_000), edges = value("--edges", 50_000_000), levels = value("--levels", 3)
        let rankCounts = [1, 2, 4].filter { $0 <= value("--max-ranks", 4) }
        try BenchSupport.withMPIScratchFolder("tree-ranks") { folder in
            let graphPath = "\(folder)/graph.h5"
            do {
                let train = AffinityBench.randomGraph(nodes: nodes, edges: edges, seed: 7)
                let graph = RelationalGraph(videoIDs: (0..<nodes).map { "v\($0)" }, train: train, heldout: CSRGraph(nodes: nodes), heldoutNodes: [])
                try Artifact.write(graphPath, schema: .graph, createdBy: "gcml-bench") { try graph.write(to: $0) }
            }
            print("\(nodes) videos, \(edges) random edges (weights in (0, 1]), \(levels) levels; max and average linkage")
            print("linkage   ranks   seconds   peak RSS per rank (MB)          bytes sent (all ranks)   same tree")
            for linkage in ["max", "average"] {
                var reference: Data?
                for ranks in rankCounts {
                    let out = "\(folder)/tree-\(linkage)-\(ranks).h5"
                    let measured = try RanksBench.measure(program: "affinity-tree", arguments: ["--graph", graphPath, "--out", out, "--levels", "\(levels)",
                                                                                                 "--linkage", linkage, "--threads", "1"],
                                                          ranks: ranks, folder: folder)
                    let rss = measured.peakKilobytes.map { String(format: "%.0f", Double($0) / 1024) }.joined(separator: ", ")
                    let datasets = try treeDatasets(out)
                    if reference == nil { reference = datasets }
                    print(linkage.padding(toLength: 8, withPad: " ", startingAt: 0) + String(format: "%6d %9.2f   ", ranks, measured.seconds)
                          + rss.padding(toLength: 32, withPad: " ", startingAt: 0) + (measured.collectives ?? "-").padding(toLength: 25, withPad: " ", startingAt: 0)
                          + (datasets == reference ? "yes" : "NO"))
                    try? FileManager.default.removeItem(atPath: out)
                }
            }
        }
    }

    /// The levels' datasets as bytes, to check that every rank count wrote the same tree.
    static func treeDatasets(_ path: String) throws -> Data {
        let tree = try ClusterTree.read(path)
        var bytes = Data()
        for level in tree.levels {
            level.assignment.withUnsafeBytes { bytes.append(contentsOf: $0) }
            level.size.withUnsafeBytes { bytes.append(contentsOf: $0) }
            level.parent?.withUnsafeBytes { bytes.append(contentsOf: $0) }
        }
        return bytes
    }
}
