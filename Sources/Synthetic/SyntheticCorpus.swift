import Artifacts
import Contracts
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

    /// The files `generate` writes into `folder`: `frames.h5` (or `features.h5` with `videoLevel`),
    /// `sessions.tsv` (or `pairs.tsv` with `pairs`) and `truth.h5`.
    public func outputs(in folder: String) -> (features: String, interactions: String, truth: String) {
        let c = configuration
        return (folder + (c.videoLevel ? "/features.h5" : "/frames.h5"), folder + (c.pairs ? "/pairs.tsv" : "/sessions.tsv"),
                folder + "/truth.h5")
    }

    /// Writes the corpus into `folder` as one set: nothing appears there until all three
    /// files are complete and checked, and a failure leaves the previous files as they were.
    @discardableResult
    public func generate(to folder: String) throws -> SyntheticSummary {
        let files = outputs(in: folder)
        let publication = try Publication(stage: createdBy, parameters: configuration.parameters,
                                          outputs: [("output", files.features), ("output", files.interactions), ("output", files.truth)])
        defer { publication.close() }
        let summary = try generate(to: folder, in: publication)
        try publication.commit()
        return summary
    }

    /// Prepares the three files of `outputs(in: folder)` in `publication` (which must declare
    /// them); the caller publishes them with `commit()`.
    public func generate(to folder: String, in publication: Publication) throws -> SyntheticSummary {
        let start = Date()
        let c = configuration
        let files = outputs(in: folder)
        if c.videoLevel { try writeVideoLevelFeatures(to: files.features, in: publication) } else { try writeFrames(to: files.features, in: publication) }
        if c.pairs {
            try sessions.writePairs(to: files.interactions, in: publication, progress: reporter.progress("pairs", unit: "passes"))
        } else {
            try sessions.writeSessions(to: files.interactions, in: publication,
                                       progress: reporter.progress("sessions", total: c.sessions, unit: "sessions"))
        }
        try writeTruth(to: files.truth, in: publication)
        return SyntheticSummary(videos: c.videos, frames: c.videoLevel ? c.videos : hierarchy.totalFrames, sessions: c.sessions,
                                files: [files.features, files.interactions, files.truth], seconds: Date().timeIntervalSince(start))
    }

    /// Frames per block: enough for efficient BLAS and HDF5 appends, small enough that
    /// memory does not depend on the corpus size.
    static let blockFrames = 4096

    /// Writes frame-level features (gcml.frames/1) with labels, streaming blocks of videos.
    func writeFrames(to path: String, in publication: Publication) throws {
        let c = configuration
        let progress = reporter.progress("frames", total: c.videos, unit: "videos")
        try publication.write(path, schema: .frames, parameters: c.parameters) { file in
            let sink = try RowSink(file: file, corpus: self, averaged: false, storage: c.storage)
            var first = 0, total = 0
            while first < c.videos {
                var end = first, frames = 0
                while end < c.videos && (end == first || frames + Int(hierarchy.frameCount[end]) <= Self.blockFrames) {
                    frames += Int(hierarchy.frameCount[end])
                    end += 1
                }
                try sink.write(videos: first..<end, rows: frames)
                total += frames
                progress.set(end, note: "\(total) frames")
                first = end
            }
            try sink.finish()
        }
        progress.finish(note: "\(hierarchy.totalFrames) frames")
    }

    /// Writes video-level features (gcml.features/1): the average of each video's frames,
    /// drawn directly in `visual.dimension` / `audio.dimension`, with `/frame_count` and labels.
    func writeVideoLevelFeatures(to path: String, in publication: Publication) throws {
        let c = configuration
        let progress = reporter.progress("features", total: c.videos, unit: "videos")
        try publication.write(path, schema: .features, parameters: c.parameters) { file in
            let sink = try RowSink(file: file, corpus: self, averaged: true, storage: .float32)
            for first in stride(from: 0, to: c.videos, by: Self.blockFrames) {
                let end = min(c.videos, first + Self.blockFrames)
                try sink.write(videos: first..<end, rows: end - first)
                progress.set(end)
            }
            try sink.finish()
        }
        progress.finish()
    }

    /// Writes the latent truth (gcml.truth/1): genre, subgenre and topic of every video,
    /// the generator's parameters as root attributes, and as extras each video's
    /// popularity and each modality's nuisance style directions (`/style/visual` [R, Dv]).
    func writeTruth(to path: String, in publication: Publication) throws {
        let c = configuration
        try publication.write(path, schema: .truth, parameters: c.parameters) { file in
            let root = file.root
            let truth = LatentTruth(genre: hierarchy.topic.map { Int32(hierarchy.genre(ofTopic: Int($0))) },
                                    subgenre: hierarchy.topic.map { Int32(hierarchy.subgenre(ofTopic: Int($0))) }, topic: hierarchy.topic)
            try truth.write(to: file, videoCount: c.videos, videoID: hierarchy.videoID)
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

/// Generates blocks of videos (both modalities, labels) and streams them through the contract
/// writers: `FramesWriter` (frame rows, float32 or YouTube-8M bytes) or `FeaturesWriter`
/// (one averaged row per video).
final class RowSink {
    enum Writer {
        case floatFrames(FramesWriter<Float>)
        case byteFrames(FramesWriter<UInt8>)
        case features(FeaturesWriter)
    }

    let corpus: SyntheticCorpus
    let averaged: Bool
    let writer: Writer
    private var visualRows: [Float] = []
    private var audioRows: [Float] = []
    private var visualBytes: [UInt8] = []
    private var audioBytes: [UInt8] = []
    private let scratch = FeatureScratch()
    private var labelBuffer: [Int32] = []

    init(file: HDF5File, corpus: SyntheticCorpus, averaged: Bool, storage: FrameStorage) throws {
        self.corpus = corpus
        self.averaged = averaged
        let c = corpus.configuration
        let classes = corpus.labels.numClasses, names = corpus.labels.classNames
        if averaged {
            writer = .features(try FeaturesWriter(file: file, visualWidth: c.visual.dimension,
                                                  audioWidth: c.audio.dimension > 0 ? c.audio.dimension : nil, numClasses: classes, labelNames: names))
        } else if storage == .uint8 {
            writer = .byteFrames(try FramesWriter<UInt8>(file: file, visualDimension: c.visual.dimension, audioDimension: c.audio.dimension,
                                                         quantization: (Double(Quantisation.minimum), Double(Quantisation.maximum)),
                                                         numClasses: classes, labelNames: names))
        } else {
            writer = .floatFrames(try FramesWriter<Float>(file: file, visualDimension: c.visual.dimension, audioDimension: c.audio.dimension,
                                                          numClasses: classes, labelNames: names))
        }
    }

    /// Generates and appends `rows` rows of both modalities for `videos` (frames, or one
    /// averaged row per video), with their ids and labels.
    func write(videos: Range<Int>, rows: Int) throws {
        let c = corpus.configuration
        func generate(_ model: FeatureModel, into values: inout [Float]) {
            let count = rows * model.dimension
            if values.count < count { values = [Float](repeating: 0, count: count) }
            guard count > 0 else { return }
            values.withUnsafeMutableBufferPointer { out in
                model.fill(videos: videos, averaged: averaged, output: out.baseAddress!, scratch: scratch, threads: c.threads)
            }
        }
        generate(corpus.visual, into: &visualRows)
        generate(corpus.audio, into: &audioRows)
        let dv = c.visual.dimension, da = c.audio.dimension
        func labels(_ video: Int) -> [Int32] {
            labelBuffer.removeAll(keepingCapacity: true)
            corpus.labels.append(labelsOf: video, to: &labelBuffer)
            return labelBuffer
        }
        /// Each video's frames, one `append` per video.
        func appendFrames<Element>(_ writer: FramesWriter<Element>, visual: [Element], audio: [Element]) throws {
            var row = 0
            try visual.withUnsafeBufferPointer { v in
                try audio.withUnsafeBufferPointer { a in
                    for video in videos {
                        let n = Int(corpus.hierarchy.frameCount[video])
                        try writer.append(id: corpus.hierarchy.videoID(video), visual: UnsafeBufferPointer(rebasing: v[(row * dv)..<((row + n) * dv)]),
                                          audio: UnsafeBufferPointer(rebasing: a[(row * da)..<((row + n) * da)]), labels: labels(video))
                        row += n
                    }
                }
            }
        }
        switch writer {
        case .features(let writer):
            for video in videos {
                try writer.addVideo(id: corpus.hierarchy.videoID(video), frameCount: Int(corpus.hierarchy.frameCount[video]), labels: labels(video))
            }
            try visualRows.withUnsafeBufferPointer { v in
                try audioRows.withUnsafeBufferPointer { a in
                    try writer.addFeatures(visual: UnsafeBufferPointer(rebasing: v[0..<(rows * dv)]),
                                           audio: da > 0 ? UnsafeBufferPointer(rebasing: a[0..<(rows * da)]) : nil)
                }
            }
        case .floatFrames(let writer):
            try appendFrames(writer, visual: visualRows, audio: audioRows)
        case .byteFrames(let writer):
            func quantise(_ values: [Float], width: Int, into bytes: inout [UInt8]) {
                let count = rows * width
                if bytes.count < count { bytes = [UInt8](repeating: 0, count: count) }
                guard count > 0 else { return }
                values.withUnsafeBufferPointer { f in
                    bytes.withUnsafeMutableBufferPointer { b in Quantisation.quantise(f.baseAddress!, count: count, into: b.baseAddress!) }
                }
            }
            quantise(visualRows, width: dv, into: &visualBytes)
            quantise(audioRows, width: da, into: &audioBytes)
            try appendFrames(writer, visual: visualBytes, audio: audioBytes)
        }
    }

    func finish() throws {
        switch writer {
        case .features(let writer): try writer.finish()
        case .floatFrames(let writer): try writer.flush()
        case .byteFrames(let writer): try writer.flush()
        }
    }
}
