import Artifacts
import Contracts
import Support

extension TripletSet {
    /// The symmetrised anchor–positive pairs as a CSR adjacency (known neighbours without a graph).
    public func pairNeighbours(videos: Int) -> CSRGraph {
        CSRGraph.fromEntries(nodes: videos, rows: anchor + positive, columns: positive + anchor,
                             weights: [Float](repeating: 1, count: 2 * anchor.count))
    }
}

/// Cluster pseudo-labels for classification: class of every video (−1 = not trained on).
public struct ClassLabels: Sendable {
    /// Class of each video, or −1.
    public var label: [Int32]
    /// Cluster id (at the chosen level) of each class; classes are ranked by decreasing size.
    public var cluster: [Int32]

    public init(label: [Int32], cluster: [Int32]) {
        self.label = label
        self.cluster = cluster
    }

    public var classCount: Int { cluster.count }

    /// Classes from one tree level: clusters with at least `minimumSize` videos become classes,
    /// numbered by decreasing size (ties by cluster id) so that a log-uniform proposal favours big
    /// ones; videos of smaller clusters (singletons, cold-start videos) get no label.
    public static func fromLevel(_ level: ClusterLevel, minimumSize: Int = 2) -> ClassLabels {
        let kept = (0..<level.clusterCount).filter { level.size[$0] >= Int64(minimumSize) }
            .sorted { level.size[$0] != level.size[$1] ? level.size[$0] > level.size[$1] : $0 < $1 }
        var classOf = [Int32](repeating: -1, count: level.clusterCount)
        for (index, cluster) in kept.enumerated() { classOf[cluster] = Int32(index) }
        return ClassLabels(label: level.assignment.map { classOf[Int($0)] }, cluster: kept.map(Int32.init))
    }
}

/// What the network is trained on.
public enum TrainingTask: Sendable {
    /// Triplets and the known neighbours (CSR, sorted columns) that in-batch mining must not pick:
    /// the graph's train edges when given, else the symmetrised anchor–positive pairs.
    case triplets(TripletSet, neighbours: CSRGraph?)
    case classification(ClassLabels)
}

extension TrainingTask {
    /// The task of a `train-embed` run: triplets (known neighbours from `graph`'s train edges when
    /// given, else from the triplets' own pairs) or the classes of tree level `level`.
    public static func load(triplets: String?, tree: String?, level: Int?, minimumClusterSize: Int, graph: String?,
                            videos: Int, featuresPath: String) throws -> TrainingTask {
        switch (triplets, tree) {
        case (let path?, nil):
            let set = try TripletSet.read(path, videos: videos, levels: false)
            if let graph {
                let relational = try RelationalGraph.read(graph)
                try checkNodes(relational.nodeCount, file: graph, videos: videos, featuresPath: featuresPath)
                return .triplets(set, neighbours: relational.train)
            }
            return .triplets(set, neighbours: set.pairNeighbours(videos: videos))
        case (nil, let path?):
            guard let level else { throw GCMLError("a cluster tree needs \(parameter: "classifyLevel")") }
            let clusters = try ClusterTree.read(path)
            try checkNodes(clusters.nodeCount, file: path, videos: videos, featuresPath: featuresPath)
            guard level >= 1, level <= clusters.levels.count else {
                throw GCMLError(file: path, parameter: "classifyLevel", expected: "a level in 1...\(clusters.levels.count)", found: "\(level)")
            }
            return .classification(ClassLabels.fromLevel(clusters.level(level), minimumSize: minimumClusterSize))
        default:
            throw GCMLError("give exactly one of \(parameter: "triplets") or \(parameter: "tree") (with \(parameter: "classifyLevel"))")
        }
    }

    static func checkNodes(_ nodes: Int, file: String, videos: Int, featuresPath: String) throws {
        guard nodes == videos else {
            throw GCMLError(file: file, object: DatasetPath.videoID, expected: "\(videos) videos (as in \(featuresPath))", found: "\(nodes)")
        }
    }

    /// Training examples: triplets, or labelled videos.
    public var exampleCount: Int {
        switch self {
        case .triplets(let set, _): return set.count
        case .classification(let labels): return labels.label.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
        }
    }
}

extension RetrievalValidation {
    /// Validation queries from a `gcml.graph/1` file over the same videos as the features.
    public static func read(_ path: String, videos: Int, featuresPath: String, queries: Int, seed: UInt64) throws -> RetrievalValidation {
        try readWithFullCorpus(path, videos: videos, featuresPath: featuresPath, queries: queries, seed: seed).sampled
    }

    /// The sampled validation and, on the same queries, the full-corpus one.
    public static func readWithFullCorpus(_ path: String, videos: Int, featuresPath: String, queries: Int,
                                          seed: UInt64) throws -> (sampled: RetrievalValidation, fullCorpus: FullCorpusValidation) {
        let relational = try RelationalGraph.read(path)
        try TrainingTask.checkNodes(relational.nodeCount, file: path, videos: videos, featuresPath: featuresPath)
        let sampled = RetrievalValidation(graph: relational, queries: queries, seed: seed)
        return (sampled, FullCorpusValidation(train: relational.train, heldout: relational.heldout, queries: sampled.queries))
    }
}
