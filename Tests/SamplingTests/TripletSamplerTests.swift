import Contracts
import Foundation
import Graphs
import Sampling
import Support
import XCTest

private func undirectedGraph(nodes: Int, _ edges: [(Int, Int, Float)]) -> CSRGraph {
    var rows: [Int32] = [], columns: [Int32] = [], weights: [Float] = []
    for (a, b, w) in edges {
        rows += [Int32(a), Int32(b)]
        columns += [Int32(b), Int32(a)]
        weights += [w, w]
    }
    return CSRGraph.fromEntries(nodes: nodes, rows: rows, columns: columns, weights: weights)
}

/// A random graph with integer weights 1…10 and some isolated videos, and its 3-level tree.
private func generatedGraphAndTree(nodes: Int = 400, edges: Int = 1200, seed: UInt64 = 5) -> (CSRGraph, ClusterTree) {
    var generator = SeededGenerator(seed: seed)
    var seen = Set<Int>()
    var list: [(Int, Int, Float)] = []
    while list.count < edges {
        let a = generator.below(nodes - 10), b = generator.below(nodes - 10)
        if a == b || !seen.insert(min(a, b) * nodes + max(a, b)).inserted { continue }
        list.append((a, b, Float(1 + generator.below(10))))
    }
    let graph = undirectedGraph(nodes: nodes, list)
    let tree = AffinityClustering(levels: 3, linkage: .max, maxClusterSize: 30).cluster(graph).tree
    return (graph, tree)
}

private func isNeighbour(_ graph: CSRGraph, _ a: Int32, _ b: Int32) -> Bool {
    graph.neighbours(Int(a)).contains { graph.indices[$0] == b }
}

private func collect(_ sampler: TripletSampler, count: Int) throws -> ([TripletBlockCopy], TripletStatistics) {
    var blocks: [TripletBlockCopy] = []
    let stats = try sampler.sample(count: count) { block in
        blocks.append(TripletBlockCopy(anchor: Array(block.anchor[0..<block.count]), positive: Array(block.positive[0..<block.count]),
                                       negative: Array(block.negative[0..<block.count]), level: Array(block.negativeLevel[0..<block.count])))
    }
    return (blocks, stats)
}

private struct TripletBlockCopy: Equatable {
    var anchor: [Int32], positive: [Int32], negative: [Int32], level: [Int8]
}

/// Upper 0.999 quantile of chi-square with `df` degrees of freedom (Wilson–Hilferty).
private func chiSquareCritical(df: Int) -> Double {
    let k = Double(df), z = 3.09
    let t = 1 - 2 / (9 * k) + z * (2 / (9 * k)).squareRoot()
    return k * t * t * t
}

final class TripletSamplerTests: XCTestCase {
    func testSmartTripletsRespectGraphAndTree() throws {
        let (graph, tree) = generatedGraphAndTree()
        let sampler = TripletSampler(graph: graph, tree: tree, strategy: .smart, levelWeights: [1, 1, 1], seed: 11, threads: 2, blockSize: 4096)
        let (blocks, stats) = try collect(sampler, count: 30_000)
        XCTAssertEqual(stats.triplets, 30_000)
        XCTAssertEqual(stats.negativeLevels.reduce(0, +), 30_000)
        XCTAssertEqual(stats.requestedLevels[0], 0)
        var levelsSeen = [Int](repeating: 0, count: 4)
        for block in blocks {
            for t in block.anchor.indices {
                let a = block.anchor[t], p = block.positive[t], n = block.negative[t], level = Int(block.level[t])
                levelsSeen[level] += 1
                XCTAssertTrue(isNeighbour(graph, a, p), "positive \(p) of \(a) is a train neighbour")
                XCTAssertNotEqual(n, a)
                XCTAssertNotEqual(n, p)
                XCTAssertFalse(isNeighbour(graph, a, n), "negative \(n) of \(a) is not a neighbour")
                if level >= 1 {
                    let here = tree.level(level).assignment
                    XCTAssertNotEqual(here[Int(n)], here[Int(a)], "a different level-\(level) cluster")
                    if level < tree.levels.count {
                        let above = tree.level(level + 1).assignment
                        XCTAssertEqual(above[Int(n)], above[Int(a)], "the same level-\(level + 1) parent")
                    }
                }
            }
        }
        XCTAssertEqual(levelsSeen, stats.negativeLevels)
        XCTAssertTrue(stats.negativeLevels[1] > 0 && stats.negativeLevels[2] > 0 && stats.negativeLevels[3] > 0)
    }

