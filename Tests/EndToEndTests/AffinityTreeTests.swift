import Artifacts
import Contracts
import Foundation
import TestSupport
import Support
import XCTest

enum TreeFixtures {
    /// Writes a `gcml.graph/1` file from undirected edges with the Artifacts layer only
    /// (symmetric CSR, sorted columns, no held-out edges).
    static func writeGraph(_ path: String, nodes: Int, edges: [(Int, Int, Float)]) throws {
        let graph = RelationalGraph(videoIDs: (0..<nodes).map { "video\($0)" }, train: undirectedGraph(nodes: nodes, edges),
                                    heldout: CSRGraph(nodes: nodes), heldoutNodes: [])
        try Artifact.write(path, schema: .graph, createdBy: "end-to-end test") { try graph.write(to: $0) }
    }
}

final class AffinityTreeTests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws { folder = try Executables.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    /// The hand-drawn path 0 =5= 1 -3- 2 =5= 3 -1- 4 -2- 5 -2- 6 =4= 7 and an isolated video 8
    /// (worked out in GraphsTests/AffinityClusteringTests).
    func testWritesTreeWithLevelsSummaryAndTable() throws {
        let graph = folder + "/graph.h5", tree = folder + "/tree.h5"
        try TreeFixtures.writeGraph(graph, nodes: 9, edges: [(0, 1, 5), (1, 2, 3), (2, 3, 5), (3, 4, 1), (4, 5, 2), (5, 6, 2), (6, 7, 4)])
        let result = try Executables.succeed("affinity-tree", ["--graph", graph, "--out", tree, "--levels", "3"])

        let levels = try ClusterTree.read(tree).levels
        XCTAssertEqual(levels.count, 3)
        XCTAssertEqual(levels[0], ClusterLevel(assignment: [0, 0, 1, 1, 2, 2, 3, 3, 4], size: [2, 2, 2, 2, 1], parent: [0, 0, 1, 1, 2]))
        XCTAssertEqual(levels[1].assignment, [0, 0, 0, 0, 1, 1, 1, 1, 2])
        XCTAssertEqual(levels[1].parent, [0, 0, 1])
        XCTAssertEqual(levels[2].size, [8, 1])
        XCTAssertNil(levels[2].parent)

        // The summary attributes beside the levels (no contract reader: only gcml-check and people read them).
        let file = try Artifact.open(tree, as: .tree)
        defer { try? file.close() }
        let root = file.root
        XCTAssertEqual(try root.attribute("level_clusters"), .ints([5, 3, 2]))
        XCTAssertEqual(try root.attribute("level_size_min"), .ints([1, 1, 1]))
        XCTAssertEqual(try root.attribute("level_size_max"), .ints([2, 4, 8]))
        XCTAssertEqual(try root.attribute("level_size_median"), .doubles([2, 4, 4.5]))
        XCTAssertEqual(try root.doubleAttribute("link_weight"), 22)
        XCTAssertEqual(try root.stringAttribute("created_by")?.hasPrefix("affinity-tree"), true)

        let lines = result.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 4, "header and one row per level:\n\(result.stdout)")
        XCTAssertEqual(lines.last?.split(separator: " ").map(String.init), ["3", "2", "1", "1", "4.5", "8"])
    }

    func testThreadCountDoesNotChangeTheTree() throws {
        var generator = SeededGenerator(seed: 3)
        let nodes = 6000
        var edges: [(Int, Int, Float)] = []
        var seen = Set<Int>()
        while edges.count < 15000 {
            let a = generator.below(nodes), b = generator.below(nodes)
            if a == b || !seen.insert(min(a, b) * nodes + max(a, b)).inserted { continue }
            edges.append((a, b, Float(1 + generator.below(20))))
        }
        let graph = folder + "/graph.h5"
        try TreeFixtures.writeGraph(graph, nodes: nodes, edges: edges)
        var trees: [[[Int32]]] = []
        for threads in ["1", "2"] {
            let out = folder + "/tree\(threads).h5"
            try Executables.succeed("affinity-tree", ["--graph", graph, "--out", out, "--linkage", "average",
                                                      "--max-cluster-size", "50", "--threads", threads])
            trees.append(try ClusterTree.read(out).levels.map(\.assignment))
        }
        XCTAssertEqual(trees[0], trees[1])
    }

    func testMissingGraphFailsNamingTheFile() throws {
        let missing = folder + "/nothing.h5"
        let result = try Executables.run("affinity-tree", ["--graph", missing, "--out", folder + "/tree.h5"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("nothing.h5"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/tree.h5"))
    }

    func testWrongSchemaIsRejected() throws {
        let notAGraph = folder + "/triplets.h5"
        try Artifact.write(notAGraph, schema: .triplets, createdBy: "end-to-end test") { file in
            for name in ["anchor", "positive", "negative"] { try file.root.write(name, [Int32(0)]) }
            try file.root.write("negative_level", [Int8(0)])
        }
        let result = try Executables.run("affinity-tree", ["--graph", notAGraph, "--out", folder + "/tree.h5"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("gcml.graph/1"), result.stderr)
    }
}
