import Contracts
import Graphs
import LinearAlgebra
import Support
import XCTest

final class KNNTests: XCTestCase {
    private func randomMatrix(rows: Int, columns: Int, seed: UInt64) -> Matrix<Float> {
        var random = SeededGenerator(seed: seed)
        return Matrix(rows: rows, columns: columns, values: (0..<(rows * columns)).map { _ in Float(random.normal()) })
    }

    /// Brute force: every pair's cosine by a plain loop (Double), sorted by (score desc, row asc).
    private func bruteForce(_ x: Matrix<Float>, k: Int) -> [[Int32]] {
        let norms = (0..<x.rows).map { r in (0..<x.columns).reduce(0.0) { $0 + Double(x[r, $1]) * Double(x[r, $1]) }.squareRoot() }
        return (0..<x.rows).map { q in
            let scored = (0..<x.rows).filter { $0 != q }.map { j -> (Double, Int) in
                let dot = (0..<x.columns).reduce(0.0) { $0 + Double(x[q, $1]) * Double(x[j, $1]) }
                return (dot / (norms[q] * norms[j]), j)
            }.sorted { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }
            return scored.prefix(k).map { Int32($0.1) }
        }
    }

    func testNeighboursEqualBruteForce() {
        let x = randomMatrix(rows: 300, columns: 12, seed: 5)
        let expected = bruteForce(x, k: 7)
        for threads in [1, 2] {
            let found = ContentKNN.neighbours(x, k: 7, threads: threads)
            for q in 0..<x.rows { XCTAssertEqual(Array(found.indices(of: q)), expected[q], "query \(q), threads \(threads)") }
        }
    }

    func testKNNGraphIsTheSymmetrisedBruteForceListsWithCosineWeights() {
        let x = randomMatrix(rows: 120, columns: 6, seed: 8)
        let lists = bruteForce(x, k: 4)
        let unit = x.normalizedRows
        var expected: [UInt64: Float] = [:]
        for q in 0..<x.rows {
            for j in lists[q] {
                let cosine = (0..<x.columns).reduce(Float(0)) { $0 + unit[q, $1] * unit[Int(j), $1] }
                if cosine > 0 { expected[PairSums.key(Int32(q), j)] = cosine }
            }
        }
        let edges = ContentKNN.graph(x, k: 4, threads: 2)
        XCTAssertTrue(edges.isCanonical)
        XCTAssertEqual(Set(zip(edges.a, edges.b).map { PairSums.key($0, $1) }), Set(expected.keys))
        for e in 0..<edges.count {
            XCTAssertEqual(edges.weight[e], expected[PairSums.key(edges.a[e], edges.b[e])]!, accuracy: 1e-5)
        }
    }

    func testTopKBreaksTiesBySmallerRowAndPadsShortLists() {
        // Corpus rows 0..5 in 1-D: scores against query [1] are the values themselves.
        let corpus = Matrix<Float>(rows: 6, columns: 1, values: [2, 5, 5, 1, 5, 2])
        let query = Matrix<Float>(rows: 1, columns: 1, values: [1])
        let top = TopK.innerProduct(queries: query, corpus: corpus, k: 4)
        XCTAssertEqual(Array(top.indices(of: 0)), [1, 2, 4, 0])
        XCTAssertEqual(Array(top.scores(of: 0)), [5, 5, 5, 2])
        let excluded = TopK.innerProduct(queries: query, corpus: corpus, k: 8, excluding: [2])
        XCTAssertEqual(Array(excluded.indices(of: 0)), [1, 4, 0, 5, 3, -1, -1, -1])
        XCTAssertEqual(excluded.scores(of: 0).last, -.infinity)
    }

    func testTopKDoesNotDependOnBlockingOrThreads() {
        let corpus = randomMatrix(rows: 1000, columns: 16, seed: 2)
        let queries = randomMatrix(rows: 77, columns: 16, seed: 3)
        let reference = TopK.innerProduct(queries: queries, corpus: corpus, k: 10, blocking: .init(queryBlock: 1000, corpusBlock: 4096))
        for (qb, cb) in [(7, 16), (13, 100), (64, 333)] {
            let one = TopK.innerProduct(queries: queries, corpus: corpus, k: 10, threads: 1, blocking: .init(queryBlock: qb, corpusBlock: cb))
            let two = TopK.innerProduct(queries: queries, corpus: corpus, k: 10, threads: 2, blocking: .init(queryBlock: qb, corpusBlock: cb))
            // Same blocks: bit-identical for any thread count. Other blocks: same rows, scores equal up to rounding.
            XCTAssertTrue(one == two, "blocks \(qb)x\(cb): threads change the result")
            XCTAssertTrue(one.indices == reference.indices, "blocks \(qb)x\(cb): other neighbours")
            XCTAssertTrue(zip(one.scores, reference.scores).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) })
        }
        // And equals a brute-force scan of the scores.
        let scores = queries.multiplied(by: corpus, transposeOther: true)
        for q in 0..<queries.rows {
            let best = (0..<corpus.rows).sorted { scores[q, $0] != scores[q, $1] ? scores[q, $0] > scores[q, $1] : $0 < $1 }.prefix(10)
            XCTAssertEqual(Array(reference.indices(of: q)), best.map(Int32.init))
        }
    }
}
