import Artifacts
import Support

/// Reads a `gcml.frames/1` file (frames.h5) video by video. Frame rows are read
/// from /visual and /audio in blocks of `blockFrames` rows (or one whole video
/// when a video is longer), so memory stays bounded whatever the number of frames.
/// uint8 features are dequantised with the YouTube-8M formula.
public final class FramesFile: FrameSource {
    public let path: String
    public var description: String { path }
    public let visualDimension: Int
    public let audioDimension: Int
    public let numClasses: Int?
    public let labelNames: [String]?
    public var videoCountHint: Int? { videos.count }
    public var visualQuantization: Quantization? { visual.quantization }
    public var audioQuantization: Quantization? { audio?.quantization }
    public var frameCountHint: Int? { Int(offsets[videos.upperBound] - offsets[videos.lowerBound]) }
    /// The videos (rows) this reader streams: all, or the range given at open.
    public private(set) var videos: Range<Int> = 0..<0

    public let videoIDs: [String]
    let offsets: [Int64]
    let labelPointers: [Int64]?
    let labelIndices: [Int32]?

    private let file: HDF5File
    private let visual: Modality
    private let audio: Modality?
    private let blockFrames: Int
    private var nextVideo = 0
    /// Frame rows held in the modality buffers.
    private var loaded: Range<Int> = 0..<0

    /// One frame dataset and its read buffers.
    final class Modality {
        let dataset: Dataset
        let width: Int
        let quantization: Quantization?
        var values: [Float] = []
        var bytes: [UInt8] = []

        init(_ dataset: Dataset, path: String) throws {
            self.dataset = dataset
            width = dataset.rowWidth
            if dataset.elementType == .uint8 {
                guard let low = try dataset.doubleAttribute(DatasetPath.Frames.quantizeMinAttribute), let high = try dataset.doubleAttribute(DatasetPath.Frames.quantizeMaxAttribute) else {
                    throw GCMLError(file: path, object: dataset.path, expected: "attributes quantize_min and quantize_max on uint8 features",
                                    found: "none")
                }
                quantization = Quantization(minimum: low, maximum: high)
            } else {
                quantization = nil
            }
        }

        func load(_ rows: Range<Int>) throws {
            let count = rows.count * width
            if values.count < count { values = [Float](repeating: 0, count: count) }
            if let quantization {
                if bytes.count < count { bytes = [UInt8](repeating: 0, count: count) }
                try bytes.withUnsafeMutableBufferPointer { b in
                    try dataset.readRows(rows, into: UnsafeMutableBufferPointer(rebasing: b[0..<count]))
                    values.withUnsafeMutableBufferPointer { v in
                        quantization.dequantize(b.baseAddress!, count: count, into: v.baseAddress!)
                    }
                }
            } else {
                try values.withUnsafeMutableBufferPointer { v in
                    try dataset.readRows(rows, into: UnsafeMutableBufferPointer(rebasing: v[0..<count]))
                }
            }
        }
    }

    /// The fixed blocks of videos (rows of the whole file, in order) the fitting statistics are kept in.
    public let statisticsBlocks: [Range<Int>]
    public var statisticsBlockStarts: [Int] {
        statisticsBlocks.map(\.lowerBound).filter { $0 > videos.lowerBound && $0 < videos.upperBound }.map { $0 - videos.lowerBound }
    }

    /// Opens `path` to stream videos `rows` (all by default); `statisticsBlocks` are rows of the whole file.
    public convenience init(path: String, rows: Range<Int>? = nil, statisticsBlocks: [Range<Int>] = [], blockFrames: Int = 4096) throws {
        try self.init(path: path, blockFrames: blockFrames) { _ in (rows, statisticsBlocks) }
    }

