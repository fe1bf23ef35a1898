import Artifacts
import Graphs
import Support

/// Per-video inputs of the model, held in memory (the model reads random rows every step).
public struct FeatureTable: Sendable {
    public var videoIDs: [String]
    /// [count, visualWidth] row-major.
    public var visual: [Float]
    public var visualWidth: Int
    /// [count, audioWidth], nil when the features have no audio.
    public var audio: [Float]?
    public var audioWidth: Int

    public init(videoIDs: [String], visual: [Float], visualWidth: Int, audio: [Float]?, audioWidth: Int) {
        precondition(visual.count == videoIDs.count * visualWidth)
        precondition(audio == nil || audio!.count == videoIDs.count * audioWidth)
        self.videoIDs = videoIDs
        self.visual = visual
        self.visualWidth = visualWidth
        self.audio = audio
        self.audioWidth = audio == nil ? 0 : audioWidth
    }

    public var count: Int { videoIDs.count }

    /// Reads a `gcml.features/1` file (validated on open).
    public static func read(_ path: String) throws -> FeatureTable {
        let file = try Artifact.open(path, as: .features)
        defer { try? file.close() }
        let root = file.root
        let ids = try root.readStrings("video_id")
        let visual = try root.dataset("visual")
        var audioValues: [Float]? = nil
        var audioWidth = 0
        if root.exists("audio") {
            let audio = try root.dataset("audio")
            audioWidth = audio.shape[1]
            if audioWidth > 0 { audioValues = try audio.read() }
        }
        let values: [Float] = try visual.read()
        for (name, data) in [("/visual", values), ("/audio", audioValues ?? [])] {
            if let bad = data.firstIndex(where: { !$0.isFinite }) {
                let width = name == "/visual" ? visual.shape[1] : audioWidth
                throw GCMLError(file: path, object: name, expected: "finite values",
                                found: "\(data[bad]) for video \(ids[bad / width])")
            }
        }
        return FeatureTable(videoIDs: ids, visual: values, visualWidth: visual.shape[1], audio: audioValues, audioWidth: audioWidth)
    }
}

/// Training triplets (video rows) and the known neighbours that in-batch mining must not pick.
public struct TripletSet: Sendable {
    public var anchor: [Int32]
    public var positive: [Int32]
    public var negative: [Int32]
    /// Known neighbours (CSR, sorted columns): the graph's train edges when given, else the
    /// symmetrised anchor–positive pairs of the triplets.
    public var neighbours: CSRGraph?

    public init(anchor: [Int32], positive: [Int32], negative: [Int32], neighbours: CSRGraph?) {
        self.anchor = anchor
        self.positive = positive
        self.negative = negative
        self.neighbours = neighbours
    }

    public var count: Int { anchor.count }

    /// Reads a `gcml.triplets/1` file and checks every row against `videos`.
    public static func read(_ path: String, videos: Int) throws -> TripletSet {
        let file = try Artifact.open(path, as: .triplets)
        defer { try? file.close() }
        var columns: [[Int32]] = []
        for name in ["anchor", "positive", "negative"] {
            let values: [Int32] = try file.root.read(name)
            if let bad = values.firstIndex(where: { $0 < 0 || Int($0) >= videos }) {
                throw GCMLError(file: path, object: "/\(name)", expected: "video rows in 0..<\(videos) (features.h5)",
                                found: "\(values[bad]) at triplet \(bad)")
            }
            columns.append(values)
        }
        guard !columns[0].isEmpty else { throw GCMLError(file: path, object: "/anchor", expected: "at least one triplet", found: "none") }
        return TripletSet(anchor: columns[0], positive: columns[1], negative: columns[2], neighbours: nil)
    }

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
    case triplets(TripletSet)
    case classification(ClassLabels)
}

extension TrainingTask {
    /// The task of a `train-embed` run: triplets (known neighbours from `graph`'s train edges when
    /// given, else from the triplets' own pairs) or the classes of tree level `level`.
    public static func load(triplets: String?, tree: String?, level: Int?, minimumClusterSize: Int, graph: String?,
                            videos: Int, featuresPath: String) throws -> TrainingTask {
        switch (triplets, tree) {
        case (let path?, nil):
            var set = try TripletSet.read(path, videos: videos)
            if let graph {
                let relational = try RelationalGraph.read(graph)
                try checkNodes(relational.nodeCount, file: graph, videos: videos, featuresPath: featuresPath)
                set.neighbours = relational.train
            } else {
                set.neighbours = set.pairNeighbours(videos: videos)
            }
            return .triplets(set)
        case (nil, let path?):
            guard let level else { throw GCMLError("--tree needs --classify-level L") }
            let clusters = try ClusterTree.read(path)
            try checkNodes(clusters.nodeCount, file: path, videos: videos, featuresPath: featuresPath)
            guard level >= 1, level <= clusters.levels.count else {
                throw GCMLError(file: path, object: "--classify-level", expected: "a level in 1...\(clusters.levels.count)", found: "\(level)")
            }
            return .classification(ClassLabels.fromLevel(clusters.level(level), minimumSize: minimumClusterSize))
        default:
            throw GCMLError("give exactly one of --triplets or --tree (with --classify-level)")
        }
    }

    static func checkNodes(_ nodes: Int, file: String, videos: Int, featuresPath: String) throws {
        guard nodes == videos else {
            throw GCMLError(file: file, object: "/video_id", expected: "\(videos) videos (as in \(featuresPath))", found: "\(nodes)")
        }
    }

    /// Training examples: triplets, or labelled videos.
    public var exampleCount: Int {
        switch self {
        case .triplets(let set): return set.count
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
