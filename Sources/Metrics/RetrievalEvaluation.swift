import Artifacts
import Contracts
import Distributed
import Foundation
import LinearAlgebra
import Support

/// Related-video retrieval on the relational graph's held-out edges: each query
/// ranks candidate videos by cosine similarity of their vectors; a candidate's
/// relevance is its held-out edge weight to the query. AP (binary relevance,
/// weight > 0) and NDCG@k (linear gains) per query, MAP and mean NDCG over queries.
public struct RetrievalEvaluation {
    /// Which videos are queries. Only videos with at least one held-out edge are used.
    public enum Queries: String, CaseIterable, Sendable {
        /// Cold-start videos (`/heldout_nodes`: no train edges at all).
        case heldoutNodes = "heldout-nodes"
        /// Warm videos: train edges and some held-out edges.
        case heldoutEdges = "heldout-edges"
        /// Both kinds.
        case both
    }

    /// What each query ranks.
    public typealias Candidates = RetrievalCandidates

    public var k: Int
    public var candidates: Candidates
    public var negatives: Int
    public var queries: Queries
    /// At most this many queries: a uniform sample of the eligible ones (nil: all of them).
    public var maxQueries: Int?
    public var seed: UInt64
    public var threads: Int
    /// The ranks sharing the queries: each ranks a contiguous share (a query's candidates and
    /// negatives depend on the query alone), MAP and NDCG are taken over all of them.
    public var communicator: Communicator

    public init(k: Int = 60, candidates: Candidates = .heldoutRandom, negatives: Int = 100, queries: Queries = .both,
                maxQueries: Int? = nil, seed: UInt64 = 0, threads: Int = BLAS.threads, communicator: Communicator = .serial) {
        self.k = k
        self.candidates = candidates
        self.negatives = negatives
        self.queries = queries
        self.maxQueries = maxQueries
        self.seed = seed
        self.threads = threads
        self.communicator = communicator
    }

    /// The query rows (ascending) of `graph` for `queries`: videos with held-out edges,
    /// cold-start or warm as asked.
    public static func queryRows(_ graph: RelationalGraph, _ queries: Queries) -> [Int] {
        let cold = Set(graph.heldoutNodes.map(Int.init))
        return (0..<graph.nodeCount).filter { row in
            guard graph.heldout.degree(row) > 0 else { return false }
            switch queries {
            case .heldoutNodes: return cold.contains(row)
            case .heldoutEdges: return !cold.contains(row)
            case .both: return true
            }
        }
    }

    /// A uniform sample of `limit` of `rows` (ascending), or all of them when `limit` is nil or
    /// not smaller. The draw depends only on `rows` and `seed`, so every method evaluated on
    /// one graph with one seed is scored on the same queries.
    public static func sampleQueries(_ rows: [Int], limit: Int?, seed: UInt64) -> [Int] {
        guard let limit, limit < rows.count else { return rows }
        // Its own stream: the sample does not share draws with the negatives of any query row.
        var generator = SeededGenerator(seed: seed ^ 0x5175_6572_7953_616D)  // "QuerySam"
        var pool = rows
        pool.fisherYatesPrefix(limit, using: &generator)
        return pool[0..<limit].sorted()
    }

