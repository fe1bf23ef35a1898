import Artifacts
import Foundation
import LinearAlgebra
import Support

/// What a generation run wrote.
public struct SyntheticSummary: Sendable {
    public var videos: Int
    public var frames: Int
    public var sessions: Int
    /// Paths written: frames.h5 (or features.h5), sessions.tsv (or pairs.tsv), truth.h5.
    public var files: [String]
    public var seconds: Double
}

/// A synthetic video corpus with known hierarchical truth (see docs/gcml-synth.md).
///
///     let corpus = try SyntheticCorpus(.profile(.tiny))
///     try corpus.generate(to: "data/tiny")
public struct SyntheticCorpus: Sendable {
    public let configuration: SyntheticConfiguration
    public let hierarchy: LatentHierarchy
    public let visual: FeatureModel
    public let audio: FeatureModel
    public let labels: LabelModel
    public let sessions: SessionSimulator
    /// The program stamped into `created_by` and naming the progress lines (the stage sets its own name).
    public var createdBy = "Synthetic"
    var reporter: ProgressReporter { ProgressReporter(createdBy) }

    public init(_ configuration: SyntheticConfiguration) throws {
        try configuration.validate()
        self.configuration = configuration
        hierarchy = LatentHierarchy(configuration)
        visual = FeatureModel(configuration.visual, hierarchy: hierarchy, modelPurpose: .visualModel,
                              stylePurpose: .visualStyle, noisePurpose: .visualNoise, clutterPurpose: .visualClutter)
        audio = FeatureModel(configuration.audio, hierarchy: hierarchy, modelPurpose: .audioModel,
                             stylePurpose: .audioStyle, noisePurpose: .audioNoise, clutterPurpose: .audioClutter)
        labels = LabelModel(hierarchy: hierarchy)
        sessions = SessionSimulator(hierarchy: hierarchy)
    }

    /// Writes `<folder>/frames.h5` (or `features.h5` with `videoLevel`), `<folder>/sessions.tsv`
    /// (or `pairs.tsv` with `pairs`) and `<folder>/truth.h5`.
    @discardableResult
    public func generate(to folder: String) throws -> SyntheticSummary {
        let start = Date()
        let c = configuration
        var files: [String] = []
        let features = folder + (c.videoLevel ? "/features.h5" : "/frames.h5")
        if c.videoLevel { try writeVideoLevelFeatures(to: features) } else { try writeFrames(to: features) }
        files.append(features)
        let interactions = folder + (c.pairs ? "/pairs.tsv" : "/sessions.tsv")
        if c.pairs {
            try sessions.writePairs(to: interactions, progress: reporter.progress("pairs", unit: "passes"))
        } else {
            try sessions.writeSessions(to: interactions, progress: reporter.progress("sessions", total: c.sessions, unit: "sessions"))
        }
        files.append(interactions)
        try writeTruth(to: folder + "/truth.h5")
        files.append(folder + "/truth.h5")
        return SyntheticSummary(videos: c.videos, frames: c.videoLevel ? c.videos : hierarchy.totalFrames, sessions: c.sessions,
                                files: files, seconds: Date().timeIntervalSince(start))
    }

    /// Frames per block: enough for efficient BLAS and HDF5 appends, small enough that
    /// memory does not depend on the corpus size.
    static let blockFrames = 4096

    /// Writes frame-level features (gcml.frames/1) with labels, streaming blocks of videos.
    public func writeFrames(to path: String) throws {
        let c = configuration
        let progress = reporter.progress("frames", total: c.videos, unit: "videos")
        try Artifact.write(path, schema: .frames, createdBy: createdBy, parameters: c.parameters) { file in
            let sink = try RowSink(file: file, corpus: self, rowsName: "frame_offsets", storage: c.storage)
            var offsets: [Int64] = [0]
            var first = 0
            while first < c.videos {
                var end = first, frames = 0
                while end < c.videos && (end == first || frames + Int(hierarchy.frameCount[end]) <= Self.blockFrames) {
                    frames += Int(hierarchy.frameCount[end])
                    end += 1
                }
                offsets.removeAll(keepingCapacity: true)
                if first == 0 { offsets.append(0) }
                var total = sink.rowsWritten
                for v in first..<end {
                    total += Int64(hierarchy.frameCount[v])
                    offsets.append(total)
                }
                try sink.write(videos: first..<end, averaged: false, rows: frames, pointers: offsets)
                progress.set(end, note: "\(Int(total)) frames")
                first = end
            }
            try sink.finish()
        }
        progress.finish(note: "\(hierarchy.totalFrames) frames")
    }

