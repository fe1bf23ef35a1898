import Contracts
import Graphs
import Support
import XCTest

/// Symmetric CSR graph from undirected edges.
private func undirectedGraph(nodes: Int, _ edges: [(Int, Int, Float)]) -> CSRGraph {
    var rows: [Int32] = [], columns: [Int32] = [], weights: [Float] = []
    for (a, b, w) in edges {
        rows += [Int32(a), Int32(b)]
        columns += [Int32(b), Int32(a)]
        weights += [w, w]
    }
    return CSRGraph.fromEntries(nodes: nodes, rows: rows, columns: columns, weights: weights)
}

/// A random graph with repeated small integer weights (many ties), isolated nodes and several components.
private func randomGraph(nodes: Int, edges: Int, seed: UInt64, maxWeight: Int = 5) -> (CSRGraph, [(Int, Int, Float)]) {
    var generator = SeededGenerator(seed: seed)
    var seen = Set<Int>()
    var list: [(Int, Int, Float)] = []
    // Only the first 90% of nodes get edges; the rest stay isolated.
    let connected = nodes * 9 / 10
    while list.count < edges {
        let a = generator.below(connected), b = generator.below(connected)
        if a == b || !seen.insert(min(a, b) * nodes + max(a, b)).inserted { continue }
        list.append((a, b, Float(1 + generator.below(maxWeight))))
    }
    return (undirectedGraph(nodes: nodes, list), list)
}

final class AffinityClusteringTests: XCTestCase {
    /// Drawn by hand:
    ///
    ///     0 =5= 1 -3- 2 =5= 3 -1- 4 -2- 5 -2- 6 =4= 7      8      9 -1- 10
    ///
    /// Round 1: every video takes its strongest edge; 5 has a tie (4 and 6, weight 2) and takes 4.
    /// Level 1: {0,1} {2,3} {4,5} {6,7} {8} {9,10}. Round 2: {0,1}↔{2,3} (3), {4,5}→{6,7} (2 beats 1),
    /// {6,7}→{4,5}. Level 2: {0..3} {4..7} {8} {9,10}. Round 3: the two halves join over 3–4 (1).
    func testHandDrawnPathWithTieAndComponents() {
        let graph = undirectedGraph(nodes: 11, [(0, 1, 5), (1, 2, 3), (2, 3, 5), (3, 4, 1), (4, 5, 2), (5, 6, 2), (6, 7, 4), (9, 10, 1)])
        let result = AffinityClustering(levels: 3, linkage: .max).cluster(graph)
        let tree = result.tree
        XCTAssertEqual(tree.levels.count, 3)
        XCTAssertEqual(tree.level(1), ClusterLevel(assignment: [0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 5], size: [2, 2, 2, 2, 1, 2], parent: [0, 0, 1, 1, 2, 3]))
        XCTAssertEqual(tree.level(2), ClusterLevel(assignment: [0, 0, 0, 0, 1, 1, 1, 1, 2, 3, 3], size: [4, 4, 1, 2], parent: [0, 0, 1, 2]))
        XCTAssertEqual(tree.level(3), ClusterLevel(assignment: [0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 2], size: [8, 1, 2], parent: nil))
        // The graph is a forest, so every edge is taken: 5+3+5+1+2+2+4 + 1.
        XCTAssertEqual(result.linkWeight, 23)
        let round1: [Float] = result.links.filter { $0.round == 1 }.map(\.weight)
        XCTAssertEqual(round1, [5, 5, 2, 4, 1], "links in cluster order: 0→1, 2→3, 4→5, 6→7, 9→10")
    }

