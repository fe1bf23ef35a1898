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
