import Artifacts
import LinearAlgebra
import Support

/// What build-graph needs from `features.h5`: the ids that define the rows, and
/// for the content graph the `/visual` matrix.
public struct FeatureRows {
    public var videoIDs: [String]
    public var visual: Matrix<Float>?

    /// Opens and validates a `gcml.features/1` file; reads `/visual` only when asked.
    public static func read(_ path: String, visual: Bool = false) throws -> FeatureRows {
        let file = try Artifact.open(path, as: .features)
        defer { try? file.close() }
        let ids = try file.root.readStrings("video_id")
        guard !ids.isEmpty else { throw GCMLError(file: path, object: "/video_id", expected: "at least one video", found: "none") }
        var matrix: Matrix<Float>?
        if visual {
            let dataset = try file.root.dataset("visual")
            let values: [Float] = try dataset.read()
            matrix = Matrix(rows: dataset.rows, columns: dataset.rowWidth, values: values)
        }
        return FeatureRows(videoIDs: ids, visual: matrix)
    }
}
