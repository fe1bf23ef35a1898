import Artifacts
import Support

/// The relational graph artifact (`gcml.graph/1`): train edges for learning,
/// held-out edges and cold-start nodes for evaluation.
public struct RelationalGraph: Sendable {
    public var videoIDs: [String]
    public var train: CSRGraph
    public var heldout: CSRGraph
    public var heldoutNodes: [Int32]

    public init(videoIDs: [String], train: CSRGraph, heldout: CSRGraph, heldoutNodes: [Int32]) {
        self.videoIDs = videoIDs
        self.train = train
        self.heldout = heldout
        self.heldoutNodes = heldoutNodes
    }

    public var nodeCount: Int { videoIDs.count }

    /// How parts written by several ranks (each a contiguous range of rows) join: rows concatenated, CSR pointers shifted.
    public static let partLayout = PartLayout(
        rows: Set([DatasetPath.videoID, DatasetPath.Graph.heldoutNodes]
            + [DatasetPath.Graph.train, DatasetPath.Graph.heldout].flatMap { ["\($0)/\(DatasetPath.CSR.indices)", "\($0)/\(DatasetPath.CSR.weights)"] }),
        pointers: Set([DatasetPath.Graph.train, DatasetPath.Graph.heldout].map { "\($0)/\(DatasetPath.CSR.indptr)" }))

    /// Opens and validates a `gcml.graph/1` file.
    public static func read(_ path: String) throws -> RelationalGraph {
        let file = try Artifact.open(path, as: .graph)
        defer { try? file.close() }
        let root = file.root
        let ids = try root.readStrings(DatasetPath.videoID)
        let nodes = try readHeldoutNodes(root, path: path, videos: ids.count)
        return RelationalGraph(videoIDs: ids,
                               train: try CSRGraph.read(from: root, group: DatasetPath.Graph.train, nodes: ids.count),
                               heldout: try CSRGraph.read(from: root, group: DatasetPath.Graph.heldout, nodes: ids.count),
                               heldoutNodes: nodes)
    }

    /// Only the `/train` CSR of a validated `gcml.graph/1` file (stages that never need
    /// video ids or held-out edges skip loading them: at 1 M videos the ids alone cost ~50 MB).
    public static func readTrain(_ path: String) throws -> CSRGraph {
        let file = try Artifact.open(path, as: .graph)
        defer { try? file.close() }
        let nodes = try file.root.dataset(DatasetPath.videoID).rows
        _ = try readHeldoutNodes(file.root, path: path, videos: nodes)
        return try CSRGraph.read(from: file.root, group: DatasetPath.Graph.train, nodes: nodes)
    }

    /// The video ids of a validated `gcml.graph/1` file (the rows of features.h5, in its order).
    public static func readVideoIDs(_ path: String) throws -> [String] {
        let file = try Artifact.open(path, as: .graph)
        defer { try? file.close() }
        return try file.root.readStrings(DatasetPath.videoID)
    }

    /// `/heldout_nodes`, each a video row in range.
    static func readHeldoutNodes(_ root: Group, path: String, videos: Int) throws -> [Int32] {
        let nodes: [Int32] = try root.read(DatasetPath.Graph.heldoutNodes)
        if let bad = nodes.firstIndex(where: { $0 < 0 || Int($0) >= videos }) {
            throw GCMLError(file: path, object: DatasetPath.Graph.heldoutNodes, expected: "video rows in 0..<\(videos)",
                            found: "\(nodes[bad]) at entry \(bad)")
        }
        return nodes
    }

    /// Only the number of videos of a validated `gcml.graph/1` file.
    public static func readNodeCount(_ path: String) throws -> Int {
        let file = try Artifact.open(path, as: .graph)
        defer { try? file.close() }
        return try file.root.dataset(DatasetPath.videoID).rows
    }

    /// Writes the datasets of contract v1 into an open file (inside `Artifact.write`).
    public func write(to file: HDF5File) throws {
        try file.root.write(DatasetPath.videoID, strings: videoIDs)
        try train.write(to: file.root, group: DatasetPath.Graph.train)
        try heldout.write(to: file.root, group: DatasetPath.Graph.heldout)
        try file.root.write(DatasetPath.Graph.heldoutNodes, heldoutNodes)
    }
}
