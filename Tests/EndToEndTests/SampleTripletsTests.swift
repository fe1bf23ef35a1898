import Artifacts
import Contracts
import Foundation
import Support
import XCTest

final class SampleTripletsTests: XCTestCase {
    var folder: String!
    var graph: String { folder + "/graph.h5" }
    var tree: String { folder + "/tree.h5" }
    let nodes = 300

    /// A random graph (some isolated videos) and its tree from the real affinity-tree stage.
    override func setUpWithError() throws {
        folder = try Executables.temporaryFolder()
        var generator = SeededGenerator(seed: 12)
        var edges: [(Int, Int, Float)] = []
        var seen = Set<Int>()
        while edges.count < 900 {
            let a = generator.below(nodes - 5), b = generator.below(nodes - 5)
            if a == b || !seen.insert(min(a, b) * nodes + max(a, b)).inserted { continue }
            edges.append((a, b, Float(1 + generator.below(9))))
        }
        try TreeFixtures.writeGraph(graph, nodes: nodes, edges: edges)
        try Executables.succeed("affinity-tree", ["--graph", graph, "--out", tree, "--max-cluster-size", "25"])
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    private func read(_ path: String) throws -> (anchor: [Int32], positive: [Int32], negative: [Int32], level: [Int8], counts: AttributeValue?) {
        let triplets = try TripletSet.read(path, videos: nodes)
        let file = try Artifact.open(path, as: .triplets)   // the summary attribute beside the datasets
        defer { try? file.close() }
        return (triplets.anchor, triplets.positive, triplets.negative, triplets.negativeLevel, try file.root.attribute("negative_level_counts"))
    }

    func testSmartTripletsRespectTreeAndGraph() throws {
        let out = folder + "/smart.h5"
        let result = try Executables.succeed("sample-triplets", ["--graph", graph, "--tree", tree, "--out", out, "--level-mix", "1,1,1",
                                                                 "--count", "70000", "--seed", "5"])
        let t = try read(out)
        XCTAssertEqual(t.anchor.count, 70_000)
        let assignments = try ClusterTree.read(tree).levels.map(\.assignment)
        XCTAssertEqual(assignments.count, 3)
        let train = try RelationalGraph.readTrain(graph)
        let indptr = train.indptr, indices = train.indices
        func neighbours(_ v: Int32) -> ArraySlice<Int32> { indices[Int(indptr[Int(v)])..<Int(indptr[Int(v) + 1])] }
        var histogram = [Int64](repeating: 0, count: 4)
        for i in 0..<t.anchor.count {
            let a = t.anchor[i], n = t.negative[i], level = Int(t.level[i])
            histogram[level] += 1
            XCTAssertTrue(neighbours(a).contains(t.positive[i]))
            XCTAssertFalse(neighbours(a).contains(n))
            XCTAssertNotEqual(a, n)
            if level >= 1 {
                XCTAssertNotEqual(assignments[level - 1][Int(n)], assignments[level - 1][Int(a)])
                if level < 3 { XCTAssertEqual(assignments[level][Int(n)], assignments[level][Int(a)]) }
            }
        }
        XCTAssertEqual(t.counts, .ints(histogram))
        XCTAssertTrue(result.stdout.contains("fallbacks:"), result.stdout)
        XCTAssertEqual(result.stdout.split(separator: "\n").count, 6, "header, random, 3 levels, fallbacks:\n\(result.stdout)")
    }

    func testRandomStrategyNeedsNoTree() throws {
        let out = folder + "/random.h5"
        try Executables.succeed("sample-triplets", ["--graph", graph, "--out", out, "--strategy", "random", "--count", "1000"])
        let t = try read(out)
        XCTAssertEqual(t.level, [Int8](repeating: 0, count: 1000))
        XCTAssertEqual(t.counts, .ints([1000]))
    }

    func testSameFileForAnyThreadCountAndDifferentForAnotherSeed() throws {
        var outputs: [[Int32]] = []
        for (threads, seed) in [("1", "3"), ("2", "3"), ("2", "4")] {
            let out = folder + "/t\(threads)-\(seed).h5"
            try Executables.succeed("sample-triplets", ["--graph", graph, "--tree", tree, "--out", out, "--count", "150000",
                                                        "--threads", threads, "--seed", seed])
            let t = try read(out)
            outputs.append(t.anchor + t.positive + t.negative + t.level.map(Int32.init))
        }
        XCTAssertEqual(outputs[0], outputs[1])
        XCTAssertNotEqual(outputs[1], outputs[2])
    }

    func testBadOptionsFailWithReasons() throws {
        let noTree = try Executables.run("sample-triplets", ["--graph", graph, "--out", folder + "/x.h5"])
        XCTAssertNotEqual(noTree.status, 0)
        XCTAssertTrue(noTree.stderr.contains("--tree"), noTree.stderr)
        let badLevel = try Executables.run("sample-triplets", ["--graph", graph, "--tree", tree, "--out", folder + "/x.h5", "--level", "4"])
        XCTAssertNotEqual(badLevel.status, 0)
        XCTAssertTrue(badLevel.stderr.contains("1…3"), badLevel.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/x.h5"))
    }
}
