import LinearAlgebra
import XCTest

/// Records every visited score into a [queryCount, corpusCount] matrix (and how often each
/// entry was visited), checking that each query's corpus blocks arrive in increasing order.
private final class Recorder: ScoreBlockVisitor {
    let scores: UnsafeMutablePointer<Float>
    let visits: UnsafeMutablePointer<Int>
    let corpusCount: Int
    let orderViolations: UnsafeMutablePointer<Int>
    var first = 0
    var nextRow: [Int] = []

    init(scores: UnsafeMutablePointer<Float>, visits: UnsafeMutablePointer<Int>, corpusCount: Int, orderViolations: UnsafeMutablePointer<Int>) {
        (self.scores, self.visits, self.corpusCount, self.orderViolations) = (scores, visits, corpusCount, orderViolations)
    }

    func begin(queries: Range<Int>) {
        first = queries.lowerBound
        nextRow = [Int](repeating: 0, count: queries.count)
    }

    func visit(_ block: UnsafeMutablePointer<Float>, slot: Int, rows: Range<Int>) {
        let query = first + slot
        if rows.lowerBound != nextRow[slot] { orderViolations[query] += 1 }
        nextRow[slot] = rows.upperBound
        for (j, row) in rows.enumerated() {
            scores[query * corpusCount + row] = block[j]
            visits[query * corpusCount + row] += 1
        }
    }

    func end(queries: Range<Int>) {
        for slot in 0..<queries.count where nextRow[slot] != corpusCount { orderViolations[first + slot] += 1 }
    }
}

