import Artifacts
import Support

/// The features artifact (`gcml.features/1`) in memory: one PCA'd, frame-averaged vector per
/// video and modality. Build-graph, training and evaluation read it through here.
public struct FeatureTable: Sendable {
    public var videoIDs: [String]
    /// [count, visualWidth] row-major.
    public var visual: [Float]
    public var visualWidth: Int
    /// [count, audioWidth], nil when the features have no audio (or it was not read).
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

    /// The video ids of a validated `gcml.features/1` file (they define the rows of every other artifact).
    public static func readVideoIDs(_ path: String, rows: Range<Int>? = nil) throws -> [String] {
        let file = try Artifact.open(path, as: .features)
        defer { try? file.close() }
        return try readIDs(file, rows: rows)
    }

    /// The number of videos (rows of `/video_id`), without reading the ids.
    public static func videoCount(_ path: String) throws -> Int {
        let file = try Artifact.open(path, as: .features)
        defer { try? file.close() }
        return try file.root.dataset(DatasetPath.videoID).rows
    }

    /// Reads videos `rows` (all when nil) of a `gcml.features/1` file (validated on open); every
    /// value must be finite. `audio: false` skips the audio modality.
    public static func read(_ path: String, rows: Range<Int>? = nil, audio readAudio: Bool = true) throws -> FeatureTable {
        let file = try Artifact.open(path, as: .features)
        defer { try? file.close() }
        let root = file.root
        let ids = try readIDs(file, rows: rows)
        let range = rows ?? 0..<ids.count
        let visual = try root.dataset(DatasetPath.visual)
        let values: [Float] = try visual.readRows(range)
        try checkFinite(values, width: visual.rowWidth, ids: ids, file: path, dataset: DatasetPath.visual)
        var audioValues: [Float]? = nil
        var audioWidth = 0
        if readAudio, root.exists(DatasetPath.audio) {
            let audio = try root.dataset(DatasetPath.audio)
            audioWidth = audio.rowWidth
            if audioWidth > 0 {
                let loaded: [Float] = try audio.readRows(range)
                try checkFinite(loaded, width: audioWidth, ids: ids, file: path, dataset: DatasetPath.audio)
                audioValues = loaded
            }
        }
        return FeatureTable(videoIDs: ids, visual: values, visualWidth: visual.rowWidth, audio: audioValues, audioWidth: audioWidth)
    }

    /// Writes the table into an open file (inside `Artifact.write`), with each video's frame count.
    public func write(to file: HDF5File, frameCounts: [Int32]) throws {
        precondition(frameCounts.count == count)
        let writer = try FeaturesWriter(file: file, visualWidth: visualWidth, audioWidth: audio == nil ? nil : audioWidth,
                                        numClasses: nil, labelNames: nil)
        for (row, id) in videoIDs.enumerated() { try writer.addVideo(id: id, frameCount: Int(frameCounts[row]), labels: []) }
        try visual.withUnsafeBufferPointer { v in
            if let audio {
                try audio.withUnsafeBufferPointer { try writer.addFeatures(visual: v, audio: $0) }
            } else {
                try writer.addFeatures(visual: v, audio: nil)
            }
        }
        try writer.finish()
    }

    private static func readIDs(_ file: HDF5File, rows: Range<Int>?) throws -> [String] {
        let dataset = try file.root.dataset(DatasetPath.videoID)
        guard dataset.rows > 0 else {
            throw GCMLError(file: file.path, object: DatasetPath.videoID, expected: "at least one video", found: "none")
        }
        return try dataset.readStrings(rows: rows)
    }

    private static func checkFinite(_ values: [Float], width: Int, ids: [String], file: String, dataset: String) throws {
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw GCMLError(file: file, object: dataset, expected: "finite values", found: "\(values[bad]) for video \(ids[bad / max(1, width)])")
        }
    }
}
