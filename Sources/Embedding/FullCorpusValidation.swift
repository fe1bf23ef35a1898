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
        Self.mean(averagePrecisions(corpus: corpus, rows: rows, dim: dim, queries: queries.indices, threads: threads))
    }

    /// Queries per ranking GEMM: ranks score whole blocks of them (`share(of:inBlocksOf:)`), since a
    /// query's scores depend on its place in the GEMM (OpenBLAS's tiling).
    public static let queryBlock = CorpusRanking(k: 1).queryBlock

    /// The AP of queries `range` (positions in `queries`), in order: ranks score their shares (whole
    /// `queryBlock`s from the first query, so the same GEMMs as one process) and concatenate them,
    /// so `mean` of the whole list adds up in the one-process order.
    public func averagePrecisions(corpus: UnsafeBufferPointer<Float>, rows: Int, dim: Int, queries range: Range<Int>,
                                  threads: Int = BLAS.threads) -> [Double] {
        guard !range.isEmpty else { return [] }
        let ranked = CorpusRanking(k: 1, threads: threads).rank(corpus: corpus, rows: rows, dimension: dim,
                                                                 queryRows: queries[range].map(Int.init),
                                                                 excluded: Array(excluded[range]), targets: Array(relevant[range]))
        return (0..<range.count).map { ranked.averagePrecision(query: $0) }
    }

    /// MAP of the list of every query's AP (0 without queries), summed in list order.
    public static func mean(_ averagePrecisions: [Double]) -> Double {
        guard !averagePrecisions.isEmpty else { return 0 }
        var total = 0.0
        for ap in averagePrecisions { total += ap }
        return total / Double(averagePrecisions.count)
    }
}
