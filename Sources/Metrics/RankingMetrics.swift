import Foundation

/// Ranking metrics over one query's ranked list (best first), by the standard
/// definitions (the same numbers as scikit-learn's `average_precision_score`
/// and `ndcg_score` on the same lists when scores have no ties).
public enum RankingMetrics {
    /// Average precision with binary relevance (relevance > 0): the mean over
    /// relevant items of precision at their rank. nil when nothing is relevant.
    public static func averagePrecision(rankedRelevance: [Float]) -> Double? {
        var hits = 0
        var sum = 0.0
        for (rank, relevance) in rankedRelevance.enumerated() where relevance > 0 {
            hits += 1
            sum += Double(hits) / Double(rank + 1)
        }
        return hits == 0 ? nil : sum / Double(hits)
    }

    /// NDCG@k with linear gains: DCG = Σ rel_i / log2(i + 2) over the first k ranks,
    /// divided by the DCG of the ideal ordering. nil when nothing is relevant.
    public static func ndcg(rankedRelevance: [Float], k: Int) -> Double? {
        func dcg<S: Sequence>(_ gains: S) -> Double where S.Element == Float {
            var total = 0.0
            for (i, gain) in gains.enumerated() { total += Double(gain) / log2(Double(i + 2)) }
            return total
        }
        let ideal = dcg(rankedRelevance.sorted(by: >).prefix(k))
        guard ideal > 0 else { return nil }
        return dcg(rankedRelevance.prefix(k)) / ideal
    }
}