    /// Pairs A={0,1}, B={2,3}, C={4,5}, D={6,7} (internal weight 10). Between them:
    /// A–B: 0–2 (9); A–C: 0–4 (9.5), 1–5 (1); B–C: 3–5 (4); C–D: 5–6 (6).
    /// Max linkage: C→A (9.5) so all four join at level 2.
    /// Average linkage: A–C is (9.5+1)/2 = 5.25, so C→D (6), A↔B (9): {A,B} {C,D};
    /// level 3 joins them (mean of 9.5, 1, 4).
    func testAverageLinkageDiffersFromMaxByHand() {
        let graph = undirectedGraph(nodes: 8, [(0, 1, 10), (2, 3, 10), (4, 5, 10), (6, 7, 10),
                                               (0, 2, 9), (0, 4, 9.5), (1, 5, 1), (3, 5, 4), (5, 6, 6)])
        let pairs = ClusterLevel(assignment: [0, 0, 1, 1, 2, 2, 3, 3], size: [2, 2, 2, 2], parent: nil)

        let max = AffinityClustering(levels: 2, linkage: .max).cluster(graph).tree
        XCTAssertEqual(max.level(1).assignment, pairs.assignment)
        XCTAssertEqual(max.level(1).parent, [0, 0, 0, 0])
        XCTAssertEqual(max.level(2).size, [8])

        let average = AffinityClustering(levels: 3, linkage: .average).cluster(graph)
        XCTAssertEqual(average.tree.level(1).assignment, pairs.assignment)
        XCTAssertEqual(average.tree.level(1).parent, [0, 0, 1, 1])
        XCTAssertEqual(average.tree.level(2).assignment, [0, 0, 0, 0, 1, 1, 1, 1])
        XCTAssertEqual(average.tree.level(3).size, [8])
        let round3 = average.links.filter { $0.round == 3 }
        XCTAssertEqual(round3.count, 1)
        XCTAssertEqual(Double(round3[0].weight), (9.5 + 1 + 4) / 3, accuracy: 1e-6)
    }

    /// Star 0–1 (3), 0–2 (2), 0–3 (1); cap 3. All leaves link to 0 and 0 links to 1; the
    /// strongest links are taken first, so {0,1,2} forms and 3 would exceed the cap.
    func testClusterSizeCapSkipsTheWeakestMerge() {
        let star = undirectedGraph(nodes: 4, [(0, 1, 3), (0, 2, 2), (0, 3, 1)])
        let capped = AffinityClustering(levels: 2, linkage: .max, maxClusterSize: 3).cluster(star).tree
        XCTAssertEqual(capped.level(1).assignment, [0, 0, 0, 1])
        // Round 2: {0,1,2}+{3} = 4 > 3 is not an admissible link, nothing changes.
        XCTAssertEqual(capped.level(2).assignment, [0, 0, 0, 1])
        XCTAssertEqual(capped.level(1).parent, [0, 1])

        let uncapped = AffinityClustering(levels: 1, linkage: .max).cluster(star).tree
        XCTAssertEqual(uncapped.level(1).size, [4])
    }

    /// With a cap of 4 on the hand-drawn path, the halves {0..3} and {4..7} never join.
    func testCapKeepsLevelsWhenNoMergeFits() {
        let graph = undirectedGraph(nodes: 8, [(0, 1, 5), (1, 2, 3), (2, 3, 5), (3, 4, 1), (4, 5, 2), (5, 6, 2), (6, 7, 4)])
        let tree = AffinityClustering(levels: 3, linkage: .average, maxClusterSize: 4).cluster(graph).tree
        XCTAssertEqual(tree.level(2).assignment, [0, 0, 0, 0, 1, 1, 1, 1])
        XCTAssertEqual(tree.level(3).assignment, [0, 0, 0, 0, 1, 1, 1, 1])
        XCTAssertTrue(tree.levels.allSatisfy { $0.size.allSatisfy { $0 <= 4 } })
    }

    func testIsolatedVideosStaySingletonsAtEveryLevel() {
        let graph = undirectedGraph(nodes: 6, [(1, 2, 1), (2, 4, 1)])
        for linkage in AffinityClustering.Linkage.allCases {
            let tree = AffinityClustering(levels: 3, linkage: linkage).cluster(graph).tree
            for level in tree.levels {
                XCTAssertEqual(level.assignment, [0, 1, 1, 2, 1, 3])
                XCTAssertEqual(level.size, [1, 3, 1, 1])
            }
        }
    }

    func testMaxLinkageToConvergenceIsMaximumSpanningForest() {
        for seed in UInt64(1)...6 {
            let nodes = 150 + Int(seed) * 40
            let (graph, edges) = randomGraph(nodes: nodes, edges: nodes * 2, seed: seed)
            let result = AffinityClustering(levels: 12, linkage: .max).cluster(graph)
            let (forestWeight, components) = kruskalMaximumForest(nodes: nodes, edges)
            XCTAssertEqual(result.linkWeight, forestWeight, "seed \(seed)")
            XCTAssertEqual(result.links.count, nodes - components, "a forest has N − components edges")
            XCTAssertEqual(result.tree.levels.last?.clusterCount, components, "one cluster per component")
            assertConsistent(result.tree, nodes: nodes)
        }
    }

