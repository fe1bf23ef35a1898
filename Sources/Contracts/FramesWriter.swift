import Artifacts
import Support

/// Streams videos into a gcml.frames/1 file (inside `Artifact.write`): every
/// dataset is extendable and grows by appends of buffered batches, so memory
/// stays at one batch whatever the corpus size. `Element` is UInt8 for
/// quantised features (with `quantize_min`/`quantize_max` on the datasets) or Float.
public final class FramesWriter<Element: HDF5Scalar> {
    public let visualDimension: Int
    public let audioDimension: Int
    public let numClasses: Int?
    private let ids: Dataset, offsets: Dataset, visual: Dataset
    private let audio: Dataset?
    private let labelPointers: Dataset?, labelIndices: Dataset?
    private var pendingIDs: [String] = []
    private var pendingOffsets: [Int64] = []
    private var pendingVisual: [Element] = []
    private var pendingAudio: [Element] = []
    private var pendingPointers: [Int64] = []
    private var pendingLabels: [Int32] = []
    private let batchBytes: Int
    public private(set) var videoCount = 0
    public private(set) var frameCount = 0
    public private(set) var labelCount = 0

    /// - Parameters:
    ///   - quantization: (min, max) stamped on /visual and /audio when Element is UInt8.
    ///   - numClasses: nil writes no /labels.
    ///   - labelNames: written as /label_names when given.
    public init(file: HDF5File, visualDimension: Int, audioDimension: Int, quantization: (min: Double, max: Double)? = nil,
                numClasses: Int?, labelNames: [String]? = nil, batchBytes: Int = 32 << 20) throws {
        self.visualDimension = visualDimension
        self.audioDimension = audioDimension
        self.numClasses = numClasses
        self.batchBytes = batchBytes
        let root = file.root
        ids = try root.createDataset(DatasetPath.videoID, type: .string, shape: [0], extendable: true, compression: .none, chunkRows: 4096)
        offsets = try root.createDataset(DatasetPath.Frames.offsets, type: .int64, shape: [0], extendable: true)
        try offsets.append([Int64(0)])
        visual = try root.createDataset(DatasetPath.visual, type: Element.elementType, shape: [0, visualDimension], extendable: true)
        audio = audioDimension > 0
            ? try root.createDataset(DatasetPath.audio, type: Element.elementType, shape: [0, audioDimension], extendable: true) : nil
        if Element.elementType == .uint8 {
            guard let quantization else {
                throw GCMLError(file: file.path, object: DatasetPath.visual, expected: "quantize_min/quantize_max for uint8 features", found: "none given")
            }
            for dataset in [visual, audio].compactMap({ $0 }) {
                try dataset.setAttribute(DatasetPath.Frames.quantizeMinAttribute, .double(quantization.min))
                try dataset.setAttribute(DatasetPath.Frames.quantizeMaxAttribute, .double(quantization.max))
            }
        }
        if let numClasses {
            let group = try root.createGroup(DatasetPath.Labels.group)
            try group.setAttribute(DatasetPath.Labels.numClassesAttribute, .int(Int64(numClasses)))
            labelPointers = try root.createDataset(DatasetPath.Labels.indptr, type: .int64, shape: [0], extendable: true)
            try labelPointers!.append([Int64(0)])
            labelIndices = try root.createDataset(DatasetPath.Labels.indices, type: .int32, shape: [0], extendable: true)
        } else {
            labelPointers = nil
            labelIndices = nil
        }
        if let labelNames { try root.write(DatasetPath.Labels.names, strings: labelNames) }
    }

    /// Adds one video: `visual` is frameCount × visualDimension, `audio` frameCount × audioDimension.
    public func append(id: String, visual: UnsafeBufferPointer<Element>, audio: UnsafeBufferPointer<Element>, labels: [Int32]) throws {
        precondition(visualDimension > 0 && visual.count % visualDimension == 0, "whole frames of visual features")
        let frames = visual.count / visualDimension
        precondition(audio.count == frames * audioDimension, "audio frames match visual frames")
        pendingIDs.append(id)
        frameCount += frames
        videoCount += 1
        pendingOffsets.append(Int64(frameCount))
        pendingVisual.append(contentsOf: visual)
        pendingAudio.append(contentsOf: audio)
        if numClasses != nil {
            labelCount += labels.count
            pendingLabels.append(contentsOf: labels)
            pendingPointers.append(Int64(labelCount))
        }
        if (pendingVisual.count + pendingAudio.count) * MemoryLayout<Element>.size >= batchBytes || pendingIDs.count >= 65536 {
            try flush()
        }
    }

    public func append(id: String, visual: [Element], audio: [Element], labels: [Int32]) throws {
        try visual.withUnsafeBufferPointer { v in try audio.withUnsafeBufferPointer { a in try append(id: id, visual: v, audio: a, labels: labels) } }
    }

    /// Writes what is buffered; call once at the end.
    public func flush() throws {
        if !pendingIDs.isEmpty { try ids.append(strings: pendingIDs) }
        if !pendingOffsets.isEmpty { try offsets.append(pendingOffsets) }
        if !pendingVisual.isEmpty { try visual.append(pendingVisual) }
        if let audio, !pendingAudio.isEmpty { try audio.append(pendingAudio) }
        if let labelPointers, !pendingPointers.isEmpty { try labelPointers.append(pendingPointers) }
        if let labelIndices, !pendingLabels.isEmpty { try labelIndices.append(pendingLabels) }
        pendingIDs.removeAll(keepingCapacity: true)
        pendingOffsets.removeAll(keepingCapacity: true)
        pendingVisual.removeAll(keepingCapacity: true)
        pendingAudio.removeAll(keepingCapacity: true)
        pendingPointers.removeAll(keepingCapacity: true)
        pendingLabels.removeAll(keepingCapacity: true)
    }
}