    /// Writes video-level features (gcml.features/1): the average of each video's frames,
    /// drawn directly in `visual.dimension` / `audio.dimension`, with `/frame_count` and labels.
    public func writeVideoLevelFeatures(to path: String) throws {
        let c = configuration
        let progress = reporter.progress("features", total: c.videos, unit: "videos")
        try Artifact.write(path, schema: .features, createdBy: createdBy, parameters: c.parameters) { file in
            let sink = try RowSink(file: file, corpus: self, rowsName: "frame_count", storage: .float32)
            let block = Self.blockFrames
            var counts: [Int32] = []
            for first in stride(from: 0, to: c.videos, by: block) {
                let end = min(c.videos, first + block)
                counts = Array(hierarchy.frameCount[first..<end])
                try sink.write(videos: first..<end, averaged: true, rows: end - first, counts: counts)
                progress.set(end)
            }
            try sink.finish()
        }
        progress.finish()
    }

    /// Writes the latent truth (gcml.truth/1): genre, subgenre and topic of every video,
    /// the generator's parameters as root attributes, and as extras each video's
    /// popularity and each modality's nuisance style directions (`/style/visual` [R, Dv]).
    public func writeTruth(to path: String) throws {
        let c = configuration
        try Artifact.write(path, schema: .truth, createdBy: createdBy, parameters: c.parameters) { file in
            let root = file.root
            let ids = try root.createDataset("video_id", type: .string, shape: [0], extendable: true, compression: .none, chunkRows: 65536)
            for first in stride(from: 0, to: c.videos, by: 65536) {
                try ids.append(strings: (first..<min(c.videos, first + 65536)).map(hierarchy.videoID))
            }
            try root.write("genre", hierarchy.topic.map { Int32(hierarchy.genre(ofTopic: Int($0))) })
            try root.write("subgenre", hierarchy.topic.map { Int32(hierarchy.subgenre(ofTopic: Int($0))) })
            try root.write("topic", hierarchy.topic)
            try root.write("popularity", hierarchy.popularity)
            try root.write("topic_share", hierarchy.topicShare)
            if c.visual.styleRank > 0 {
                try root.write("style/visual", visual.styleDirections, shape: [c.visual.styleRank, c.visual.dimension])
            }
            if c.audio.styleRank > 0 && c.audio.dimension > 0 {
                try root.write("style/audio", audio.styleDirections, shape: [c.audio.styleRank, c.audio.dimension])
            }
            if c.visual.clutterRank > 0 {
                try root.write("clutter/visual", visual.clutterDirections, shape: [c.visual.clutterRank, c.visual.dimension])
            }
            if c.audio.clutterRank > 0 && c.audio.dimension > 0 {
                try root.write("clutter/audio", audio.clutterDirections, shape: [c.audio.clutterRank, c.audio.dimension])
            }
            for (name, value) in c.parameters {
                switch value {
                case let v as Int: try root.setAttribute(name, .int(Int64(v)))
                case let v as Int64: try root.setAttribute(name, .int(v))
                case let v as Double: try root.setAttribute(name, .double(v))
                case let v as Bool: try root.setAttribute(name, .int(v ? 1 : 0))
                case let v as String: try root.setAttribute(name, .string(v))
                case let v as [String: Any]: try root.setAttribute(name, json: v)
                default: break
                }
            }
            try root.setAttribute("num_genres", .int(Int64(c.genres)))
            try root.setAttribute("num_subgenres", .int(Int64(c.subgenres)))
            try root.setAttribute("num_topics", .int(Int64(c.topics)))
        }
    }
}

