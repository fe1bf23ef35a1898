import Foundation
import LinearAlgebra
import Metrics
import Support
import XCTest

/// Brute-force references written from the definitions, independent of the code under test.
enum Reference {
    /// scikit-learn's AP: Σ_n (R_n − R_{n−1}) P_n over the distinct score thresholds, descending.
    static func averagePrecision(scores: [Float], relevance: [Float]) -> Double? {
        let positives = relevance.filter { $0 > 0 }.count
        guard positives > 0 else { return nil }
        var ap = 0.0, previousRecall = 0.0
        for t in Set(scores).sorted(by: >) {
            let selected = scores.indices.filter { scores[$0] >= t }
            let hits = selected.filter { relevance[$0] > 0 }.count
            let recall = Double(hits) / Double(positives)
            ap += (recall - previousRecall) * Double(hits) / Double(selected.count)
            previousRecall = recall
        }
        return ap
    }

    /// DCG@k of one fixed order of gains.
    static func dcg(_ gains: [Float], k: Int) -> Double {
        gains.prefix(k).enumerated().reduce(0.0) { $0 + Double($1.element) / log2(Double($1.offset + 2)) }
    }

    /// NDCG@k with ties averaged = the mean DCG over every order that sorts the scores
    /// (all tie-breaks equally likely), enumerated by brute force; small lists only.
    static func ndcgOverTieOrders(scores: [Float], relevance: [Float], k: Int) -> Double? {
        let ideal = dcg(relevance.sorted(by: >), k: k)
        guard ideal > 0 else { return nil }
        var total = 0.0, orders = 0
        func permute(_ prefix: [Int], _ rest: [Int]) {
            if rest.isEmpty {
                total += dcg(prefix.map { relevance[$0] }, k: k)
                orders += 1
                return
            }
            for (i, item) in rest.enumerated() {
                if let last = prefix.last, scores[item] > scores[last] { continue }
                var remaining = rest
                remaining.remove(at: i)
                permute(prefix + [item], remaining)
            }
        }
        permute([], Array(scores.indices))
        return total / Double(orders) / ideal
    }
}

final class RankingMetricsTests: XCTestCase {
    func testAveragePrecisionHandCase() {
        // Relevant at ranks 1, 3, 6: (1/1 + 2/3 + 3/6) / 3.
        XCTAssertEqual(RankingMetrics.averagePrecision(rankedRelevance: [1, 0, 2, 0, 0, 1])!, (1 + 2.0 / 3 + 0.5) / 3, accuracy: 1e-12)
        XCTAssertEqual(RankingMetrics.averagePrecision(scores: [9, 8, 7, 6, 5, 4], relevance: [1, 0, 2, 0, 0, 1])!,
                       (1 + 2.0 / 3 + 0.5) / 3, accuracy: 1e-12)
    }