final class TopKTests: XCTestCase {
    private func randomValues(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Double(state >> 11) / Double(1 << 53) - 0.5)
        }
    }

    private func record(queries: [Float], queryCount: Int, queryRows: [Int]?, corpus: [Float], corpusCount: Int, dimension: Int,
                        threads: Int, blocking: TopK.Blocking) -> (scores: [Float], visits: [Int], orderViolations: [Int]) {
        var scores = [Float](repeating: .nan, count: queryCount * corpusCount)
        var visits = [Int](repeating: 0, count: queryCount * corpusCount)
        var violations = [Int](repeating: 0, count: queryCount)
        var visitorsMade = 0
        scores.withUnsafeMutableBufferPointer { s in
            visits.withUnsafeMutableBufferPointer { v in
                violations.withUnsafeMutableBufferPointer { o in
                    queries.withUnsafeBufferPointer { q in
                        corpus.withUnsafeBufferPointer { c in
                            let s = s.baseAddress!, v = v.baseAddress!, o = o.baseAddress!
                            let run = { (rows: UnsafePointer<Int>?) in
                                TopK.scan(queries: q.baseAddress!, queryCount: queryCount, queryRows: rows, corpus: c.baseAddress!,
                                          corpusCount: corpusCount, dimension: dimension, threads: threads, blocking: blocking) { slots in
                                    XCTAssertLessThanOrEqual(slots, blocking.queryBlock)
                                    visitorsMade += 1
                                    return Recorder(scores: s, visits: v, corpusCount: corpusCount, orderViolations: o)
                                }
                            }
                            if let queryRows { queryRows.withUnsafeBufferPointer { run($0.baseAddress!) } } else { run(nil) }
                        }
                    }
                }
            }
        }
        XCTAssertLessThanOrEqual(visitorsMade, threads)
        return (scores, visits, violations)
    }

    func testBlockScanVisitsEveryInnerProductOnceInRowOrder() {
        let d = 7, n = 203, pool = 40
        let corpus = randomValues(n * d, seed: 1)
        let vectors = randomValues(pool * d, seed: 2)
        // Gathered queries (rows of `vectors`, with repeats) and contiguous ones.
        let queryRows = (0..<29).map { ($0 * 17) % pool }
        for rows in [queryRows, nil] as [[Int]?] {
            let queryCount = rows?.count ?? pool
            var reference: [Float]?
            for (qb, cb, threads) in [(256, 4096, 1), (5, 16, 1), (5, 16, 2), (3, 50, 2), (1000, 203, 2)] {
                let blocking = TopK.Blocking(queryBlock: qb, corpusBlock: cb)
                let found = record(queries: vectors, queryCount: queryCount, queryRows: rows, corpus: corpus, corpusCount: n,
                                   dimension: d, threads: threads, blocking: blocking)
                XCTAssertEqual(found.visits, [Int](repeating: 1, count: queryCount * n), "blocks \(qb)x\(cb)")
                XCTAssertEqual(found.orderViolations, [Int](repeating: 0, count: queryCount), "blocks \(qb)x\(cb)")
                for q in 0..<queryCount {
                    let v = rows?[q] ?? q
                    for r in 0..<n {
                        var dot: Float = 0
                        for j in 0..<d { dot += vectors[v * d + j] * corpus[r * d + j] }
                        XCTAssertEqual(found.scores[q * n + r], dot, accuracy: 1e-5, "query \(q) row \(r) blocks \(qb)x\(cb)")
                    }
                }
                // Same blocking, other thread count: bit-identical.
                if qb == 5 && cb == 16 {
                    if let reference { XCTAssertEqual(found.scores, reference) } else { reference = found.scores }
                }
            }
        }
    }

    func testHeapsKeepTheKBestWithTiesToTheSmallerRowAndPad() {
        // Scores on a coarse grid tie often; -inf (an excluded row) never enters.
        let n = 300
        var scores = randomValues(n, seed: 5).map { ($0 * 8).rounded() / 8 }
        for r in stride(from: 0, to: n, by: 37) { scores[r] = -.infinity }
        let candidates = (0..<n).filter { scores[$0] > -.infinity }
        for k in [1, 4, 33, candidates.count, n + 5] {
            let heaps = TopK.Heaps(slots: 2, k: k)
            heaps.reset(count: 2)
            // Slot 0 gets the rows in uneven chunks, slot 1 only the first 10 rows.
            var start = 0
            for chunk in [1, 31, 32, 33, 64, 100, 39] where start < n {
                let count = min(chunk, n - start)
                scores.withUnsafeBufferPointer { heaps.offer($0.baseAddress! + start, count: count, offset: start, slot: 0) }
                start += count
            }
            scores.withUnsafeBufferPointer { heaps.offer($0.baseAddress!, count: 10, offset: 0, slot: 1) }
            for (slot, rows) in [(0, candidates), (1, candidates.filter { $0 < 10 })] {
                var outScore = [Float](repeating: 0, count: k), outIndex = [Int32](repeating: 0, count: k)
                heaps.finish(slot: slot, outScore: &outScore, outIndex: &outIndex)
                let expected = rows.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }.prefix(k)
                let padding = k - expected.count
                XCTAssertEqual(outIndex, expected.map { Int32($0) } + [Int32](repeating: -1, count: padding), "k \(k) slot \(slot)")
                XCTAssertEqual(outScore, expected.map { scores[$0] } + [Float](repeating: -.infinity, count: padding), "k \(k) slot \(slot)")
            }
        }
    }

    func testInnerProductEqualsBruteForceWithExclusion() {
        let d = 5, n = 150, q = 23, k = 9
        let corpus = Matrix<Float>(rows: n, columns: d, values: randomValues(n * d, seed: 8))
        let queries = Matrix<Float>(rows: q, columns: d, values: randomValues(q * d, seed: 9))
        let excluding = (0..<q).map { Int32(($0 * 11) % n) }
        let result = TopK.innerProduct(queries: queries, corpus: corpus, k: k, excluding: excluding, threads: 2,
                                       blocking: .init(queryBlock: 4, corpusBlock: 40))
        for i in 0..<q {
            let dots = (0..<n).map { r in (0..<d).reduce(Float(0)) { $0 + queries.values[i * d + $1] * corpus.values[r * d + $1] } }
            let expected = (0..<n).filter { $0 != Int(excluding[i]) }.sorted { dots[$0] > dots[$1] || (dots[$0] == dots[$1] && $0 < $1) }.prefix(k)
            XCTAssertEqual(Array(result.indices(of: i)), expected.map { Int32($0) }, "query \(i)")
            for (j, row) in expected.enumerated() { XCTAssertEqual(result.scores(of: i)[i * k + j], dots[row], accuracy: 1e-5) }
        }
    }
}
