import Contracts
import LinearAlgebra
import Support

/// Retrieval MAP on a fixed, seeded sample of held-out queries (the learning curve of
/// the validation graph). Each query ranks its candidates by cosine similarity; relevant = a
/// held-out edge to the query. Candidates are the whole corpus (minus the query and its
/// train neighbours) when the corpus is small, else the query's held-out neighbours plus
/// `negatives` random videos that are neither held-out nor train neighbours, drawn as
/// eval-map-ndcg draws them (`HeldoutCandidateSampler`).
public struct RetrievalValidation: Sendable {
    public let queries: [Int32]
    /// Candidates of query q: `candidateIndex[candidatePointer[q]..<candidatePointer[q+1]]`, positions into `rows`.
    public let candidatePointer: [Int]
    public let candidateIndex: [Int32]
    public let relevance: [Float]
    /// Videos whose embeddings are needed, sorted; vectors are passed in this order.
    public let rows: [Int32]
    /// Query q's position in `rows`.
    public let queryIndex: [Int32]

    public init(graph: RelationalGraph, queries queryCount: Int = 500, negatives: Int = 100, wholeCorpusUpTo: Int = 3000, seed: UInt64) {
        self.init(train: graph.train, heldout: graph.heldout, queries: queryCount, negatives: negatives,
                  wholeCorpusUpTo: wholeCorpusUpTo, seed: seed)
    }

    public init(train: CSRGraph, heldout: CSRGraph, queries queryCount: Int = 500, negatives: Int = 100, wholeCorpusUpTo: Int = 3000,
                seed: UInt64) {
        let n = heldout.nodeCount
        var generator = SeededGenerator(seed: seed ^ 0x7A11_DA7E)
        var pool = (0..<n).filter { heldout.degree($0) > 0 }.map(Int32.init)
        pool.fisherYatesShuffle(using: &generator)
        // The candidates eval-map-ndcg ranks in its heldout+random mode, from their own seeded streams.
        let sampler = HeldoutCandidateSampler(train: train, heldout: heldout, negatives: negatives, seed: seed ^ 0x7A11_DA7E)
        let chosen = Array(pool.prefix(queryCount)).sorted()
        var lists: [[(Int32, Float)]] = []
        var excluded = [Int32](repeating: -1, count: n)   // stamp: query id that excludes this video
        for (q, query) in chosen.enumerated() {
            let qi = Int(query)
            excluded[qi] = Int32(q)
            for e in train.neighbours(qi) { excluded[Int(train.indices[e])] = Int32(q) }
            var relevant = [Float](repeating: 0, count: 0)
            var list: [(Int32, Float)] = []
            if n <= wholeCorpusUpTo {
                relevant = [Float](repeating: 0, count: n)
                for e in heldout.neighbours(qi) { relevant[Int(heldout.indices[e])] = 1 }
                for v in 0..<n where excluded[v] != Int32(q) { list.append((Int32(v), relevant[v])) }
            } else {
                let drawn = sampler.candidates(of: qi)
                list = Array(zip(drawn.rows, drawn.relevance))
            }
            lists.append(list)
        }
        var needed = Set(chosen)
        for list in lists { for (v, _) in list { needed.insert(v) } }
        let sortedRows = needed.sorted()
        var position = [Int32: Int32]()
        for (i, v) in sortedRows.enumerated() { position[v] = Int32(i) }
        var pointer = [0]
        var index: [Int32] = []
        var rel: [Float] = []
        for list in lists {
            for (v, r) in list {
                index.append(position[v]!)
                rel.append(r)
            }
            pointer.append(index.count)
        }
        queries = chosen
        candidatePointer = pointer
        candidateIndex = index
        relevance = rel
        rows = sortedRows
        queryIndex = chosen.map { position[$0]! }
    }

    /// MAP given unit `vectors` [rows.count, dim] (any embedding: the model's or raw features normalised).
    public func meanAveragePrecision(vectors: [Float], dim: Int) -> Double {
        FullCorpusValidation.mean(averagePrecisions(vectors: vectors, dim: dim, queries: 0..<queries.count))
    }

    /// The AP of the queries in `range` (positions in `queries`) that have a relevant candidate, in order:
    /// ranks gather their lists in rank order, so the MAP adds up as one process does.
    public func averagePrecisions(vectors: [Float], dim: Int, queries range: Range<Int>) -> [Double] {
        precondition(vectors.count == rows.count * dim)
        var averagePrecisions: [Double] = []
        var scored: [(Float, Int32, Float)] = []
        for q in range {
            scored.removeAll(keepingCapacity: true)
            let qv = Int(queryIndex[q]) * dim
            vectors.withUnsafeBufferPointer { v in
                for e in candidatePointer[q]..<candidatePointer[q + 1] {
                    let cv = Int(candidateIndex[e]) * dim
                    scored.append((Kernels.dot(dim, v.baseAddress! + qv, v.baseAddress! + cv), rows[Int(candidateIndex[e])], relevance[e]))
                }
            }
            scored.sort { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }
            if let ap = RankingMetrics.averagePrecision(rankedRelevance: scored.map { $0.2 }) { averagePrecisions.append(ap) }
        }
        return averagePrecisions
    }
}