    func testRandomNegativesAreLevelZeroAndNeverNeighbours() throws {
        let (graph, _) = generatedGraphAndTree()
        let sampler = TripletSampler(graph: graph, tree: nil, strategy: .random, seed: 3, threads: 2, blockSize: 1000)
        let (blocks, stats) = try collect(sampler, count: 20_000)
        XCTAssertEqual(stats.negativeLevels, [20_000])
        XCTAssertEqual(stats.requestedLevels, [20_000])
        var hitsIsolated = false
        for block in blocks {
            XCTAssertTrue(block.level.allSatisfy { $0 == 0 })
            for t in block.anchor.indices {
                XCTAssertGreaterThan(graph.degree(Int(block.anchor[t])), 0, "anchors have train edges")
                XCTAssertTrue(isNeighbour(graph, block.anchor[t], block.positive[t]))
                XCTAssertFalse(isNeighbour(graph, block.anchor[t], block.negative[t]))
                XCTAssertNotEqual(block.negative[t], block.anchor[t])
                if graph.degree(Int(block.negative[t])) == 0 { hitsIsolated = true }
            }
        }
        XCTAssertTrue(hitsIsolated, "random negatives range over all videos, isolated ones included")
    }

    /// Anchor 0 has neighbours with weights 1, 2, 3, 4 (and the other videos only edges to 0 and 5),
    /// so positives of anchor 0 must come out 1:2:3:4.
    func testPositiveFrequenciesFollowEdgeWeights() throws {
        let graph = undirectedGraph(nodes: 7, [(0, 1, 1), (0, 2, 2), (0, 3, 3), (0, 4, 4), (1, 5, 1), (2, 5, 7), (3, 6, 2.5)])
        for mode in NeighbourSampler.Mode.allCases {
            let sampler = TripletSampler(graph: graph, tree: nil, strategy: .random, positive: mode, seed: 99, threads: 2, blockSize: 5000)
            let (blocks, _) = try collect(sampler, count: 200_000)
            var counts: [Int: [Int32: Int]] = [:]
            for block in blocks {
                for t in block.anchor.indices { counts[Int(block.anchor[t]), default: [:]][block.positive[t], default: 0] += 1 }
            }
            var statistic = 0.0, df = 0
            for (anchor, observed) in counts {
                let row = graph.neighbours(anchor)
                let drawn = observed.values.reduce(0, +)
                let total = row.reduce(0.0) { $0 + (mode == .weighted ? Double(graph.weights[$1]) : 1) }
                for e in row {
                    let expected = Double(drawn) * (mode == .weighted ? Double(graph.weights[e]) : 1) / total
                    let seen = Double(observed[graph.indices[e]] ?? 0)
                    statistic += (seen - expected) * (seen - expected) / expected
                }
                df += row.count - 1
            }
            XCTAssertLessThan(statistic, chiSquareCritical(df: df), "\(mode): chi-square \(statistic) with \(df) df")
            // The test can fail: swapping the modes' expectations is far outside the bound.
            XCTAssertGreaterThan(df, 5)
        }
    }

    func testAliasTableMatchesWeightsOnOneRow() {
        let weights: [Float] = [0.5, 1, 2, 3, 4, 0.25, 9]
        let graph = undirectedGraph(nodes: 8, weights.enumerated().map { (0, $0.offset + 1, $0.element) })
        let sampler = NeighbourSampler(graph: graph, mode: .weighted)
        var generator = SeededGenerator(seed: 1)
        var counts = [Int](repeating: 0, count: 8)
        let draws = 400_000
        for _ in 0..<draws { counts[Int(sampler.draw(0, using: &generator))] += 1 }
        let total = Double(weights.reduce(0, +))
        var statistic = 0.0
        for (i, w) in weights.enumerated() {
            let expected = Double(draws) * Double(w) / total
            statistic += pow(Double(counts[i + 1]) - expected, 2) / expected
        }
        XCTAssertEqual(counts[0], 0)
        XCTAssertLessThan(statistic, chiSquareCritical(df: weights.count - 1))
    }