    /// Evaluates `vectors` (unit rows, [graph.nodeCount, dimension] row-major). Under several ranks the
    /// result holds this rank's queries and the MAP and NDCG of all of them.
    public func evaluate(vectors: [Float], dimension: Int, graph: RelationalGraph, graphPath: String = "graph",
                         progress reporter: ProgressReporter = .unnamed) throws -> RetrievalResult {
        precondition(vectors.count == graph.nodeCount * dimension, "evaluate: vectors do not match the graph")
        guard k > 0 else { throw GCMLError(parameter: "k", expected: "a positive number", found: "\(k)") }
        guard negatives >= 0 else { throw GCMLError(parameter: "negatives", expected: "0 or more", found: "\(negatives)") }
        if let maxQueries, maxQueries < 1 { throw GCMLError(parameter: "maxQueries", expected: "a positive number", found: "\(maxQueries)") }
        let eligible = Self.queryRows(graph, queries)
        guard !eligible.isEmpty else {
            throw GCMLError(file: graphPath, object: "/heldout", expected: "at least one \(queries.rawValue) query with held-out edges",
                            found: "none")
        }
        // Each rank ranks a contiguous share of the (sampled) queries; against the whole corpus in
        // whole query blocks of the ranking GEMM, since a query's scores depend on its place in it.
        let sampled = Self.sampleQueries(eligible, limit: maxQueries, seed: seed)
        let share = candidates == .all ? communicator.share(of: sampled.count, inBlocksOf: corpusRanking.queryBlock)
                                       : communicator.share(of: sampled.count)
        let rows = Array(sampled[share])
        let progress = reporter.progress(total: rows.count, unit: "queries")
        var result = RetrievalResult(k: k, candidates: candidates, queries: rows.map(Int32.init), eligibleQueries: eligible.count)
        switch candidates {
        case .heldoutRandom: rankSampled(rows, vectors, dimension, graph, &result, progress)
        case .all: rankCorpus(rows, vectors, dimension, graph, &result, progress)
        }
        try result.finish(communicator: communicator)
        progress.finish(note: String(format: "MAP %.4f, NDCG@%d %.4f", result.map, k, result.meanNDCG))
        return result
    }

    /// Held-out neighbours + seeded random non-neighbours (`HeldoutCandidateSampler`), scored by direct dot products.
    private func rankSampled(_ rows: [Int], _ vectors: [Float], _ dimension: Int, _ graph: RelationalGraph,
                             _ result: inout RetrievalResult, _ progress: Support.Progress) {
        let sampler = HeldoutCandidateSampler(graph: graph, negatives: negatives, seed: seed)
        vectors.withUnsafeBufferPointer { v in
            for query in rows {
                let (candidates, relevance) = sampler.candidates(of: query)
                let scores = candidates.map { Self.dot(v.baseAddress! + query * dimension, v.baseAddress! + Int($0) * dimension, dimension) }
                result.append(candidates: candidates, scores: scores, relevance: relevance, k: k)
                progress.advance()
            }
        }
    }

    /// The full-corpus ranking: blocked SGEMM, `threads` workers.
    var corpusRanking: CorpusRanking { CorpusRanking(k: k, threads: threads) }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var sum: Float = 0
        for i in 0..<n { sum += a[i] * b[i] }
        return sum
    }

    /// The whole corpus, exactly: top k by blocked SGEMM, plus every held-out neighbour
    /// ranked below k with its full-corpus rank count, so AP covers the full ranking.
    private func rankCorpus(_ rows: [Int], _ vectors: [Float], _ dimension: Int, _ graph: RelationalGraph,
                            _ result: inout RetrievalResult, _ progress: Support.Progress) {
        let ranking = corpusRanking
        // Queries in chunks of whole query blocks (the same GEMM blocks, so the same scores, as one
        // pass): the ranking's per-query results and inputs stay bounded, only the output grows.
        let chunk = 32 * ranking.queryBlock
        for start in stride(from: 0, to: rows.count, by: chunk) {
            appendCorpusRanks(Array(rows[start..<min(start + chunk, rows.count)]), ranking, vectors, dimension, graph, &result,
                              progress, done: start)
        }
    }

    private func appendCorpusRanks(_ rows: [Int], _ ranking: CorpusRanking, _ vectors: [Float], _ dimension: Int,
                                   _ graph: RelationalGraph, _ result: inout RetrievalResult, _ progress: Support.Progress, done: Int) {
        let excluded = rows.map { query in graph.train.neighbours(query).map { graph.train.indices[$0] } }
        let relevant = rows.map { query in graph.heldout.neighbours(query).filter { graph.heldout.weights[$0] > 0 } }
        let targets = relevant.map { edges in edges.map { graph.heldout.indices[$0] } }
        let ranked = vectors.withUnsafeBufferPointer { v in
            ranking.rank(corpus: v, rows: graph.nodeCount, dimension: dimension, queryRows: rows, excluded: excluded,
                         targets: targets, progress: progress, progressBase: done)
        }
        for (q, query) in rows.enumerated() {
            var weight: [Int32: Float] = [:]
            for e in graph.heldout.neighbours(query) { weight[graph.heldout.indices[e]] = graph.heldout.weights[e] }
            var candidates: [Int32] = [], scores: [Float] = [], relevance: [Float] = []
            var listed = Set<Int32>()
            for j in 0..<ranked.k {
                let row = ranked.top[q * ranked.k + j]
                guard row >= 0 else { break }
                candidates.append(row)
                scores.append(ranked.topScores[q * ranked.k + j])
                relevance.append(weight[row] ?? 0)
                listed.insert(row)
            }
            let below = targets[q].indices.filter { !listed.contains(targets[q][$0]) }
                .sorted { ranked.targetScores[q][$0] > ranked.targetScores[q][$1] ||
                          (ranked.targetScores[q][$0] == ranked.targetScores[q][$1] && targets[q][$0] < targets[q][$1]) }
            for t in below {
                candidates.append(targets[q][t])
                scores.append(ranked.targetScores[q][t])
                relevance.append(weight[targets[q][t]] ?? 0)
            }
            result.append(candidates: candidates, scores: scores, relevance: relevance, k: k, ap: ranked.averagePrecision(query: q))
        }
    }
}

