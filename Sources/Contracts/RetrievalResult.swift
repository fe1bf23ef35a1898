import Artifacts
import Support

/// What each retrieval query ranks.
public enum RetrievalCandidates: String, CaseIterable, Sendable {
    /// Its held-out neighbours plus a number of random videos that are not its neighbours.
    case heldoutRandom = "heldout+random"
    /// The whole corpus but itself and its train neighbours (exact, blocked SGEMM).
    case all
}

/// The retrieval evaluation artifact (`gcml.eval.retrieval/1`): each query's ranked candidates
/// with scores and relevance, AP and NDCG per query, MAP and mean NDCG over queries.
public struct RetrievalResult {
    public static let mapAttribute = "map"
    public static let ndcgAttribute = "ndcg_at_k"
    public static let kAttribute = "k"
    public static let candidateModeAttribute = "candidate_mode"
    public static let eligibleQueriesAttribute = "eligible_queries"

    public var k: Int
    public var candidates: RetrievalCandidates
    public var queries: [Int32]
    /// Videos that qualified as queries; `queries` is a sample of them when fewer (`--max-queries`).
    public var eligibleQueries: Int
    /// CSR over queries: candidates of query q are entries indptr[q]..<indptr[q+1], best first.
    public var indptr: [Int64] = [0]
    public var index: [Int32] = []
    public var score: [Float] = []
    public var relevance: [Float] = []
    public var ap: [Double] = []
    public var ndcg: [Double] = []
    public var map = Double.nan
    public var meanNDCG = Double.nan
    /// Queries and stored candidates of every rank, when this result is one rank's part (its own
    /// queries, with `map` and `meanNDCG` over all of them); nil when it is the whole evaluation.
    public var allQueries: Int?
    public var allCandidates: Int?

    /// How ranks' parts of the artifact join: per-query and per-candidate rows concatenated in rank order.
    public static let partLayout = PartLayout(
        rows: [DatasetPath.Retrieval.query, DatasetPath.Retrieval.candidatesIndex, DatasetPath.Retrieval.candidatesScore,
               DatasetPath.Retrieval.candidatesRelevance, DatasetPath.Retrieval.ap, DatasetPath.Retrieval.ndcg],
        pointers: [DatasetPath.Retrieval.candidatesIndptr])

    public init(k: Int, candidates: RetrievalCandidates, queries: [Int32], eligibleQueries: Int? = nil) {
        self.k = k
        self.candidates = candidates
        self.queries = queries
        self.eligibleQueries = eligibleQueries ?? queries.count
    }

    public var queryCount: Int { allQueries ?? queries.count }
    public var meanCandidates: Double { queryCount == 0 ? 0 : Double(allCandidates ?? index.count) / Double(queryCount) }

    /// Writes the datasets and root attributes of `gcml.eval.retrieval/1`.
    public func write(to file: HDF5File) throws {
        let root = file.root
        try root.write(DatasetPath.Retrieval.query, queries)
        try root.write(DatasetPath.Retrieval.candidatesIndptr, indptr)
        try root.write(DatasetPath.Retrieval.candidatesIndex, index)
        try root.write(DatasetPath.Retrieval.candidatesScore, score)
        try root.write(DatasetPath.Retrieval.candidatesRelevance, relevance)
        try root.write(DatasetPath.Retrieval.ap, ap)
        try root.write(DatasetPath.Retrieval.ndcg, ndcg)
        try root.setAttribute(Self.mapAttribute, .double(map))
        try root.setAttribute(Self.ndcgAttribute, .double(meanNDCG))
        try root.setAttribute(Self.kAttribute, .int(Int64(k)))
        try root.setAttribute(Self.candidateModeAttribute, .string(candidates.rawValue))
        try root.setAttribute(Self.eligibleQueriesAttribute, .int(Int64(eligibleQueries)))
    }

    /// The headline numbers of a validated `gcml.eval.retrieval/1` file (its root attributes).
    public static func readSummary(_ path: String) throws -> RetrievalSummary {
        let file = try Artifact.open(path, as: .retrieval)
        defer { try? file.close() }
        let root = file.root
        return RetrievalSummary(map: try requiredNumber(root, mapAttribute), ndcg: try requiredNumber(root, ndcgAttribute),
                                k: try root.intAttribute(kAttribute).map(Int.init), queries: try root.dataset(DatasetPath.Retrieval.query).rows,
                                eligibleQueries: try root.intAttribute(eligibleQueriesAttribute).map(Int.init))
    }
}

/// Retrieval metrics of one `gcml.eval.retrieval/1` file.
public struct RetrievalSummary: Equatable, Sendable {
    public var map: Double
    public var ndcg: Double
    public var k: Int?
    public var queries: Int
    /// Videos that qualified as queries (`queries` is a sample of them under `--max-queries`);
    /// nil in files written before the attribute existed.
    public var eligibleQueries: Int?

    public init(map: Double, ndcg: Double, k: Int?, queries: Int, eligibleQueries: Int? = nil) {
        self.map = map
        self.ndcg = ndcg
        self.k = k
        self.queries = queries
        self.eligibleQueries = eligibleQueries
    }
}

/// A numeric root attribute that the schema requires.
func requiredNumber(_ root: Group, _ name: String) throws -> Double {
    guard let value = try root.doubleAttribute(name) else {
        throw GCMLError(file: root.file.path, object: "root attribute '\(name)'", expected: "a number", found: "nothing or a non-number")
    }
    return value
}
