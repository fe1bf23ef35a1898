import Contracts
import Embedding
import Support
import XCTest

/// In-batch negative selection against a brute-force reference written from the definition.
final class MiningTests: XCTestCase {
    func reference(z: [Double], dim: Int, b: Int, videos: [Int32], neighbours: Set<[Int32]>, mining: Mining) -> [Int] {
        func distance(_ i: Int, _ j: Int) -> Double { (0..<dim).reduce(0) { $0 + pow(z[i * dim + $1] - z[j * dim + $1], 2) } }
        return (0..<b).map { i in
            let anchor = videos[i], positive = videos[b + i]
            let dap = distance(i, b + i)
            let candidates = (0..<(3 * b)).filter { j in
                videos[j] != anchor && videos[j] != positive && !neighbours.contains([anchor, videos[j]])
                    && (mining == .hard || distance(i, j) > dap)
            }
            guard let best = candidates.min(by: { distance(i, $0) < distance(i, $1) }), mining != .none else { return 2 * b + i }
            return best
        }
    }

    func testSelectionMatchesBruteForceOnRandomBatches() {
        var generator = SeededGenerator(seed: 21)
        for trial in 0..<40 {
            let b = 3 + generator.below(6), dim = 2 + generator.below(4), videoCount = 3 * b
            // Videos may repeat inside a batch (the same video as anchor of one triplet and negative of another).
            let videos = (0..<(3 * b)).map { _ in Int32(generator.below(videoCount)) }
            var z = (0..<(3 * b * dim)).map { _ in generator.normal() }
            for r in 0..<(3 * b) {
                let norm = (0..<dim).reduce(0.0) { $0 + z[r * dim + $1] * z[r * dim + $1] }.squareRoot()
                for c in 0..<dim { z[r * dim + c] /= norm }
            }
            var gram = [Double](repeating: 0, count: 9 * b * b)
            for i in 0..<(3 * b) { for j in 0..<(3 * b) { gram[i * 3 * b + j] = (0..<dim).reduce(0) { $0 + z[i * dim + $1] * z[j * dim + $1] } } }
            var rows: [Int32] = [], columns: [Int32] = []
            for _ in 0..<(2 * b) {
                let u = Int32(generator.below(videoCount)), v = Int32(generator.below(videoCount))
                if u != v { rows += [u, v]; columns += [v, u] }
            }
            let graph = CSRGraph.fromEntries(nodes: videoCount, rows: rows, columns: columns, weights: [Float](repeating: 1, count: rows.count))
            let pairs = Set(zip(rows, columns).map { [$0, $1] })
            for mining in Mining.allCases {
                var chosen = [Int](repeating: -1, count: b)
                gram.withUnsafeBufferPointer { g in
                    videos.withUnsafeBufferPointer { v in
                        chosen.withUnsafeMutableBufferPointer { out in
                            TripletLoss.selectNegatives(gram: g.baseAddress!, tripletCount: b, videos: v.baseAddress!, neighbours: graph,
                                                        mining: mining, into: out.baseAddress!)
                        }
                    }
                }
                let expected = reference(z: z, dim: dim, b: b, videos: videos, neighbours: pairs, mining: mining)
                XCTAssertEqual(chosen, expected, "trial \(trial), \(mining)")
                // Mining in shares (as ranks do: each its anchors' Gram rows over the whole batch) picks the same.
                var split = [Int](repeating: -1, count: b)
                for anchors in [0..<(b / 3), (b / 3)..<(2 * b / 3), (2 * b / 3)..<b] {
                    gram.withUnsafeBufferPointer { g in
                        videos.withUnsafeBufferPointer { v in
                            split.withUnsafeMutableBufferPointer { out in
                                TripletLoss.selectNegatives(gram: g.baseAddress! + anchors.lowerBound * 3 * b, anchors: anchors, tripletCount: b,
                                                            videos: v.baseAddress!, neighbours: graph, mining: mining, into: out.baseAddress!)
                            }
                        }
                    }
                }
                XCTAssertEqual(split, expected, "trial \(trial), \(mining), in three shares")
            }
        }
    }

