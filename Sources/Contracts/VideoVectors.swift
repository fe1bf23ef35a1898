import Artifacts
import Foundation
import Support

/// The embeddings artifact (`gcml.embeddings/1`) as the evaluators read it: per-video vectors
/// from any HDF5 file, where `FILE[:/dataset]` names a float32 [N, D] dataset (learned
/// embeddings by default, raw PCA features, another team's export). Row i is video i; when
/// the file has `/video_id` it must list the same videos.
public struct VideoVectors {
    public var path: String
    public var dataset: String
    /// The file's `/video_id`, when it has one.
    public var videoIDs: [String]?
    public var rows: Int
    public var dimension: Int
    /// Row-major [rows, dimension].
    public var values: [Float]

    public init(path: String, dataset: String, videoIDs: [String]?, rows: Int, dimension: Int, values: [Float]) {
        precondition(values.count == rows * dimension)
        self.path = path
        self.dataset = dataset
        self.videoIDs = videoIDs
        self.rows = rows
        self.dimension = dimension
        self.values = values
    }

    /// Splits `FILE[:/dataset]`; the dataset part starts at the last ":/".
    public static func parse(_ spec: String, defaultDataset: String) -> (path: String, dataset: String) {
        if let colon = spec.range(of: ":/", options: .backwards) {
            return (String(spec[..<colon.lowerBound]), String(spec[spec.index(after: colon.lowerBound)...]))
        }
        return (spec, defaultDataset)
    }

    /// Reads rows `rows` (all when nil) of `FILE[:/dataset]`, checking type, rank and that every
    /// value is finite.
    public static func read(_ spec: String, defaultDataset: String = DatasetPath.Embeddings.embedding,
                            rows: Range<Int>? = nil) throws -> VideoVectors {
        let (path, name) = parse(spec, defaultDataset: defaultDataset)
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        // Embeddings beside a model of another run no longer describe that model.
        try RunRecord.checkSiblings(of: file, path: path)
        let dataset = try file.root.dataset(name)
        guard dataset.elementType == .float32, dataset.rank == 2 else {
            throw GCMLError(file: path, object: name, expected: "float32 [N, D] vectors",
                            found: "\(dataset.elementType) \(dataset.shape)")
        }
        let range = rows ?? 0..<dataset.rows
        let values: [Float] = try dataset.readRows(range)
        let dimension = dataset.shape[1]
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw GCMLError(file: path, object: name, expected: "finite values",
                            found: "\(values[bad]) in row \(range.lowerBound + bad / max(1, dimension))")
        }
        var ids: [String]? = nil
        if file.root.exists(DatasetPath.videoID) {
            let idSet = try file.root.dataset(DatasetPath.videoID)
            guard idSet.rows == dataset.shape[0] else {
                throw GCMLError(file: path, object: DatasetPath.videoID, expected: "\(dataset.shape[0]) ids (rows of \(name))", found: "\(idSet.rows)")
            }
            ids = try idSet.readStrings(rows: range)
        }
        return VideoVectors(path: path, dataset: name, videoIDs: ids, rows: range.count, dimension: dimension, values: values)
    }

    /// Checks that these vectors describe the videos `ids` (of `otherFile`), row for row.
    public func checkAligned(with ids: [String], of otherFile: String) throws {
        guard rows == ids.count else {
            throw GCMLError(file: path, object: dataset, expected: "\(ids.count) rows, one per video of \(otherFile)", found: "\(rows) rows")
        }
        if let own = videoIDs, let row = (0..<rows).first(where: { own[$0] != ids[$0] }) {
            throw GCMLError(file: path, object: DatasetPath.videoID, expected: "row \(row) to be video '\(ids[row])' as in \(otherFile)",
                            found: "'\(own[row])'")
        }
    }
}

/// Writes `gcml.embeddings/1` into an open file (inside `Artifact.write`): the ids at once,
/// the [N, E] embedding one row range at a time as it is computed.
public final class EmbeddingsWriter {
    /// Under several ranks each writes the rows of its videos; the parts are concatenated.
    public static let partLayout = PartLayout(rows: [DatasetPath.videoID, DatasetPath.Embeddings.embedding])

    private let embedding: Dataset
    public let dimension: Int

    public init(file: HDF5File, videoIDs: [String], dimension: Int) throws {
        self.dimension = dimension
        try file.root.write(DatasetPath.videoID, strings: videoIDs)
        embedding = try file.root.createDataset(DatasetPath.Embeddings.embedding, type: .float32, shape: [videoIDs.count, dimension])
    }

    /// Writes rows `start ..< start + rows.count / dimension`.
    public func write(rows: UnsafeBufferPointer<Float>, at start: Int) throws {
        try embedding.writeRows(rows, at: start)
    }
}
