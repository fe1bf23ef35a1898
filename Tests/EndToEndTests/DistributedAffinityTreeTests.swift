import Artifacts
import Foundation
import Support
import XCTest

/// affinity-tree under 3 ranks (mpirun) against one process: the same tree.h5 datasets, bit for bit.
final class DistributedAffinityTreeTests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws { folder = try Executables.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    /// A graph with weight ties (weights 1…3), isolated videos, cold-start videos (held out: no train
    /// edges, held-out edges only) and several components (edges stay within blocks of 150 videos).
    func writeGraph(nodes: Int, edges: Int, seed: UInt64) throws -> String {
        let path = folder + "/graph-\(nodes).h5"
        var generator = SeededGenerator(seed: seed)
        let cold = Set(stride(from: 5, to: nodes, by: 17)), isolated = Set(stride(from: 11, to: nodes, by: 23)).subtracting(cold)
        var train: [(Int, Int, Float)] = [], heldout: [(Int, Int, Float)] = []
        var seen = Set<Int>()
        while train.count < edges {
            let a = generator.below(nodes), block = a / 150 * 150, b = block + generator.below(min(150, nodes - block))
            if a == b || isolated.contains(a) || isolated.contains(b) || !seen.insert(min(a, b) * nodes + max(a, b)).inserted { continue }
            let weight = Float(1 + generator.below(3))
            if cold.contains(a) || cold.contains(b) { heldout.append((a, b, weight)) } else { train.append((a, b, weight)) }
        }
        func csr(_ list: [(Int, Int, Float)]) -> (indptr: [Int64], indices: [Int32], weights: [Float]) {
            var rows = [[(Int32, Float)]](repeating: [], count: nodes)
            for (a, b, w) in list {
                rows[a].append((Int32(b), w))
                rows[b].append((Int32(a), w))
            }
            var indptr: [Int64] = [0], indices: [Int32] = [], weights: [Float] = []
            for row in rows {
                for (column, weight) in row.sorted(by: { $0.0 < $1.0 }) {
                    indices.append(column)
                    weights.append(weight)
                }
                indptr.append(Int64(indices.count))
            }
            return (indptr, indices, weights)
        }
        let (trainCSR, heldoutCSR) = (csr(train), csr(heldout))
        try Artifact.write(path, schema: .graph, createdBy: "end-to-end test") { file in
            let root = file.root
            try root.write("video_id", strings: (0..<nodes).map { "video\($0)" })
            for (group, graph) in [("train", trainCSR), ("heldout", heldoutCSR)] {
                try root.write("\(group)/indptr", graph.indptr)
                try root.write("\(group)/indices", graph.indices)
                try root.write("\(group)/weights", graph.weights)
            }
            try root.write("heldout_nodes", cold.sorted().map { Int32($0) })
        }
        return path
    }

    /// Every dataset of two files, read with the Artifacts layer by its stored type, as raw values.
    func datasets(_ path: String) throws -> [String: [String]] {
        let file = try Artifact.open(path, as: .tree)
        defer { try? file.close() }
        var values: [String: [String]] = [:]
        for name in try file.root.datasetPaths() {
            // Tree datasets are int32 (assignment, parent) or int64 (size); compare them exactly as stored.
            if name.hasSuffix("size") {
                values[name] = try file.root.read(name, as: Int64.self).map { String($0) }
            } else {
                values[name] = try file.root.read(name, as: Int32.self).map { String($0) }
            }
        }
        return values
    }

    func testAffinityTreeOnThreeRanksWritesTheOneProcessTree() throws {
        let graph = try writeGraph(nodes: 1200, edges: 3000, seed: 21)
        for options in [["--levels", "6"], ["--levels", "5", "--linkage", "average", "--max-cluster-size", "20"],
                        ["--levels", "12", "--max-cluster-size", "40"]] {
            let one = folder + "/one.h5", three = folder + "/three.h5"
            try Executables.succeed("affinity-tree", ["--graph", graph, "--out", one] + options)
            let run = try Launch.run(Launch.mpirun(3, "affinity-tree", ["--graph", graph, "--out", three] + options))
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertTrue(run.stdout.contains("bytes sent over 3 ranks"), run.stdout)
            let expected = try datasets(one)
            XCTAssertEqual(expected.count, Int(options[1]).map { 3 * $0 - 1 }, "levels × (assignment, size) + parents")
            XCTAssertEqual(try datasets(three), expected, "\(options)")
            let oneRoot = try Artifact.open(one, as: .tree).root, threeRoot = try Artifact.open(three, as: .tree).root
            XCTAssertEqual(try threeRoot.intAttribute("ranks"), 3)
            XCTAssertEqual(try oneRoot.intAttribute("ranks"), 1)
            for attribute in ["link_weight", "level_clusters", "level_singletons", "level_size_min", "level_size_median", "level_size_max"] {
                XCTAssertEqual(try threeRoot.attribute(attribute), try oneRoot.attribute(attribute), "\(attribute) \(options)")
            }
            try compareWithH5py(one, three)
        }
    }

