import Contracts
import Embedding
import Support
import TestSupport
import XCTest

final class RetrievalValidationTests: XCTestCase {
    /// Above `wholeCorpusUpTo` each query ranks what eval-map-ndcg's heldout+random mode ranks:
    /// its held-out neighbours (relevant) and `negatives` distinct videos that are no neighbour of it.
    func testSampledCandidatesAreHeldoutNeighboursAndDistinctNonNeighbours() {
        let nodes = 300
        var generator = SeededGenerator(seed: 2)
        var trainEdges: [(Int, Int, Float)] = [], heldoutEdges: [(Int, Int, Float)] = []
        for a in 0..<nodes {
            trainEdges.append((a, (a + 1) % nodes, 1))
            if a % 3 == 0 { heldoutEdges.append((a, (a + 7 + generator.below(50)) % nodes, 1)) }
        }
        let train = undirectedGraph(nodes: nodes, trainEdges), heldout = undirectedGraph(nodes: nodes, heldoutEdges)
        let validation = RetrievalValidation(train: train, heldout: heldout, queries: 40, negatives: 25, wholeCorpusUpTo: 0, seed: 6)
        XCTAssertEqual(validation.queries.count, 40)
        for (q, query) in validation.queries.enumerated() {
            let entries = validation.candidatePointer[q]..<validation.candidatePointer[q + 1]
            let rows = entries.map { validation.rows[Int(validation.candidateIndex[$0])] }
            let relevant = Set(entries.filter { validation.relevance[$0] > 0 }.map { validation.rows[Int(validation.candidateIndex[$0])] })
            let heldoutNeighbours = Set(heldout.neighbours(Int(query)).map { heldout.indices[$0] })
            let trainNeighbours = Set(train.neighbours(Int(query)).map { train.indices[$0] })
            XCTAssertEqual(relevant, heldoutNeighbours)
            XCTAssertEqual(rows.count, heldoutNeighbours.count + 25)
            XCTAssertEqual(Set(rows).count, rows.count, "distinct candidates")
            XCTAssertFalse(rows.contains(query))
            XCTAssertTrue(Set(rows).isDisjoint(with: trainNeighbours))
        }
    }
}