    func testQueryWithOneRelevantItemScoresReciprocalRank() {
        XCTAssertEqual(RankingMetrics.averagePrecision(rankedRelevance: [0, 0, 3])!, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(RankingMetrics.averagePrecision(scores: [0.1, 0.9, 0.5], relevance: [3, 0, 0])!, 1.0 / 3, accuracy: 1e-12)
        // NDCG@k of one relevant item at rank 3: 1/log2(4) = 0.5; beyond k it is 0.
        XCTAssertEqual(RankingMetrics.ndcg(scores: [0.1, 0.9, 0.5], relevance: [3, 0, 0], k: 3)!, 0.5, accuracy: 1e-12)
        XCTAssertEqual(RankingMetrics.ndcg(scores: [0.1, 0.9, 0.5], relevance: [3, 0, 0], k: 2)!, 0, accuracy: 1e-12)
    }

    func testNothingRelevantIsUndefined() {
        XCTAssertNil(RankingMetrics.averagePrecision(rankedRelevance: [0, 0]))
        XCTAssertNil(RankingMetrics.averagePrecision(scores: [1, 2], relevance: [0, 0]))
        XCTAssertNil(RankingMetrics.ndcg(scores: [1, 2], relevance: [0, 0], k: 5))
    }

    func testNDCGHandCaseWithLinearGains() {
        // Ranked gains 3, 2, 0, 1; k = 3. DCG = 3 + 2/log2 3; ideal 3 + 2/log2 3 + 1/2.
        let dcg = 3 + 2 / log2(3.0), ideal = dcg + 0.5
        XCTAssertEqual(RankingMetrics.ndcg(rankedRelevance: [3, 2, 0, 1], k: 3)!, dcg / ideal, accuracy: 1e-12)
        XCTAssertEqual(RankingMetrics.ndcg(scores: [0.4, 0.3, 0.2, 0.1], relevance: [3, 2, 0, 1], k: 3)!, dcg / ideal, accuracy: 1e-12)
    }

    func testTiesEnterAveragePrecisionAsOneThreshold() {
        // Scores 0.9 | 0.5 0.5 | 0.1 with relevant items in the tie and last:
        // thresholds give P = 1/3 at R = 1/2, P = 2/4 at R = 1 → AP = 1/2·1/3 + 1/2·1/2.
        XCTAssertEqual(RankingMetrics.averagePrecision(scores: [0.9, 0.5, 0.5, 0.1], relevance: [0, 1, 0, 1])!,
                       0.5 / 3 + 0.25, accuracy: 1e-12)
        // The order of tied items in the input does not matter.
        XCTAssertEqual(RankingMetrics.averagePrecision(scores: [0.9, 0.5, 0.5, 0.1], relevance: [0, 0, 1, 1])!,
                       0.5 / 3 + 0.25, accuracy: 1e-12)
    }

    func testTiesShareTheirMeanGainInNDCG() {
        // Scores 1 | 0.5 0.5, gains 0 | 1 0. The tie's mean gain 1/2 spreads over ranks 2 and 3.
        XCTAssertEqual(RankingMetrics.ndcg(scores: [1, 0.5, 0.5], relevance: [0, 1, 0], k: 2)!, 0.5 / log2(3.0), accuracy: 1e-12)
        XCTAssertEqual(RankingMetrics.ndcg(scores: [1, 0.5, 0.5], relevance: [0, 0, 1], k: 3)!, 0.5 / log2(3.0) + 0.25, accuracy: 1e-12)
    }

    func testRandomTieFreeListsMatchBruteForce() {
        var generator = SeededGenerator(seed: 7)
        for trial in 0..<200 {
            let n = 1 + generator.below(40)
            // Distinct scores: a shuffled ladder.
            var scores = (0..<n).map { Float($0) * 0.01 }
            for i in stride(from: n - 1, to: 0, by: -1) { scores.swapAt(i, generator.below(i + 1)) }
            let relevance = (0..<n).map { _ in generator.below(3) == 0 ? Float(1 + generator.below(4)) : 0 }
            let k = 1 + generator.below(12)
            let ranked = scores.indices.sorted { scores[$0] > scores[$1] }.map { relevance[$0] }
            let expectedAP = Reference.averagePrecision(scores: scores, relevance: relevance)
            let ideal = Reference.dcg(relevance.sorted(by: >), k: k)
            let expectedNDCG = ideal > 0 ? Reference.dcg(ranked, k: k) / ideal : nil
            assertClose(RankingMetrics.averagePrecision(scores: scores, relevance: relevance), expectedAP, "AP trial \(trial)")
            assertClose(RankingMetrics.averagePrecision(rankedRelevance: ranked), expectedAP, "ranked AP trial \(trial)")
            assertClose(RankingMetrics.ndcg(scores: scores, relevance: relevance, k: k), expectedNDCG, "NDCG trial \(trial)")
            assertClose(RankingMetrics.ndcg(rankedRelevance: ranked, k: k), expectedNDCG, "ranked NDCG trial \(trial)")
        }
    }

    func testRandomListsWithTiesMatchBruteForce() {
        var generator = SeededGenerator(seed: 11)
        for trial in 0..<150 {
            let n = 1 + generator.below(7)
            let scores = (0..<n).map { _ in Float(generator.below(3)) }
            let relevance = (0..<n).map { _ in generator.below(2) == 0 ? Float(1 + generator.below(3)) : 0 }
            let k = 1 + generator.below(n + 1)
            assertClose(RankingMetrics.averagePrecision(scores: scores, relevance: relevance),
                        Reference.averagePrecision(scores: scores, relevance: relevance), "AP trial \(trial)")
            assertClose(RankingMetrics.ndcg(scores: scores, relevance: relevance, k: k),
                        Reference.ndcgOverTieOrders(scores: scores, relevance: relevance, k: k), "NDCG trial \(trial)")
        }
    }

    private func assertClose(_ a: Double?, _ b: Double?, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        switch (a, b) {
        case (nil, nil): return
        case let (x?, y?): XCTAssertEqual(x, y, accuracy: 1e-9, message, file: file, line: line)
        default: XCTFail("\(message): \(String(describing: a)) vs \(String(describing: b))", file: file, line: line)
        }
    }
}