    /// Graph: 0–1, 2–3, 4–5. Tree drawn by hand:
    ///   level 1: {0,1}=0 {2,3}=1 {4}=2 {5}=3, parents 0 0 1 2
    ///   level 2: {0..3}=0 {4}=1 {5}=2,        parents 0 1 1
    ///   level 3: {0..3}=0 {4,5}=1              (the top: siblings of each other)
    /// At level 1, anchors 0–3 have a sibling cluster. Anchor 4's level-1 cluster is an only child:
    /// move to level 2, whose only sibling {5} is its neighbour (every draw rejected): move to 3 → {0..3}.
    /// Anchor 5 likewise. Asking for level 2, anchors 0–3 are an only child: move to level 3.
    func testFallbacksOnTreeWithOnlyChildren() throws {
        let graph = undirectedGraph(nodes: 6, [(0, 1, 1), (2, 3, 1), (4, 5, 1)])
        let tree = ClusterTree(levels: [
            ClusterLevel(assignment: [0, 0, 1, 1, 2, 3], size: [2, 2, 1, 1], parent: [0, 0, 1, 2]),
            ClusterLevel(assignment: [0, 0, 0, 0, 1, 2], size: [4, 1, 1], parent: [0, 1, 1]),
            ClusterLevel(assignment: [0, 0, 0, 0, 1, 1], size: [4, 2], parent: nil),
        ])
        let level1 = TripletSampler(graph: graph, tree: tree, strategy: .smart, levelWeights: [1, 0, 0], seed: 4, attempts: 4)
        let (blocks1, stats1) = try collect(level1, count: 3000)
        let expected1: [Int8] = [1, 1, 1, 1, 3, 3]
        var fromFourOrFive = 0
        for block in blocks1 {
            for t in block.anchor.indices {
                XCTAssertEqual(block.level[t], expected1[Int(block.anchor[t])], "anchor \(block.anchor[t])")
                if block.anchor[t] >= 4 {
                    fromFourOrFive += 1
                    XCTAssertLessThan(block.negative[t], 4)
                }
            }
        }
        XCTAssertEqual(stats1.fallbackNoSibling, fromFourOrFive)
        XCTAssertEqual(stats1.fallbackRejected, fromFourOrFive)
        XCTAssertEqual(stats1.rejectedDraws, 4 * fromFourOrFive, "all 4 draws at level 2 hit the neighbour")
        XCTAssertEqual(stats1.negativeLevels, [0, 3000 - fromFourOrFive, 0, fromFourOrFive])

        let level2 = TripletSampler(graph: graph, tree: tree, strategy: .smart, levelWeights: [0, 1], seed: 4)
        let (blocks2, stats2) = try collect(level2, count: 3000)
        for block in blocks2 {
            for t in block.anchor.indices {
                let a = block.anchor[t]
                XCTAssertEqual(block.level[t], 3)
                XCTAssertEqual(block.negative[t] >= 4, a < 4, "the other top-level cluster")
            }
        }
        XCTAssertEqual(stats2.requestedLevels, [0, 0, 3000, 0])

        // One cluster at the top: no sibling anywhere above level 1 → random negatives (level 0).
        let single = ClusterTree(levels: [
            ClusterLevel(assignment: [0, 0, 1, 1, 2, 3], size: [2, 2, 1, 1], parent: [0, 0, 0, 0]),
            ClusterLevel(assignment: [0, 0, 0, 0, 0, 0], size: [6], parent: nil),
        ])
        let top = TripletSampler(graph: graph, tree: single, strategy: .smart, levelWeights: [0, 1], seed: 4)
        let (blocks3, stats3) = try collect(top, count: 2000)
        XCTAssertEqual(stats3.negativeLevels, [2000, 0, 0])
        XCTAssertEqual(stats3.fallbackNoSibling, 2000)
        for block in blocks3 {
            for t in block.anchor.indices {
                XCTAssertFalse(isNeighbour(graph, block.anchor[t], block.negative[t]))
                XCTAssertNotEqual(block.anchor[t], block.negative[t])
            }
        }
    }