    /// A second, independent reader: h5py compares every dataset's dtype, shape and bytes.
    func compareWithH5py(_ one: String, _ three: String) throws {
        let script = """
            import sys, h5py, hdf5plugin
            def items(path):
                out = {}
                with h5py.File(path, 'r') as f:
                    f.visititems(lambda name, obj: out.__setitem__(name, (obj.dtype.str, obj.shape, obj[()].tobytes())) if isinstance(obj, h5py.Dataset) else None)
                return out
            a, b = items(sys.argv[1]), items(sys.argv[2])
            print(len(a), 'equal' if a == b else 'differ: ' + ' '.join(k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)))
            """
        let h5py = try Executables.shell("python3", ["-c", script, one, three])
        if h5py.status != 0 && ProcessInfo.processInfo.environment["GCML_REQUIRE_PYTHON"] == nil {
            throw XCTSkip("python3 with h5py and hdf5plugin is needed to compare the files with h5py")
        }
        XCTAssertTrue(h5py.stdout.hasSuffix("equal\n"), h5py.stdout + h5py.stderr)
    }

    /// An edge whose two directions disagree, each row well-formed on its own rank: refused by the
    /// cross-rank check as by one process, naming the file; nothing is published.
    func testAsymmetricGraphIsRefusedAcrossRanks() throws {
        let graph = folder + "/asymmetric.h5", out = folder + "/tree.h5"
        let nodes = 30
        var indptr: [Int64] = [0], indices: [Int32] = [], weights: [Float] = []
        for v in 0..<nodes {
            // A path 0 – 1 – … – 29; the entry 25 → 24 weighs 9 where 24 → 25 weighs 1.
            if v > 0 { indices.append(Int32(v - 1)); weights.append(v == 25 ? 9 : 1) }
            if v < nodes - 1 { indices.append(Int32(v + 1)); weights.append(1) }
            indptr.append(Int64(indices.count))
        }
        try Artifact.write(graph, schema: .graph, createdBy: "end-to-end test") { file in
            let root = file.root
            try root.write("video_id", strings: (0..<nodes).map { "video\($0)" })
            for (group, csr) in [("train", (indptr, indices, weights)), ("heldout", ([Int64](repeating: 0, count: nodes + 1), [Int32](), [Float]()))] {
                try root.write("\(group)/indptr", csr.0)
                try root.write("\(group)/indices", csr.1)
                try root.write("\(group)/weights", csr.2)
            }
            try root.write("heldout_nodes", [Int32]())
        }
        let one = try Executables.run("affinity-tree", ["--graph", graph, "--out", out])
        XCTAssertNotEqual(one.status, 0)
        XCTAssertTrue(one.stderr.contains("symmetric"), one.stderr)
        let three = try Launch.run(Launch.mpirun(3, "affinity-tree", ["--graph", graph, "--out", out]))
        XCTAssertNotEqual(three.status, 0)
        XCTAssertFalse(three.timedOut)
        XCTAssertTrue(three.stderr.contains("symmetric") && three.stderr.contains(graph), three.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing is published")
    }

    func testAKilledRankPublishesNothingAndLeavesNoRankRunning() throws {
        let graph = try writeGraph(nodes: 150_000, edges: 600_000, seed: 5)
        let out = folder + "/tree.h5"
        try Executables.succeed("affinity-tree", ["--graph", graph, "--out", out, "--levels", "1"])
        // Freezes the ranks once rank 0 holds the output's lock, so every rank is past MPI start-up
        // (a rank killed inside MPI_Init is not always named by mpirun), then kills one.
        try Launch.killRankOneExpectingNothingPublished("affinity-tree", ["--graph", graph, "--out", out, "--levels", "30",
                                                                          "--linkage", "average"], out: out,
                                                        ready: { FileManager.default.fileExists(atPath: folder + "/.tree.h5.lock") })
    }
}
