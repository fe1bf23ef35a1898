import Contracts
import Graphs
import Support
import XCTest

/// Summed pair weights, sorted by pair (what interaction counting hands to graph building).
private struct PairSumsBuilder {
    var sums: [UInt64: Double] = [:]
    mutating func add(key: UInt64, _ value: Double) { sums[key, default: 0] += value }
    var result: PairSums {
        let keys = sums.keys.sorted()
        return PairSums(keys: keys, values: keys.map { sums[$0]! })
    }
}

final class HoldOutTests: XCTestCase {
    /// A random graph over `ids` with ~`degree` edges per node, canonical (a < b, sorted).
    private func randomEdges(_ ids: [String], degree: Int, seed: UInt64) -> UndirectedEdges {
        var random = SeededGenerator(seed: seed)
        var pairs = PairSumsBuilder()
        for a in 0..<ids.count {
            for _ in 0..<degree {
                let b = random.below(ids.count)
                if b != a { pairs.add(key: PairSums.key(Int32(a), Int32(b)), 1 + Double(random.below(3))) }
            }
        }
        return UndirectedEdges.from(pairs.result, nodes: ids.count, weighting: .count)
    }

    private func ids(_ range: Range<Int>) -> [String] { range.map { "video-\($0)" } }

    func testTrainAndHeldoutAreDisjointAndHeldoutNodesHaveNoTrainEdges() throws {
        let videos = ids(0..<2000)
        let edges = randomEdges(videos, degree: 6, seed: 1)
        let holdOut = HoldOut(nodeFraction: 0.1, edgeFraction: 0.2, seed: 7)
        let split = holdOut.split(edges, videoIDs: videos)
        let train = Set(zip(split.train.a, split.train.b).map { PairSums.key($0, $1) })
        let heldout = Set(zip(split.heldout.a, split.heldout.b).map { PairSums.key($0, $1) })
        XCTAssertTrue(train.isDisjoint(with: heldout))
        XCTAssertEqual(train.count + heldout.count, edges.count, "every edge lands on exactly one side")
        XCTAssertTrue(split.train.isCanonical && split.heldout.isCanonical)
        let cold = Set(split.heldoutNodes)
        XCTAssertEqual(split.heldoutNodes, split.heldoutNodes.sorted())
        XCTAssertFalse(zip(split.train.a, split.train.b).contains { cold.contains($0) || cold.contains($1) })
        // Every edge touching a cold node is held out; about the asked fractions are chosen.
        let touching = zip(edges.a, edges.b).filter { cold.contains($0) || cold.contains($1) }.count
        XCTAssertEqual(Double(cold.count) / 2000, 0.1, accuracy: 0.025)
        let remaining = edges.count - touching
        XCTAssertEqual(Double(heldout.count - touching) / Double(remaining), 0.2, accuracy: 0.03)
        // The CSR forms keep the property.
        let trainCSR = split.train.symmetricCSR()
        for node in cold { XCTAssertEqual(trainCSR.degree(Int(node)), 0) }
        // Held-out CSR: sorted rows without duplicates or self loops, symmetric.
        let heldoutCSR = split.heldout.symmetricCSR()
        XCTAssertNil(heldoutCSR.firstUnsortedRow())
        var entries: [UInt64: Float] = [:]
        for i in 0..<heldoutCSR.nodeCount {
            for e in heldoutCSR.neighbours(i) { entries[UInt64(i) << 32 | UInt64(heldoutCSR.indices[e])] = heldoutCSR.weights[e] }
        }
        for (key, weight) in entries {
            XCTAssertNotEqual(key >> 32, key & 0xFFFF_FFFF, "self loop")
            XCTAssertEqual(entries[(key & 0xFFFF_FFFF) << 32 | key >> 32], weight, "asymmetric")
        }
    }