    func testDeterministicForSeedAndThreadCount() throws {
        let (graph, tree) = generatedGraphAndTree()
        func run(seed: UInt64, threads: Int) throws -> [TripletBlockCopy] {
            let sampler = TripletSampler(graph: graph, tree: tree, strategy: .smart, levelWeights: [2, 1, 1], seed: seed, threads: threads, blockSize: 1000)
            return try collect(sampler, count: 10_500).0
        }
        let one = try run(seed: 8, threads: 1)
        XCTAssertEqual(one.count, 11)
        XCTAssertEqual(one.last?.anchor.count, 500)
        XCTAssertEqual(one, try run(seed: 8, threads: 1))
        XCTAssertEqual(one, try run(seed: 8, threads: 2))
        XCTAssertEqual(one, try run(seed: 8, threads: 3))
        XCTAssertNotEqual(one, try run(seed: 9, threads: 2))
    }

    /// Anchors 0 and 1 (the only edge) share level-1 cluster A = {0, 1}; its siblings are
    /// B = {2}, C = {3, 4, 5}, D = {6, 7, 8, 9}, with A listed between them (cluster ids B, A, C, D).
    /// A sibling cluster is drawn uniformly, then a video in it: 1/3 for video 2, 1/9 each for
    /// 3–5 and 1/12 each for 6–9.
    func testSiblingClustersAreDrawnUniformlyThenAVideoUniformly() throws {
        let graph = undirectedGraph(nodes: 10, [(0, 1, 1)])
        let tree = ClusterTree(levels: [
            ClusterLevel(assignment: [1, 1, 0, 2, 2, 2, 3, 3, 3, 3], size: [1, 2, 3, 4], parent: [0, 0, 0, 0]),
            ClusterLevel(assignment: [Int32](repeating: 0, count: 10), size: [10], parent: nil),
        ])
        let sampler = TripletSampler(graph: graph, tree: tree, strategy: .smart, levelWeights: [1, 0], seed: 21, threads: 2, blockSize: 3000)
        let draws = 36_000
        let (blocks, stats) = try collect(sampler, count: draws)
        XCTAssertEqual(stats.negativeLevels, [0, draws, 0])
        var counts = [Int](repeating: 0, count: 10)
        for block in blocks { for n in block.negative { counts[Int(n)] += 1 } }
        XCTAssertEqual(counts[0] + counts[1], 0, "never the anchor's own cluster")
        let probability: [Double] = [0, 0, 1.0 / 3] + [Double](repeating: 1.0 / 9, count: 3) + [Double](repeating: 1.0 / 12, count: 4)
        var statistic = 0.0
        for v in 2..<10 {
            let expected = Double(draws) * probability[v]
            statistic += pow(Double(counts[v]) - expected, 2) / expected
        }
        XCTAssertLessThan(statistic, chiSquareCritical(df: 7), "counts \(counts)")
    }

    func testLevelMixDrawsRequestedLevelsInProportion() throws {
        let (graph, tree) = generatedGraphAndTree()
        let sampler = TripletSampler(graph: graph, tree: tree, strategy: .smart, levelWeights: [3, 0, 1], seed: 2, blockSize: 5000)
        let (_, stats) = try collect(sampler, count: 40_000)
        XCTAssertEqual(stats.requestedLevels[2], 0)
        XCTAssertEqual(Double(stats.requestedLevels[1]) / 40_000, 0.75, accuracy: 0.01)
        XCTAssertEqual(Double(stats.requestedLevels[3]) / 40_000, 0.25, accuracy: 0.01)
    }

    func testAnchorsWithoutAnyPossibleNegativeAreExcluded() {
        // A triangle plus an isolated video: each triangle video is adjacent to 2 of the 3 others.
        let graph = undirectedGraph(nodes: 4, [(0, 1, 1), (1, 2, 1), (0, 2, 1)])
        XCTAssertEqual(TripletSampler(graph: graph, tree: nil, strategy: .random).anchors, [0, 1, 2])
        // A complete graph on 3 videos: nobody is left to be a negative.
        let complete = undirectedGraph(nodes: 3, [(0, 1, 1), (1, 2, 1), (0, 2, 1)])
        XCTAssertEqual(TripletSampler(graph: complete, tree: nil, strategy: .random).anchors, [])
    }

    func testUnsortedRowsAreFound() {
        let graph = CSRGraph(indptr: [0, 2, 3, 4], indices: [2, 1, 0, 0], weights: [1, 1, 1, 1])
        XCTAssertEqual(graph.firstUnsortedRow(), 0)
        XCTAssertNil(undirectedGraph(nodes: 3, [(0, 1, 1), (0, 2, 1)]).firstUnsortedRow())
    }
}