extension RetrievalResult {
    /// Adds the next query's candidates (any order; stored by score, ties by lower row).
    /// AP is computed from the list unless given (full-corpus mode).
    mutating func append(candidates: [Int32], scores: [Float], relevance: [Float], k: Int, ap: Double? = nil) {
        let order = candidates.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && candidates[$0] < candidates[$1]) }
        for i in order {
            index.append(candidates[i])
            score.append(scores[i])
            self.relevance.append(relevance[i])
        }
        indptr.append(Int64(index.count))
        self.ap.append(ap ?? RankingMetrics.averagePrecision(scores: scores, relevance: relevance) ?? .nan)
        ndcg.append(RankingMetrics.ndcg(scores: scores, relevance: relevance, k: k) ?? .nan)
    }

    /// MAP and mean NDCG over the queries (of all ranks, gathered in query order, so the sums are
    /// the one-process sums) with at least one relevant candidate.
    mutating func finish(communicator: Communicator = .serial) throws {
        let allAP = try communicator.allgatherv(ap).values, allNDCG = try communicator.allgatherv(ndcg).values
        if communicator.size > 1 {
            allQueries = allAP.count
            allCandidates = Int(communicator.allreduce(Int64(index.count)))
        }
        let aps = allAP.filter { !$0.isNaN }, ndcgs = allNDCG.filter { !$0.isNaN }
        map = aps.isEmpty ? .nan : aps.reduce(0, +) / Double(aps.count)
        meanNDCG = ndcgs.isEmpty ? .nan : ndcgs.reduce(0, +) / Double(ndcgs.count)
    }

    /// Numbers for dashboards (the JSON summary).
    public var json: [String: Any] {
        ["map": jsonNumber(map), "ndcg_at_k": jsonNumber(meanNDCG), "k": k, "queries": queryCount, "eligible_queries": eligibleQueries, "candidates": candidates.rawValue,
         "mean_candidates_per_query": meanCandidates]
    }

    public var summary: String {
        """
        queries                 \(queryCount)\(queryCount < eligibleQueries ? " (a seeded sample of \(eligibleQueries))" : "")
        candidates              \(candidates.rawValue) (\(String(format: "%.1f", meanCandidates)) stored per query)
        MAP                     \(String(format: "%.4f", map))
        NDCG@\(k)\(String(repeating: " ", count: max(1, 19 - String(k).count)))\(String(format: "%.4f", meanNDCG))
        """
    }
}

/// A number for JSON output: NaN/infinity (undefined metrics) become null.
func jsonNumber(_ value: Double) -> Any { value.isFinite ? value : NSNull() }