    func testGrowingTheCorpusMovesNoExistingVideoOrEdgeBetweenSides() throws {
        let holdOut = HoldOut(nodeFraction: 0.15, edgeFraction: 0.25, seed: 3)
        let old = ids(0..<800)
        // The grown corpus: new videos interleaved in front and between, rows shifted.
        var grown = ids(800..<1400) + old
        var random = SeededGenerator(seed: 9)
        grown.shuffle(using: &random)
        let oldEdges = randomEdges(old, degree: 5, seed: 2)
        // Re-express the old edges over the grown corpus rows and add new edges.
        let rowOf = Dictionary(uniqueKeysWithValues: grown.enumerated().map { ($1, Int32($0)) })
        var pairs = PairSumsBuilder()
        for e in 0..<oldEdges.count {
            pairs.add(key: PairSums.key(rowOf[old[Int(oldEdges.a[e])]]!, rowOf[old[Int(oldEdges.b[e])]]!), Double(oldEdges.weight[e]))
        }
        let extra = randomEdges(grown, degree: 3, seed: 4)
        for e in 0..<extra.count { pairs.add(key: PairSums.key(extra.a[e], extra.b[e]), Double(extra.weight[e])) }
        let grownEdges = UndirectedEdges.from(pairs.result, nodes: grown.count, weighting: .count)

        func sides(_ edges: UndirectedEdges, _ videos: [String]) -> (nodes: Set<String>, heldout: Set<String>, train: Set<String>) {
            let split = holdOut.split(edges, videoIDs: videos)
            func name(_ a: Int32, _ b: Int32) -> String { [videos[Int(a)], videos[Int(b)]].sorted().joined(separator: "|") }
            return (Set(split.heldoutNodes.map { videos[Int($0)] }), Set(zip(split.heldout.a, split.heldout.b).map(name)),
                    Set(zip(split.train.a, split.train.b).map(name)))
        }
        let before = sides(oldEdges, old), after = sides(grownEdges, grown)
        let oldSet = Set(old)
        XCTAssertFalse(before.nodes.isEmpty)
        XCTAssertEqual(after.nodes.intersection(oldSet), before.nodes)
        XCTAssertTrue(before.heldout.isSubset(of: after.heldout))
        XCTAssertTrue(before.train.isSubset(of: after.train))
    }

    func testEdgeHashIsOrderIndependentAndSaltChangesTheChoice() {
        let h = HoldOut(nodeFraction: 0.1, edgeFraction: 0.5, seed: 11)
        XCTAssertEqual(h.edgeFraction("abc", "xyz"), h.edgeFraction("xyz", "abc"))
        XCTAssertNotEqual(h.edgeFraction("abc", "xyz"), HoldOut(seed: 12).edgeFraction("abc", "xyz"))
        let videos = ids(0..<1000)
        XCTAssertNotEqual(videos.filter(h.isHeldOutNode), videos.filter(HoldOut(nodeFraction: 0.1, seed: 12).isHeldOutNode))
        XCTAssertTrue(videos.filter(HoldOut(nodeFraction: 0).isHeldOutNode).isEmpty)
    }

    func testAssemblyRejectsAnEmptyResultAndReportsStatistics() throws {
        let videos = ["a", "b", "c", "d", "e"]
        let edges = UndirectedEdges(nodeCount: 5, a: [0, 1, 3], b: [1, 2, 4], weight: [1, 2, 0.5])
        XCTAssertThrowsError(try GraphAssembly(minWeight: 5, holdOut: HoldOut(nodeFraction: 0)).assemble(edges, videoIDs: videos, source: "x.tsv"))
        let (graph, stats) = try GraphAssembly(holdOut: HoldOut(nodeFraction: 0)).assemble(edges, videoIDs: videos, source: "x.tsv")
        // Train: path a-b-c and edge d-e: degrees 1,2,1,1,1.
        XCTAssertEqual(graph.train.entryCount, 6)
        XCTAssertEqual(stats.nodes, 5)
        XCTAssertEqual(stats.edges, 3)
        XCTAssertEqual(stats.isolatedNodes, 0)
        XCTAssertEqual(stats.degreeMin, 1)
        XCTAssertEqual(stats.degreeMedian, 1)
        XCTAssertEqual(stats.degreeMax, 2)
        XCTAssertEqual(stats.components, 2)
        XCTAssertEqual(stats.largestComponent, 3)
        XCTAssertEqual(stats.heldoutEdges, 0)
    }
}