    func testMiningStatisticsOnAHandBuiltBatch() {
        // B = 2, dim = 2. Rows: anchors 0, 1; positives 2, 3; pre-sampled negatives 4, 5; six distinct videos.
        let r = 0.5.squareRoot()
        let z: [Double] = [1, 0,          // a0
                           0, 1,          // a1
                           0.9, 0.19.squareRoot(),   // p0: a0·p0 = 0.9
                           0.6, 0.8,      // p1: a1·p1 = 0.8
                           0, 1,          // n0
                           r, r]          // n1: a0·n1 = a1·n1 = √½ ≈ 0.707
        let b = 2, dim = 2
        var gram = [Double](repeating: 0, count: 36)
        for i in 0..<6 { for j in 0..<6 { gram[i * 6 + j] = z[i * 2] * z[j * 2] + z[i * 2 + 1] * z[j * 2 + 1] } }
        let videos: [Int32] = [0, 1, 2, 3, 4, 5]
        var chosen = [Int](repeating: -1, count: b)
        var gradient = [Double](repeating: 0, count: 6 * dim)
        var active = -1
        var statistics = (ownNegativeChosen: -1, distanceSum: -1.0)
        gram.withUnsafeBufferPointer { g in
            videos.withUnsafeBufferPointer { v in
                chosen.withUnsafeMutableBufferPointer { out in
                    TripletLoss.selectNegatives(gram: g.baseAddress!, tripletCount: b, videos: v.baseAddress!, neighbours: nil,
                                                mining: .semihard, into: out.baseAddress!)
                }
            }
        }
        z.withUnsafeBufferPointer { zp in
            chosen.withUnsafeBufferPointer { n in
                gradient.withUnsafeMutableBufferPointer { gp in
                    active = TripletLoss.lossAndGradient(embeddings: zp.baseAddress!, dim: dim, tripletCount: b, negatives: n.baseAddress!,
                                                         margin: 0.2, gradient: gp.baseAddress!).active
                }
                statistics = TripletLoss.miningStatistics(embeddings: zp.baseAddress!, dim: dim, tripletCount: b, negatives: n.baseAddress!)
            }
        }
        // Triplet 0 (limit 0.9): rows 1, 3, 4, 5 score 0, 0.6, 0, 0.707 → row 5, triplet 1's negative, not its own (row 4).
        // Triplet 1 (limit 0.8): rows 0, 2, 4, 5 score 0, 0.436, 1 (too close), 0.707 → row 5, its own.
        XCTAssertEqual(chosen, [5, 5])
        XCTAssertEqual(statistics.ownNegativeChosen, 1)
        // Hinges: 2(0.707 − 0.9) + 0.2 < 0 (inactive); 2(0.707 − 0.8) + 0.2 = 0.014 > 0 (active).
        XCTAssertEqual(active, 1)
        // Both chosen negatives at a·n = √½: ‖a − n‖ = √(2 − √2).
        XCTAssertEqual(statistics.distanceSum, 2 * (2 - 2 * r).squareRoot(), accuracy: 1e-12)
    }

    func testWithoutMiningEveryTripletKeepsItsOwnNegative() {
        let z: [Double] = [1, 0, 0, 1, 0.6, 0.8, 0.8, 0.6, -1, 0, 0, -1]
        var chosen = [Int](repeating: -1, count: 2)
        let gram = [Double](repeating: 0, count: 36), videos: [Int32] = [0, 1, 2, 3, 4, 5]
        gram.withUnsafeBufferPointer { g in
            videos.withUnsafeBufferPointer { v in
                chosen.withUnsafeMutableBufferPointer { out in
                    TripletLoss.selectNegatives(gram: g.baseAddress!, tripletCount: 2, videos: v.baseAddress!, neighbours: nil, mining: .none,
                                                into: out.baseAddress!)
                }
            }
        }
        XCTAssertEqual(chosen, [4, 5])
        let statistics = z.withUnsafeBufferPointer { zp in
            chosen.withUnsafeBufferPointer { TripletLoss.miningStatistics(embeddings: zp.baseAddress!, dim: 2, tripletCount: 2, negatives: $0.baseAddress!) }
        }
        XCTAssertEqual(statistics.ownNegativeChosen, 2)
        // a0·n0 = −1 → distance 2; a1·n1 = −1 → 2.
        XCTAssertEqual(statistics.distanceSum, 4, accuracy: 1e-12)
    }

    func testFallsBackToGivenNegativeWhenNoCandidateIsFartherThanThePositive() {
        // One triplet: the positive is the farthest row, so semi-hard finds nothing.
        let gram: [Double] = [1, -1, 0.5,
                              -1, 1, 0,
                              0.5, 0, 1]
        let videos: [Int32] = [0, 1, 2]
        var chosen = [-1]
        TripletLoss.selectNegatives(gram: gram, tripletCount: 1, videos: videos, neighbours: nil, mining: .semihard, into: &chosen)
        XCTAssertEqual(chosen, [2])
    }
}
