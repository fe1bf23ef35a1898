import Contracts
import LinearAlgebra

/// The harder validation measure: the held-out queries of `RetrievalValidation`, each ranking
/// every video of the corpus (minus itself and its train neighbours), relevant = a held-out
/// edge. Unlike neighbours + 100 random candidates, this does not saturate early on an easy
/// corpus, so learning curves keep separating methods. Exact (blocked SGEMM, `CorpusRanking`).
public struct FullCorpusValidation: Sendable {
    public let queries: [Int32]
    let excluded: [[Int32]]
    let relevant: [[Int32]]

    /// `queries` are rows of the graph (e.g. `RetrievalValidation.queries`); queries without held-out edges are dropped.
    public init(train: CSRGraph, heldout: CSRGraph, queries: [Int32]) {
        let kept = queries.filter { heldout.degree(Int($0)) > 0 }
        self.queries = kept
        excluded = kept.map { q in train.neighbours(Int(q)).map { train.indices[$0] } }
        relevant = kept.map { q in heldout.neighbours(Int(q)).map { heldout.indices[$0] } }
    }

    /// MAP given the unit embeddings of every video, `corpus` [rows, dim] row-major.
    public func meanAveragePrecision(corpus: UnsafeBufferPointer<Float>, rows: Int, dim: Int, threads: Int = BLAS.threads) -> Double {
        guard !queries.isEmpty else { return 0 }
        let ranked = CorpusRanking(k: 1, threads: threads).rank(corpus: corpus, rows: rows, dimension: dim, queryRows: queries.map(Int.init),
                                                                 excluded: excluded, targets: relevant)
        var total = 0.0
        for q in queries.indices { total += ranked.averagePrecision(query: q) }
        return total / Double(queries.count)
    }
}
