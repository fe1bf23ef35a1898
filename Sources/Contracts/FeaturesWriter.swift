import Artifacts

/// Streams a `gcml.features/1` body into an open file: per-video metadata
/// (id, frame count, labels) and feature rows are appended in blocks to
/// extendable datasets, so the output never has to fit in memory, and each
/// part of the artifact can be written as soon as it is known.
public final class FeaturesWriter {
    private let visual: Dataset
    private let audio: Dataset?
    private let ids: Dataset
    private let frameCounts: Dataset
    private let labelPointers: Dataset?
    private let labelIndices: Dataset?
    private var pendingIDs: [String] = []
    private var pendingCounts: [Int32] = []
    private var pendingPointers: [Int64] = []
    private var pendingIndices: [Int32] = []
    private var labelTotal: Int64 = 0
    private let flushEvery = 4096

    public init(file: HDF5File, visualWidth: Int, audioWidth: Int?, numClasses: Int?, labelNames: [String]?) throws {
        let root = file.root
        ids = try root.createDataset(DatasetPath.videoID, type: .string, shape: [0], extendable: true, compression: .none)
        frameCounts = try root.createDataset(DatasetPath.Features.frameCount, type: .int32, shape: [0], extendable: true)
        visual = try root.createDataset(DatasetPath.visual, type: .float32, shape: [0, visualWidth], extendable: true)
        audio = try audioWidth.map { try root.createDataset(DatasetPath.audio, type: .float32, shape: [0, $0], extendable: true) }
        if let numClasses {
            let labels = try root.createGroup(DatasetPath.Labels.group)
            try labels.setAttribute(DatasetPath.Labels.numClassesAttribute, .int(Int64(numClasses)))
            labelPointers = try root.createDataset(DatasetPath.Labels.indptr, type: .int64, shape: [0], extendable: true)
            labelIndices = try root.createDataset(DatasetPath.Labels.indices, type: .int32, shape: [0], extendable: true)
            pendingPointers = [0]
        } else {
            labelPointers = nil
            labelIndices = nil
        }
        if let labelNames { try root.write(DatasetPath.Labels.names, strings: labelNames) }
    }

    public func addVideo(id: String, frameCount: Int, labels: [Int32]) throws {
        pendingIDs.append(id)
        pendingCounts.append(Int32(clamping: frameCount))
        if labelPointers != nil {
            pendingIndices += labels
            labelTotal += Int64(labels.count)
            pendingPointers.append(labelTotal)
        }
        if pendingIDs.count >= flushEvery { try flushMetadata() }
    }

    public func addFeatures(visual rows: UnsafeBufferPointer<Float>, audio audioRows: UnsafeBufferPointer<Float>?) throws {
        try visual.append(rows)
        if let audio, let audioRows { try audio.append(audioRows) }
    }

    private func flushMetadata() throws {
        if !pendingIDs.isEmpty { try ids.append(strings: pendingIDs) }
        if !pendingCounts.isEmpty { try frameCounts.append(pendingCounts) }
        if let labelPointers, let labelIndices {
            if !pendingPointers.isEmpty { try labelPointers.append(pendingPointers) }
            if !pendingIndices.isEmpty { try labelIndices.append(pendingIndices) }
        }
        pendingIDs.removeAll(keepingCapacity: true)
        pendingCounts.removeAll(keepingCapacity: true)
        pendingPointers.removeAll(keepingCapacity: true)
        pendingIndices.removeAll(keepingCapacity: true)
    }

    public func finish() throws { try flushMetadata() }
}