    func testLevelsAreConsistentForBothLinkagesAndCaps() {
        let (graph, _) = randomGraph(nodes: 500, edges: 1500, seed: 42, maxWeight: 1000)
        for linkage in AffinityClustering.Linkage.allCases {
            for cap in [nil, 5, 40] as [Int?] {
                let tree = AffinityClustering(levels: 4, linkage: linkage, maxClusterSize: cap).cluster(graph).tree
                assertConsistent(tree, nodes: 500)
                if let cap { XCTAssertTrue(tree.levels.allSatisfy { $0.size.allSatisfy { $0 <= cap } }) }
                // Every level-ℓ cluster is connected in the graph: its videos form one component of the induced subgraph.
                for level in tree.levels { assertClustersConnected(level, graph: graph) }
            }
        }
    }

    func testSameOutputWithOneAndTwoThreads() {
        let (graph, _) = randomGraph(nodes: 20_000, edges: 60_000, seed: 9, maxWeight: 50)
        for linkage in AffinityClustering.Linkage.allCases {
            for cap in [nil, 30] as [Int?] {
                let one = AffinityClustering(levels: 3, linkage: linkage, maxClusterSize: cap, threads: 1).cluster(graph)
                let two = AffinityClustering(levels: 3, linkage: linkage, maxClusterSize: cap, threads: 2).cluster(graph)
                XCTAssertEqual(one.tree, two.tree)
                XCTAssertEqual(one.links, two.links)
            }
        }
    }

    func testSummaryStatistics() {
        let summary = ClusterLevelSummary(level: 2, sizes: [4, 1, 1, 7])
        XCTAssertEqual(summary.clusters, 4)
        XCTAssertEqual(summary.sizeMin, 1)
        XCTAssertEqual(summary.sizeMedian, 2.5)
        XCTAssertEqual(summary.sizeMax, 7)
        XCTAssertEqual(summary.singletons, 2)
    }

    // MARK: references and checks written independently of the library

    /// Kruskal: edges by decreasing weight, a plain component-relabelling forest.
    private func kruskalMaximumForest(nodes: Int, _ edges: [(Int, Int, Float)]) -> (Double, Int) {
        var component = Array(0..<nodes)
        var members = (0..<nodes).map { [$0] }
        var total = 0.0
        for (a, b, w) in edges.sorted(by: { $0.2 > $1.2 }) {
            let ca = component[a], cb = component[b]
            if ca == cb { continue }
            total += Double(w)
            for v in members[cb] { component[v] = ca }
            members[ca] += members[cb]
            members[cb] = []
        }
        return (total, Set(component).count)
    }

    private func assertConsistent(_ tree: ClusterTree, nodes: Int, file: StaticString = #filePath, line: UInt = #line) {
        for (index, level) in tree.levels.enumerated() {
            XCTAssertEqual(level.assignment.count, nodes, file: file, line: line)
            XCTAssertEqual(level.size.reduce(0, +), Int64(nodes), "sizes sum to N", file: file, line: line)
            var counted = [Int64](repeating: 0, count: level.clusterCount)
            for c in level.assignment { counted[Int(c)] += 1 }
            XCTAssertEqual(counted, level.size, file: file, line: line)
            // Labels follow the smallest video row: first appearances are 0, 1, 2, ...
            var next: Int32 = 0
            for c in level.assignment where c >= next {
                XCTAssertEqual(c, next, "label order", file: file, line: line)
                next += 1
            }
            if index + 1 < tree.levels.count {
                guard let parent = level.parent else { return XCTFail("missing parent at level \(index + 1)", file: file, line: line) }
                let above = tree.levels[index + 1].assignment
                for v in 0..<nodes { XCTAssertEqual(above[v], parent[Int(level.assignment[v])], file: file, line: line) }
            } else {
                XCTAssertNil(level.parent, file: file, line: line)
            }
        }
    }

    private func assertClustersConnected(_ level: ClusterLevel, graph: CSRGraph, file: StaticString = #filePath, line: UInt = #line) {
        var seen = [Bool](repeating: false, count: graph.nodeCount)
        var components = 0
        for start in 0..<graph.nodeCount where !seen[start] {
            components += 1
            seen[start] = true
            var stack = [start]
            while let v = stack.popLast() {
                for e in graph.neighbours(v) {
                    let u = Int(graph.indices[e])
                    if !seen[u] && level.assignment[u] == level.assignment[v] {
                        seen[u] = true
                        stack.append(u)
                    }
                }
            }
        }
        XCTAssertEqual(components, level.clusterCount, "each cluster is one connected piece", file: file, line: line)
    }
}
