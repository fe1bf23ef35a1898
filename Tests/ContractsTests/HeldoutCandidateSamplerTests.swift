import Contracts
import Support
import TestSupport
import XCTest

final class HeldoutCandidateSamplerTests: XCTestCase {
    func testHeldoutNeighboursWithWeightsThenDistinctNegativesThatAreNoNeighbours() {
        let nodes = 200
        let train = undirectedGraph(nodes: nodes, [(0, 1, 1), (0, 2, 1), (5, 6, 1)])
        let heldout = undirectedGraph(nodes: nodes, [(0, 3, 2.5), (0, 4, 1), (5, 7, 3)])
        let sampler = HeldoutCandidateSampler(train: train, heldout: heldout, negatives: 20, seed: 9)
        let drawn = sampler.candidates(of: 0)
        XCTAssertEqual(Array(drawn.rows.prefix(2)), [3, 4])
        XCTAssertEqual(Array(drawn.relevance.prefix(2)), [2.5, 1])
        let negatives = drawn.rows.dropFirst(2)
        XCTAssertEqual(negatives.count, 20)
        XCTAssertEqual(Set(negatives).count, 20, "distinct")
        XCTAssertTrue(Set(negatives).isDisjoint(with: [0, 1, 2, 3, 4]), "not the query, a train or a held-out neighbour")
        XCTAssertEqual(Array(drawn.relevance.dropFirst(2)), [Float](repeating: 0, count: 20))
    }

    func testAQuerysDrawDependsOnTheSeedAndTheQueryOnly() {
        let nodes = 500
        let heldout = undirectedGraph(nodes: nodes, [(1, 2, 1), (3, 4, 1)])
        let a = HeldoutCandidateSampler(train: CSRGraph(nodes: nodes), heldout: heldout, negatives: 30, seed: 4)
        let b = HeldoutCandidateSampler(train: CSRGraph(nodes: nodes), heldout: heldout, negatives: 30, seed: 4)
        _ = a.candidates(of: 3)   // drawing another query first changes nothing
        XCTAssertEqual(a.candidates(of: 1).rows, b.candidates(of: 1).rows)
        XCTAssertNotEqual(a.candidates(of: 1).rows, a.candidates(of: 3).rows)
        let other = HeldoutCandidateSampler(train: CSRGraph(nodes: nodes), heldout: heldout, negatives: 30, seed: 5)
        XCTAssertNotEqual(a.candidates(of: 1).rows, other.candidates(of: 1).rows)
    }

    func testSmallCorpusGivesEveryFreeVideoOnce() {
        // 10 videos; query 0 has train neighbour 1 and held-out neighbour 2: 7 free videos for 100 negatives.
        let sampler = HeldoutCandidateSampler(train: undirectedGraph(nodes: 10, [(0, 1, 1)]), heldout: undirectedGraph(nodes: 10, [(0, 2, 1)]), negatives: 100, seed: 1)
        let drawn = sampler.candidates(of: 0)
        XCTAssertEqual(drawn.rows.first, 2)
        XCTAssertEqual(Set(drawn.rows.dropFirst()), Set((3..<10).map(Int32.init)))
        XCTAssertEqual(drawn.rows.count, 8)
    }
}