    /// Opens and validates frames.h5 (schema, monotone offsets, label ranges). `layout` sees the
    /// validated `/frame_offsets` ([videos + 1]: each video's cost) and names the videos to stream
    /// (nil: all; e.g. one rank's share balanced by frames) and the fixed statistics blocks.
    public init(path: String, blockFrames: Int = 4096,
                layout: (_ frameOffsets: [Int64]) -> (rows: Range<Int>?, statisticsBlocks: [Range<Int>])) throws {
        self.path = path
        self.blockFrames = max(1, blockFrames)
        file = try Artifact.open(path, as: .frames)
        let root = file.root
        videoIDs = try root.readStrings(DatasetPath.videoID)
        offsets = try root.read(DatasetPath.Frames.offsets, as: Int64.self)
        visual = try Modality(try root.dataset(DatasetPath.visual), path: path)
        audio = root.exists(DatasetPath.audio) ? try Modality(try root.dataset(DatasetPath.audio), path: path) : nil
        visualDimension = visual.width
        audioDimension = audio?.width ?? 0
        for i in 0..<videoIDs.count where offsets[i + 1] < offsets[i] {
            throw GCMLError(file: path, object: "\(DatasetPath.Frames.offsets) (video '\(videoIDs[i])', row \(i))",
                            expected: "non-decreasing offsets", found: "\(offsets[i]) then \(offsets[i + 1])")
        }
        let (rows, statisticsBlocks) = layout(offsets)
        self.statisticsBlocks = statisticsBlocks
        if root.exists(DatasetPath.Labels.indptr) {
            let labels = try root.group(DatasetPath.Labels.group)
            guard let classes = try labels.intAttribute(DatasetPath.Labels.numClassesAttribute), classes > 0 else {
                throw GCMLError(file: path, object: "\(DatasetPath.Labels.group) attribute '\(DatasetPath.Labels.numClassesAttribute)'", expected: "a positive integer", found: "nothing")
            }
            let pointers = try root.read(DatasetPath.Labels.indptr, as: Int64.self)
            let indices = try root.read(DatasetPath.Labels.indices, as: Int32.self)
            for i in 0..<videoIDs.count {
                guard pointers[i + 1] >= pointers[i] else {
                    throw GCMLError(file: path, object: "\(DatasetPath.Labels.indptr) (video '\(videoIDs[i])', row \(i))",
                                    expected: "non-decreasing pointers", found: "\(pointers[i]) then \(pointers[i + 1])")
                }
                for j in Int(pointers[i])..<Int(pointers[i + 1]) where indices[j] < 0 || Int(indices[j]) >= classes {
                    throw GCMLError(file: path, object: "\(DatasetPath.Labels.indices) (video '\(videoIDs[i])')",
                                    expected: "class ids in 0..<\(classes)", found: "\(indices[j])")
                }
            }
            numClasses = Int(classes)
            labelPointers = pointers
            labelIndices = indices
        } else {
            numClasses = nil
            labelPointers = nil
            labelIndices = nil
        }
        labelNames = root.exists(DatasetPath.Labels.names) ? try root.readStrings(DatasetPath.Labels.names) : nil
        let all = 0..<videoIDs.count
        if let rows {
            guard rows.lowerBound >= 0, rows.upperBound <= all.upperBound else {
                throw GCMLError(file: path, object: DatasetPath.videoID, expected: "videos \(rows)", found: "\(videoIDs.count) videos")
            }
        }
        videos = rows ?? all
        nextVideo = videos.lowerBound
    }

    public func rewind() throws {
        nextVideo = videos.lowerBound
        loaded = 0..<0
    }

    public func next() throws -> VideoFrames? {
        guard nextVideo < videos.upperBound else { return nil }
        let index = nextVideo
        nextVideo += 1
        let rows = Int(offsets[index])..<Int(offsets[index + 1])
        if !rows.isEmpty && !(loaded.lowerBound <= rows.lowerBound && rows.upperBound <= loaded.upperBound) {
            let total = Int(offsets.last ?? 0)
            loaded = rows.lowerBound..<min(total, max(rows.upperBound, rows.lowerBound + blockFrames))
            try visual.load(loaded)
            try audio?.load(loaded)
        }
        func slice(_ modality: Modality?) -> [Float] {
            guard let modality, !rows.isEmpty else { return [] }
            let start = (rows.lowerBound - loaded.lowerBound) * modality.width
            return Array(modality.values[start..<(start + rows.count * modality.width)])
        }
        func codes(_ modality: Modality?) -> [UInt8]? {
            guard let modality, modality.quantization != nil else { return nil }
            guard !rows.isEmpty else { return [] }
            let start = (rows.lowerBound - loaded.lowerBound) * modality.width
            return Array(modality.bytes[start..<(start + rows.count * modality.width)])
        }
        var labels: [Int32] = []
        if let labelPointers, let labelIndices {
            labels = Array(labelIndices[Int(labelPointers[index])..<Int(labelPointers[index + 1])])
        }
        return VideoFrames(id: videoIDs[index], frameCount: rows.count, visual: slice(visual), audio: slice(audio), labels: labels,
                           visualCodes: codes(visual), audioCodes: codes(audio))
    }
}