/// The datasets of a streamed features file (frames or video-level) and the buffers to
/// fill them: visual, audio, the per-video pointer dataset, ids and labels.
final class RowSink {
    let corpus: SyntheticCorpus
    let storage: FrameStorage
    let visualSet: Dataset
    let audioSet: Dataset?
    let rowsSet: Dataset
    let ids: Dataset
    let labelPointers: Dataset
    let labelIndices: Dataset
    private(set) var rowsWritten: Int64 = 0
    private var labelCount: Int64 = 0
    private var floats: [Float] = []
    private var bytes: [UInt8] = []
    private let scratch = FeatureScratch()
    private var labelBuffer: [Int32] = []
    private var labelOffsets: [Int64] = []

    init(file: HDF5File, corpus: SyntheticCorpus, rowsName: String, storage: FrameStorage) throws {
        self.corpus = corpus
        self.storage = storage
        let root = file.root
        let c = corpus.configuration
        let type: ElementType = storage == .uint8 ? .uint8 : .float32
        ids = try root.createDataset("video_id", type: .string, shape: [0], extendable: true, compression: .none, chunkRows: 65536)
        rowsSet = try root.createDataset(rowsName, type: rowsName == "frame_count" ? .int32 : .int64, shape: [0], extendable: true,
                                         chunkRows: 65536)
        visualSet = try root.createDataset("visual", type: type, shape: [0, c.visual.dimension], extendable: true)
        audioSet = c.audio.dimension > 0 ? try root.createDataset("audio", type: type, shape: [0, c.audio.dimension], extendable: true) : nil
        if storage == .uint8 {
            for set in [visualSet, audioSet].compactMap({ $0 }) {
                try set.setAttribute("quantize_min", .double(Double(Quantisation.minimum)))
                try set.setAttribute("quantize_max", .double(Double(Quantisation.maximum)))
            }
        }
        let labels = try root.createGroup("labels")
        try labels.setAttribute("num_classes", .int(Int64(corpus.labels.numClasses)))
        labelPointers = try labels.createDataset("indptr", type: .int64, shape: [0], extendable: true, chunkRows: 65536)
        labelIndices = try labels.createDataset("indices", type: .int32, shape: [0], extendable: true, chunkRows: 262_144)
        try labelPointers.append([Int64(0)])
        try root.write("label_names", strings: corpus.labels.classNames)
    }

    /// Generates and appends `rows` rows of both modalities for `videos`, their ids, labels
    /// and the per-video pointer values (`pointers` int64 offsets or `counts` int32).
    func write(videos: Range<Int>, averaged: Bool, rows: Int, pointers: [Int64] = [], counts: [Int32] = []) throws {
        let c = corpus.configuration
        try ids.append(strings: videos.map(corpus.hierarchy.videoID))
        if !pointers.isEmpty { try rowsSet.append(pointers) }
        if !counts.isEmpty { try rowsSet.append(counts) }
        for (model, set) in [(corpus.visual, visualSet), (corpus.audio, audioSet)] {
            guard let set else { continue }
            let values = rows * model.dimension
            if floats.count < values { floats = [Float](repeating: 0, count: values) }
            floats.withUnsafeMutableBufferPointer { out in
                model.fill(videos: videos, averaged: averaged, output: out.baseAddress!, scratch: scratch, threads: c.threads)
            }
            if storage == .uint8 {
                if bytes.count < values { bytes = [UInt8](repeating: 0, count: values) }
                floats.withUnsafeBufferPointer { f in
                    bytes.withUnsafeMutableBufferPointer { b in
                        Quantisation.quantise(f.baseAddress!, count: values, into: b.baseAddress!)
                    }
                }
                try bytes.withUnsafeBufferPointer { try set.append(UnsafeBufferPointer(rebasing: $0[0..<values])) }
            } else {
                try floats.withUnsafeBufferPointer { try set.append(UnsafeBufferPointer(rebasing: $0[0..<values])) }
            }
        }
        rowsWritten += Int64(rows)
        labelBuffer.removeAll(keepingCapacity: true)
        labelOffsets.removeAll(keepingCapacity: true)
        for v in videos {
            corpus.labels.append(labelsOf: v, to: &labelBuffer)
            labelOffsets.append(labelCount + Int64(labelBuffer.count))
        }
        labelCount += Int64(labelBuffer.count)
        try labelIndices.append(labelBuffer)
        try labelPointers.append(labelOffsets)
    }

    func finish() throws {}
}
