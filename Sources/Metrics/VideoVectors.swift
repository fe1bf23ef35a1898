import Artifacts
import Foundation
import Support

/// Per-video vectors read from any HDF5 file: `FILE[:/dataset]` names a float32
/// [N, D] dataset (learned embeddings, raw PCA features, another team's export).
/// Row i is video i; when the file has `/video_id` it must list the same videos.
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

    /// Reads `FILE[:/dataset]`, checking type, rank and that every value is finite.
    public static func read(_ spec: String, defaultDataset: String = "/embedding") throws -> VideoVectors {
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
        let values: [Float] = try dataset.read()
        let dimension = dataset.shape[1]
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw GCMLError(file: path, object: name, expected: "finite values",
                            found: "\(values[bad]) in row \(bad / max(1, dimension))")
        }
        let ids = file.root.exists("video_id") ? try file.root.readStrings("video_id") : nil
        if let ids, ids.count != dataset.shape[0] {
            throw GCMLError(file: path, object: "/video_id", expected: "\(dataset.shape[0]) ids (rows of \(name))", found: "\(ids.count)")
        }
        return VideoVectors(path: path, dataset: name, videoIDs: ids, rows: dataset.shape[0], dimension: dimension, values: values)
    }

    /// Checks that these vectors describe the videos `ids` (of `otherFile`), row for row.
    public func checkAligned(with ids: [String], of otherFile: String) throws {
        guard rows == ids.count else {
            throw GCMLError(file: path, object: dataset, expected: "\(ids.count) rows, one per video of \(otherFile)", found: "\(rows) rows")
        }
        if let own = videoIDs, let row = (0..<rows).first(where: { own[$0] != ids[$0] }) {
            throw GCMLError(file: path, object: "/video_id", expected: "row \(row) to be video '\(ids[row])' as in \(otherFile)",
                            found: "'\(own[row])'")
        }
    }

    /// Scales every row to unit length (cosine similarity becomes an inner product).
    /// Zero rows stay zero (they score 0 against everything); returns how many there were.
    @discardableResult
    public mutating func normalizeRows() -> Int {
        var zeros = 0
        let d = dimension
        values.withUnsafeMutableBufferPointer { v in
            for r in 0..<rows {
                var sum: Float = 0
                for j in 0..<d { sum += v[r * d + j] * v[r * d + j] }
                guard sum > 0 else { zeros += 1; continue }
                let scale = 1 / sum.squareRoot()
                for j in 0..<d { v[r * d + j] *= scale }
            }
        }
        return zeros
    }
}
