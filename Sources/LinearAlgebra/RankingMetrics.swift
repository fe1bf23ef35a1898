import Foundation

/// Ranking metrics over one query's ranked list (best first), by the standard
/// definitions (the same numbers as scikit-learn's `average_precision_score`
/// and `ndcg_score` on the same lists when scores have no ties).
///
/// The `scores:relevance:` forms take the list in any order and treat equal
/// scores as scikit-learn does: AP over thresholds (a tie group enters the
/// precision–recall curve at once), NDCG with gains averaged over each tie group.
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

    /// Average precision of `scores` against binary relevance (> 0), ties as in
    /// scikit-learn's `average_precision_score`: each relevant item contributes the
    /// precision at its score threshold, (relevant with score ≥ s) / (items with score ≥ s).
    /// Without ties this is `averagePrecision(rankedRelevance:)` of the sorted list.
    /// nil when nothing is relevant.
    public static func averagePrecision(scores: [Float], relevance: [Float]) -> Double? {
        precondition(scores.count == relevance.count, "averagePrecision: \(scores.count) scores, \(relevance.count) relevances")
        let order = descendingOrder(scores)
        let relevantTotal = relevance.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
        guard relevantTotal > 0 else { return nil }
        var sum = 0.0, seen = 0, hits = 0
        forEachTieGroup(order, scores) { group in
            var groupHits = 0
            for i in group where relevance[order[i]] > 0 { groupHits += 1 }
            seen += group.count
            hits += groupHits
            sum += Double(groupHits) * Double(hits) / Double(seen)
        }
        return sum / Double(relevantTotal)
    }

    /// NDCG@k with linear gains, ties as in scikit-learn's `ndcg_score(k=…)`
    /// (ignore_ties=False): the items of a tie group share its mean gain, spread
    /// over the discounts 1/log2(rank + 1) of the ranks it occupies (0 beyond k).
    /// The ideal DCG sorts the gains of this same list. nil when nothing is relevant.
    public static func ndcg(scores: [Float], relevance: [Float], k: Int) -> Double? {
        precondition(scores.count == relevance.count, "ndcg: \(scores.count) scores, \(relevance.count) relevances")
        let ideal = relevance.sorted(by: >).prefix(k).enumerated().reduce(0.0) { $0 + Double($1.element) * discount($1.offset) }
        guard ideal > 0 else { return nil }
        let order = descendingOrder(scores)
        var dcg = 0.0
        forEachTieGroup(order, scores) { group in
            guard group.lowerBound < k else { return }
            var gain = 0.0
            for i in group { gain += Double(relevance[order[i]]) }
            var discounts = 0.0
            for i in group.lowerBound..<min(group.upperBound, k) { discounts += discount(i) }
            dcg += gain / Double(group.count) * discounts
        }
        return dcg / ideal
    }

    /// 1 / log2(position + 2) for a 0-based position.
    @inline(__always) static func discount(_ position: Int) -> Double { 1 / log2(Double(position + 2)) }

    /// Indices by decreasing score; equal scores keep their input order.
    public static func descendingOrder(_ scores: [Float]) -> [Int] {
        Array(scores.indices).sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
    }

    /// Calls `body` with each run of positions in `order` whose scores are equal.
    public static func forEachTieGroup(_ order: [Int], _ scores: [Float], _ body: (Range<Int>) -> Void) {
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count && scores[order[end]] == scores[order[start]] { end += 1 }
            body(start..<end)
            start = end
        }
    }
}
