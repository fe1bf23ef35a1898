import Artifacts
import Contracts
import Foundation
import Support
import XCTest

final class BuildGraphTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = try Executables.temporaryFolder()
        // Ten videos; visual features put v0..v4 and v5..v9 in two directions.
        let visual: [Float] = (0..<10).flatMap { i -> [Float] in i < 5 ? [1, Float(i) * 0.01, 0] : [0, Float(i) * 0.01, 1] }
        let table = FeatureTable(videoIDs: (0..<10).map { "v\($0)" }, visual: visual, visualWidth: 3, audio: nil, audioWidth: 0)
        try Artifact.write(folder + "/features.h5", schema: .features, createdBy: "test") { file in
            try table.write(to: file, frameCounts: [Int32](repeating: 3, count: 10))
        }
    }

    private func text(_ s: String, _ name: String) throws -> String {
        let path = folder + "/" + name
        try s.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The graph through its contract reader, and the open file for the statistics attributes beside it.
    private func readTrain(_ path: String) throws -> (indptr: [Int64], indices: [Int32], weights: [Float], heldoutNodes: [Int32],
                                                      heldout: CSRGraph, file: HDF5File) {
        let graph = try RelationalGraph.read(path)
        return (graph.train.indptr, graph.train.indices, graph.train.weights, graph.heldoutNodes, graph.heldout,
                try Artifact.open(path, as: .graph))
    }

    func testSessionsBecomeAValidGraphWithStatistics() throws {
        let sessions = try text("a\tv0\na\tv1\na\tv2\nb\tv1\nb\tv2\nb\tunknown\nc\tv5\nc\tv6\n", "sessions.tsv")
        let result = try Executables.succeed("build-graph", ["--features", folder + "/features.h5", "--sessions", sessions,
                                                             "--out", folder + "/graph.h5", "--window", "2", "--holdout-nodes", "0"])
        let graph = try readTrain(folder + "/graph.h5")
        defer { try? graph.file.close() }
        // Edges: v0-v1 (1), v1-v2 (2), v5-v6 (1).
        XCTAssertEqual(graph.indptr, [0, 1, 3, 4, 4, 4, 5, 6, 6, 6, 6])
        XCTAssertEqual(graph.indices, [1, 0, 2, 1, 6, 5])
        XCTAssertEqual(graph.weights, [1, 1, 2, 2, 1, 1])
        XCTAssertEqual(graph.heldoutNodes, [])
        XCTAssertEqual(try graph.file.root.intAttribute("edges"), 3)
        XCTAssertEqual(try graph.file.root.intAttribute("ids_unmapped"), 1)
        XCTAssertEqual(try graph.file.root.intAttribute("components"), 7)
        XCTAssertEqual(try graph.file.root.intAttribute("isolated_nodes"), 5)
        XCTAssertEqual(try graph.file.root.stringAttribute("schema"), "gcml.graph/1")
        XCTAssertTrue(result.stdout.contains("edges"), result.stdout)
        XCTAssertTrue(result.stderr.contains("unknown"), "the warning names an unmapped id: \(result.stderr)")
    }

    func testTopEdgesKeepsEachVideosHeaviestEdgesAndTheOldSpellingStillWorks() throws {
        // A hub v0 with edges of weight 5, 4, 3, 2 to v1..v4, and a light edge v1-v2: with one edge per
        // endpoint every hub edge is some video's heaviest, the light edge is nobody's.
        let pairs = try text("v0\tv1\t5\nv0\tv2\t4\nv0\tv3\t3\nv0\tv4\t2\nv1\tv2\t1\n", "pairs.tsv")
        for (spelling, name) in [("--top-edges", "new.h5"), ("--top-k", "old.h5")] {
            try Executables.succeed("build-graph", ["--features", folder + "/features.h5", "--pairs", pairs, "--out", folder + "/" + name,
                                                    "--holdout-nodes", "0", spelling, "1"])
            let graph = try readTrain(folder + "/" + name)
            defer { try? graph.file.close() }
            XCTAssertEqual(graph.indptr, [0, 4, 5, 6, 7, 8, 8, 8, 8, 8, 8], spelling)
            XCTAssertEqual(graph.indices, [1, 2, 3, 4, 0, 0, 0, 0], spelling)
            XCTAssertEqual(graph.weights, [5, 4, 3, 2, 5, 4, 3, 2], spelling)
        }
        let both = try Executables.run("build-graph", ["--features", folder + "/features.h5", "--pairs", pairs, "--out", folder + "/x.h5",
                                                       "--top-edges", "1", "--top-k", "2"])
        XCTAssertNotEqual(both.status, 0)
        XCTAssertTrue(both.stderr.contains("--top-edges"), both.stderr)
    }

    func testCompressedSessionsGiveTheSameGraph() throws {
        let plain = try text((0..<3000).map { "s\($0 / 7)\tv\(($0 * 7919) % 11)\n" }.joined(), "s.tsv")
        for (tool, suffix) in [("gzip", ".gz"), ("zstd", ".zst")] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [tool, "-k", "-f", "-q", plain]
            try process.run()
            process.waitUntilExit()
            let args = ["--features", folder + "/features.h5", "--window", "3", "--holdout-edges", "0.3"]
            try Executables.succeed("build-graph", args + ["--sessions", plain, "--out", folder + "/plain.h5"])
            try Executables.succeed("build-graph", args + ["--sessions", plain + suffix, "--out", folder + "/packed.h5"])
            let a = try readTrain(folder + "/plain.h5"), b = try readTrain(folder + "/packed.h5")
            XCTAssertEqual(a.indptr, b.indptr)
            XCTAssertEqual(a.indices, b.indices)
            XCTAssertEqual(a.weights, b.weights)
            XCTAssertEqual(a.heldoutNodes, b.heldoutNodes)
            XCTAssertEqual(a.heldout.indices, b.heldout.indices)
            try a.file.close()
            try b.file.close()
        }
    }

    func testKNNGraphLinksVideosOfTheSameDirection() throws {
        try Executables.succeed("build-graph", ["--features", folder + "/features.h5", "--knn", "2", "--out", folder + "/knn.h5",
                                                "--holdout-nodes", "0"])
        let graph = try readTrain(folder + "/knn.h5")
        defer { try? graph.file.close() }
        for row in 0..<10 {
            for slot in Int(graph.indptr[row])..<Int(graph.indptr[row + 1]) {
                XCTAssertEqual(graph.indices[slot] < 5, row < 5, "row \(row) linked across directions")
            }
            XCTAssertGreaterThanOrEqual(graph.indptr[row + 1] - graph.indptr[row], 2)
        }
    }

    func testBadInputsFailWithActionableMessages() throws {
        let features = folder + "/features.h5"
        let malformed = try text("a\tv0\na v1\n", "bad.tsv")
        let r1 = try Executables.run("build-graph", ["--features", features, "--sessions", malformed, "--out", folder + "/g.h5"])
        XCTAssertNotEqual(r1.status, 0)
        XCTAssertTrue(r1.stderr.contains("line 2"), r1.stderr)
        let skipped = try text("a\tv0\nbroken\na\tv1\n", "skip.tsv")
        try Executables.succeed("build-graph", ["--features", features, "--sessions", skipped, "--out", folder + "/g.h5", "--skip-malformed",
                                                "--holdout-nodes", "0"])
        let negative = try text("v0\tv1\t-2\n", "neg.tsv")
        let r2 = try Executables.run("build-graph", ["--features", features, "--pairs", negative, "--out", folder + "/g.h5"])
        XCTAssertNotEqual(r2.status, 0)
        XCTAssertTrue(r2.stderr.contains("non-negative"), r2.stderr)
        let strangers = try text("x1\tx2\nx3\tx4\n", "strangers.tsv")
        let r3 = try Executables.run("build-graph", ["--features", features, "--pairs", strangers, "--out", folder + "/g.h5"])
        XCTAssertNotEqual(r3.status, 0)
        XCTAssertTrue(r3.stderr.contains("none of 4"), r3.stderr)
        let r4 = try Executables.run("build-graph", ["--features", features, "--out", folder + "/g.h5"])
        XCTAssertNotEqual(r4.status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/never.h5"))
    }
}
