import Artifacts
import Contracts
import Foundation
import LinearAlgebra
import Support

/// Options of `FeatureExtraction.run` (the extract-pca stage).
public struct ExtractionOptions {
    /// Visual output dimension; nil = `FeatureExtraction.defaultDimension` (or the input dimension when smaller)
    /// when fitting, the model's when applying.
    public var dimension: Int?
    /// Audio: nil = average the raw frames (no PCA), 0 = drop audio, k = PCA to k dimensions.
    public var audioDimension: Int?
    /// Fit on a uniform reservoir sample of this many frames (nil = all frames).
    public var fitFrames: Int?
    /// Divide every output component by its standard deviation.
    public var whiten = false
    /// BLAS threads (nil: leave OpenBLAS's setting).
    public var threads: Int?
    /// Seed of the reservoir sample.
    public var seed: UInt64 = 0
    /// Skip videos without frames (counted) instead of failing.
    public var skipEmpty = false
    /// Drop frames holding a non-finite value (counted) instead of failing.
    public var dropNonfinite = false
    /// A saved model to apply instead of fitting, and its path for messages.
    public var model: SavedPCA?
    public var modelPath = "--pca model"
    /// Where the pooled per-video means wait while the PCA is fitted (a temporary HDF5 file).
    public var scratchFolder = NSTemporaryDirectory()
    /// Rows per SSYRK block of the covariance.
    public var blockRows = 4096
    /// Videos projected per SGEMM.
    public var blockVideos = 1024

    public init() {}
}

/// What a run did: counts, skips and the models used.
public struct ExtractionSummary {
    public enum Audio: Equatable {
        case none
        case dropped
        case averaged(dimension: Int)
        case pca(PCAModel)
    }

    public var videos = 0
    public var frames = 0
    /// Frames the PCA was fitted on (nil when a saved model was applied).
    public var fitFrames: Int?
    public var skippedEmpty: [String] = []
    public var droppedFrames = 0
    /// Videos skipped because every frame had a non-finite value.
    public var emptiedByDropping: [String] = []
    public var visual: PCAModel
    public var audio: Audio
    public var whiten: Bool
    public var seconds = 0.0
    /// Time of the streaming pass (read, covariance, pooling), the eigendecomposition, the projection after fitting.
    public var passSeconds = 0.0
    public var fitSeconds = 0.0
    public var projectSeconds = 0.0

    /// The fitted or applied models as a gcml.pca/1 body.
    public var pca: SavedPCA {
        if case .pca(let model) = audio { return SavedPCA(visual: visual, audio: model) }
        return SavedPCA(visual: visual, audio: nil)
    }

    /// Human-readable summary (explained variance, counts, skips).
    public func report() -> String {
        var lines = ["extract-pca: \(videos) videos, \(frames) frames averaged in \(String(format: "%.1f", seconds)) s (\(Progress.format(Double(frames) / max(seconds, 1e-9))) frames/s)"]
        lines.append((fitFrames.map { "PCA fitted on \($0) frames" } ?? "PCA applied from a saved model") + (whiten ? ", whitened" : "")
                     + String(format: " (pass %.1f s, fit %.1f s, projection %.1f s)", passSeconds, fitSeconds, projectSeconds))
        lines.append("visual: " + Self.describe(visual))
        switch audio {
        case .none: lines.append("audio: none in the input")
        case .dropped: lines.append("audio: dropped")
        case .averaged(let d): lines.append("audio: \(d) dims, raw frames averaged (no PCA)")
        case .pca(let model): lines.append("audio: " + Self.describe(model))
        }
        if !skippedEmpty.isEmpty {
            lines.append("skipped \(skippedEmpty.count) videos without frames (first: \(skippedEmpty.prefix(5).joined(separator: ", ")))")
        }
        if droppedFrames > 0 {
            var line = "dropped \(droppedFrames) frames with non-finite values"
            if !emptiedByDropping.isEmpty {
                line += "; \(emptiedByDropping.count) videos left without frames were skipped (first: \(emptiedByDropping.prefix(5).joined(separator: ", ")))"
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    static func describe(_ model: PCAModel) -> String {
        var text = "\(model.inputDimension) -> \(model.outputDimension) dims"
        let kept = model.explainedVariance.reduce(0, +)
        if let total = model.totalVariance, total > 0 {
            text += String(format: ", explained variance %.2f %% of %.4g", 100 * kept / total, total)
        }
        let head = model.explainedVariance.prefix(5).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return text + " (largest: \(head)" + (model.outputDimension > 5 ? ", …; smallest kept \(String(format: "%.4g", model.explainedVariance.last ?? 0)))" : ")")
    }
}

/// The extract-pca stage as a library call: PCA per modality and per-video
/// average pooling, streaming over any `FrameSource` in one pass.
///
/// Fitting: while frames stream by, each modality's covariance is accumulated
/// (`CovarianceAccumulator`, or a `FrameReservoir` sample with `fitFrames`) and each
/// video's average frame is parked in a scratch file; after the pass the models are
/// fitted and the parked averages projected. Applying a saved model projects as it goes.
/// Averaging before projecting is exact (projection is affine) and costs one
/// projection per video instead of one per frame.
public enum FeatureExtraction {
    public static let defaultDimension = 1500

    enum Plan {
        case drop
        case average
        case fit(Int)
        case apply(PCAModel)
    }

    public static func run(source: FrameSource, options: ExtractionOptions, into file: HDF5File) throws -> ExtractionSummary {
        let started = Date()
        if let threads = options.threads { BLAS.threads = threads }
        let dv = source.visualDimension, da = source.audioDimension
        let (visualPlan, audioPlan) = try plans(source: source, options: options)

        let fitting: Bool
        if case .fit = visualPlan { fitting = true } else { fitting = false }
        var audioFitting = false
        if case .fit = audioPlan { audioFitting = true }
        let keepAudio: Bool
        switch audioPlan { case .drop: keepAudio = false; default: keepAudio = da > 0 }
        let visualOut = width(visualPlan, input: dv)
        let audioOut = keepAudio ? width(audioPlan, input: da) : nil

        let writer = try FeaturesWriter(file: file, visualWidth: visualOut, audioWidth: audioOut, numClasses: source.numClasses,
                                        labelNames: source.labelNames)

        // Fitting state: covariance accumulators or one reservoir for both modalities.
        var reservoir: FrameReservoir?
        var visualCovariance: CovarianceAccumulator?
        var audioCovariance: CovarianceAccumulator?
        if fitting {
            if let fitFrames = options.fitFrames {
                reservoir = FrameReservoir(capacity: fitFrames, widths: audioFitting ? [dv, da] : [dv], seed: options.seed)
            } else {
                visualCovariance = CovarianceAccumulator(dimension: dv, blockRows: options.blockRows)
                if audioFitting { audioCovariance = CovarianceAccumulator(dimension: da, blockRows: options.blockRows) }
            }
        }

        // Per-video averages wait in a scratch file while fitting (memory stays independent of the corpus).
        var scratch: (file: HDF5File, path: String, visual: Dataset, audio: Dataset?)?
        if fitting {
            let path = (options.scratchFolder as NSString).appendingPathComponent(".extract-pca-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString).h5")
            let scratchFile = try HDF5File.create(path)
            let v = try scratchFile.root.createDataset("visual", type: .float32, shape: [0, dv], extendable: true, compression: .none)
            let a = keepAudio ? try scratchFile.root.createDataset("audio", type: .float32, shape: [0, da], extendable: true, compression: .none) : nil
            scratch = (scratchFile, path, v, a)
        }
        defer {
            if let scratch {
                try? scratch.file.close()
                try? FileManager.default.removeItem(atPath: scratch.path)
            }
        }

        var summary = ExtractionSummary(visual: PCAModel(mean: [], components: [], explainedVariance: []), audio: .none, whiten: options.whiten)
        let blockVideos = max(1, options.blockVideos)
        var pendingVisual = [Float](repeating: 0, count: blockVideos * dv)
        var pendingAudio = [Float](repeating: 0, count: keepAudio ? blockVideos * da : 0)
        var pending = 0
        let projector = Projector(blockVideos: blockVideos, visualInput: dv, visualOutput: visualOut, audioInput: keepAudio ? da : 0,
                                  audioOutput: audioOut ?? 0)
        var visualModel: PCAModel?
        var audioModel: PCAModel?
        if case .apply(let model) = visualPlan { visualModel = model }
        if case .apply(let model) = audioPlan { audioModel = model }

        func flushPending() throws {
            guard pending > 0 else { return }
            if let scratch {
                try pendingVisual.withUnsafeBufferPointer { try scratch.visual.append(UnsafeBufferPointer(rebasing: $0[0..<(pending * dv)])) }
                if let audio = scratch.audio {
                    try pendingAudio.withUnsafeBufferPointer { try audio.append(UnsafeBufferPointer(rebasing: $0[0..<(pending * da)])) }
                }
            } else {
                try projector.project(visual: pendingVisual, audio: pendingAudio, rows: pending, visualModel: visualModel!,
                                      audioModel: audioModel, whiten: options.whiten, writer: writer)
            }
            pending = 0
        }

        let progress = Progress("extract-pca", total: source.frameCountHint ?? source.videoCountHint,
                                unit: source.frameCountHint != nil ? "frames" : "videos")
        var ones: [Float] = []
        try source.rewind()
        while var video = try source.next() {
            progress.advance(by: source.frameCountHint != nil ? video.frameCount : 1)
            try check(&video, source: source, dv: dv, da: da, options: options, summary: &summary)
            let n = video.frameCount
            if n == 0 { continue }   // skipped (check() threw unless allowed)

            if let visualCovariance {
                visualCovariance.add(video.visual, rows: n)
                if keepAudio, audioFitting { audioCovariance?.add(video.audio, rows: n) }
            } else if let reservoir {
                video.visual.withUnsafeBufferPointer { v in
                    video.audio.withUnsafeBufferPointer { a in
                        let buffers = audioFitting ? [v.baseAddress!, a.baseAddress!] : [v.baseAddress!]
                        for row in 0..<n { reservoir.offer(buffers, row: row) }
                    }
                }
            }

            // Average the video's frames: one GEMV, ᵀX · 1/n.
            if ones.count < n { ones = [Float](repeating: 1, count: n) }
            ones.withUnsafeBufferPointer { o in
                video.visual.withUnsafeBufferPointer { x in
                    pendingVisual.withUnsafeMutableBufferPointer { y in
                        BLAS.gemv(transpose: true, m: n, n: dv, alpha: 1 / Float(n), a: x.baseAddress!, lda: dv, x: o.baseAddress!,
                                  beta: 0, y: y.baseAddress! + pending * dv)
                    }
                }
                if keepAudio {
                    video.audio.withUnsafeBufferPointer { x in
                        pendingAudio.withUnsafeMutableBufferPointer { y in
                            BLAS.gemv(transpose: true, m: n, n: da, alpha: 1 / Float(n), a: x.baseAddress!, lda: da, x: o.baseAddress!,
                                      beta: 0, y: y.baseAddress! + pending * da)
                        }
                    }
                }
            }
            pending += 1
            try writer.addVideo(id: video.id, frameCount: n, labels: video.labels)
            summary.videos += 1
            summary.frames += n
            if pending == blockVideos { try flushPending() }
        }
        try flushPending()
        progress.finish()
        summary.passSeconds = Date().timeIntervalSince(started)

        if fitting, let scratch {
            // Fit, then project the parked averages block by block.
            if let reservoir {
                summary.fitFrames = reservoir.held
                let fitted = try fitFromReservoir(reservoir, dv: dv, da: da, audioFitting: audioFitting, visualPlan: visualPlan,
                                                  audioPlan: audioPlan, options: options, source: source)
                visualModel = fitted.0
                audioModel = fitted.1
            } else {
                summary.fitFrames = visualCovariance?.count ?? 0
                visualModel = try fit(visualCovariance!, plan: visualPlan, source: source, dataset: "/visual")
                if let audioCovariance { audioModel = try fit(audioCovariance, plan: audioPlan, source: source, dataset: "/audio") }
            }
            summary.fitSeconds = Date().timeIntervalSince(started) - summary.passSeconds
            let total = scratch.visual.rows
            var start = 0
            while start < total {
                let rows = min(blockVideos, total - start)
                try pendingVisual.withUnsafeMutableBufferPointer {
                    try scratch.visual.readRows(start..<(start + rows), into: UnsafeMutableBufferPointer(rebasing: $0[0..<(rows * dv)]))
                }
                if let audio = scratch.audio {
                    try pendingAudio.withUnsafeMutableBufferPointer {
                        try audio.readRows(start..<(start + rows), into: UnsafeMutableBufferPointer(rebasing: $0[0..<(rows * da)]))
                    }
                }
                try projector.project(visual: pendingVisual, audio: pendingAudio, rows: rows, visualModel: visualModel!,
                                      audioModel: audioModel, whiten: options.whiten, writer: writer)
                start += rows
            }
        }
        try writer.finish()
        summary.seconds = Date().timeIntervalSince(started)
        summary.projectSeconds = summary.seconds - summary.passSeconds - summary.fitSeconds

        summary.visual = visualModel!
        switch audioPlan {
        case .drop: summary.audio = da > 0 ? .dropped : .none
        case .average: summary.audio = da > 0 ? .averaged(dimension: da) : .none
        case .fit, .apply: summary.audio = audioModel.map { .pca($0) } ?? .none
        }
        return summary
    }

    // MARK: - Plans and checks

    static func width(_ plan: Plan, input: Int) -> Int {
        switch plan {
        case .drop: return 0
        case .average: return input
        case .fit(let k): return k
        case .apply(let model): return model.outputDimension
        }
    }

    /// A saved PCA model must take the input's dimension and give the requested one.
    private static func check(_ model: PCAModel, modality: String, inputDimension: Int, requested: Int?, option: String,
                              source: FrameSource, options: ExtractionOptions) throws {
        guard model.inputDimension == inputDimension else {
            throw GCMLError(file: options.modelPath, object: "/\(modality)/components",
                            expected: "input dimension \(inputDimension) (of /\(modality) in \(source.description))", found: "\(model.inputDimension)")
        }
        if let requested, requested != model.outputDimension {
            throw GCMLError(file: options.modelPath, object: "/\(modality)/components",
                            expected: "\(requested) components (\(option))", found: "\(model.outputDimension)")
        }
    }

    /// Decides what happens to each modality and checks dimensions against the input and the model.
    static func plans(source: FrameSource, options: ExtractionOptions) throws -> (Plan, Plan) {
        let dv = source.visualDimension, da = source.audioDimension
        if let requested = options.audioDimension, requested < 0 {
            throw GCMLError(file: source.description, object: "/audio", expected: "--audio-dim >= 0", found: "\(requested)")
        }
        if let model = options.model {
            let visual = model.visual
            try check(visual, modality: "visual", inputDimension: dv, requested: options.dimension, option: "--dim",
                      source: source, options: options)
            let audio: Plan
            if options.audioDimension == 0 || da == 0 && model.audio == nil {
                audio = .drop
            } else if let audioModel = model.audio {
                guard da > 0 else {
                    throw GCMLError(file: source.description, object: "/audio",
                                    expected: "audio frames of dimension \(audioModel.inputDimension) for the audio PCA of \(options.modelPath) (or --audio-dim 0)",
                                    found: "no audio")
                }
                try check(audioModel, modality: "audio", inputDimension: da, requested: options.audioDimension, option: "--audio-dim",
                          source: source, options: options)
                audio = .apply(audioModel)
            } else {
                if let requested = options.audioDimension {
                    throw GCMLError(file: options.modelPath, object: "/audio", expected: "an audio PCA for --audio-dim \(requested)",
                                    found: "none (omit --audio-dim to average raw audio, or --audio-dim 0 to drop it)")
                }
                audio = .average
            }
            return (.apply(visual), audio)
        }
        // An explicit --dim above the input dimension is an error; the default shrinks to the input (with a note).
        var k = options.dimension ?? defaultDimension
        if options.dimension == nil && k > dv {
            note("extract-pca: \(source.description) /visual has \(dv) dimensions, fewer than the default --dim \(k): keeping \(dv) (a full rotation)")
            k = dv
        }
        guard k >= 1, k <= dv else {
            throw GCMLError(file: source.description, object: "/visual",
                            expected: "--dim between 1 and the input dimension \(dv)", found: "--dim \(k)")
        }
        if let fitFrames = options.fitFrames, fitFrames < 2 {
            throw GCMLError(file: source.description, object: "/visual", expected: "--fit-frames >= 2", found: "\(fitFrames)")
        }
        let audio: Plan
        switch options.audioDimension {
        case nil: audio = da > 0 ? .average : .drop
        case 0?: audio = .drop
        case let requested?:
            guard requested <= da else {
                throw GCMLError(file: source.description, object: "/audio",
                                expected: "--audio-dim at most the input dimension \(da)", found: "--audio-dim \(requested)")
            }
            audio = .fit(requested)
        }
        return (.fit(k), audio)
    }

    /// Rejects (or, when allowed, skips and drops) empty videos and non-finite frames.
    /// On return `video.frameCount` is 0 when the video is to be skipped.
    static func check(_ video: inout VideoFrames, source: FrameSource, dv: Int, da: Int, options: ExtractionOptions,
                      summary: inout ExtractionSummary) throws {
        guard video.visual.count == video.frameCount * dv, video.audio.count == (da > 0 ? video.frameCount * da : 0) else {
            throw GCMLError(file: source.description, object: "video '\(video.id)'",
                            expected: "\(video.frameCount) frames of \(dv) visual and \(da) audio values",
                            found: "\(video.visual.count) visual and \(video.audio.count) audio values")
        }
        if video.frameCount == 0 {
            guard options.skipEmpty else {
                throw GCMLError(file: source.description, object: "video '\(video.id)' (/frame_offsets)",
                                expected: "at least one frame", found: "0 frames (--skip-empty skips such videos)")
            }
            summary.skippedEmpty.append(video.id)
            return
        }
        let badVisual = nonFiniteRows(video.visual, width: dv)
        let badAudio = da > 0 ? nonFiniteRows(video.audio, width: da) : []
        if badVisual.isEmpty && badAudio.isEmpty { return }
        guard options.dropNonfinite else {
            let (dataset, values, width, row) = badVisual.first.map { ("/visual", video.visual, dv, $0) } ?? ("/audio", video.audio, da, badAudio[0])
            let column = (0..<width).first { !values[row * width + $0].isFinite } ?? 0
            throw GCMLError(file: source.description, object: "video '\(video.id)' frame \(row) of \(dataset)",
                            expected: "finite values", found: "\(values[row * width + column]) at column \(column) (--drop-nonfinite drops such frames)")
        }
        let bad = Set(badVisual).union(badAudio)
        let keep = (0..<video.frameCount).filter { !bad.contains($0) }
        summary.droppedFrames += bad.count
        func compact(_ values: [Float], _ width: Int) -> [Float] {
            guard width > 0 else { return values }
            var result: [Float] = []
            result.reserveCapacity(keep.count * width)
            for row in keep { result += values[(row * width)..<((row + 1) * width)] }
            return result
        }
        video.visual = compact(video.visual, dv)
        video.audio = compact(video.audio, da)
        video.frameCount = keep.count
        if keep.isEmpty { summary.emptiedByDropping.append(video.id) }
    }

    /// Rows holding NaN or ±infinity. Bit test on the exponent (all ones only for non-finite
    /// values): adding 1 to an all-ones exponent carries into the sign bit. An integer OR vectorises.
    static func nonFiniteRows(_ values: [Float], width: Int) -> [Int] {
        var rows: [Int] = []
        values.withUnsafeBufferPointer { v in
            guard let base = v.baseAddress else { return }
            base.withMemoryRebound(to: UInt32.self, capacity: v.count) { bits in
                let n = v.count / width
                for r in 0..<n {
                    var flag: UInt32 = 0
                    let row = bits + r * width
                    for j in 0..<width { flag |= ((row[j] & 0x7F80_0000) &+ 0x0080_0000) & 0x8000_0000 }
                    if flag != 0 { rows.append(r) }
                }
            }
        }
        return rows
    }

    // MARK: - Fitting

    static func fit(_ accumulator: CovarianceAccumulator, plan: Plan, source: FrameSource, dataset: String) throws -> PCAModel {
        guard case .fit(let k) = plan else { preconditionFailure("fit without a fit plan") }
        guard accumulator.count >= 2 else {
            throw GCMLError(file: source.description, object: dataset, expected: "at least 2 frames to fit a PCA", found: "\(accumulator.count)")
        }
        let (mean, covariance) = accumulator.finish()
        return try PCAModel.fit(mean: mean, covariance: covariance, dimension: k)
    }

    static func fitFromReservoir(_ reservoir: FrameReservoir, dv: Int, da: Int, audioFitting: Bool, visualPlan: Plan, audioPlan: Plan,
                                 options: ExtractionOptions, source: FrameSource) throws -> (PCAModel, PCAModel?) {
        let visual = CovarianceAccumulator(dimension: dv, blockRows: options.blockRows)
        visual.add(reservoir.rows[0], rows: reservoir.held)
        let visualModel = try fit(visual, plan: visualPlan, source: source, dataset: "/visual")
        guard audioFitting else { return (visualModel, nil) }
        let audio = CovarianceAccumulator(dimension: da, blockRows: options.blockRows)
        audio.add(reservoir.rows[1], rows: reservoir.held)
        return (visualModel, try fit(audio, plan: audioPlan, source: source, dataset: "/audio"))
    }
}

/// Projects blocks of per-video averages and hands them to the writer; buffers live across blocks.
final class Projector {
    private var visualOut: [Float]
    private var audioOut: [Float]
    private var centred: [Float]
    private let audioInput: Int

    init(blockVideos: Int, visualInput: Int, visualOutput: Int, audioInput: Int, audioOutput: Int) {
        visualOut = [Float](repeating: 0, count: blockVideos * visualOutput)
        audioOut = [Float](repeating: 0, count: blockVideos * audioOutput)
        centred = [Float](repeating: 0, count: blockVideos * max(visualInput, audioInput))
        self.audioInput = audioInput
    }

    func project(visual: [Float], audio: [Float], rows: Int, visualModel: PCAModel, audioModel: PCAModel?, whiten: Bool,
                 writer: FeaturesWriter) throws {
        let visualScale = visualModel.outputScale(whiten: whiten)
        let kv = visualModel.outputDimension
        visual.withUnsafeBufferPointer { x in
            visualOut.withUnsafeMutableBufferPointer { y in
                centred.withUnsafeMutableBufferPointer { c in
                    visualModel.project(x.baseAddress!, rows: rows, into: y.baseAddress!, scale: visualScale, centred: c.baseAddress!)
                }
            }
        }
        var audioRows: UnsafeBufferPointer<Float>?
        var audioWidth = 0
        if audioInput > 0 {
            if let audioModel {
                let audioScale = audioModel.outputScale(whiten: whiten)
                audioWidth = audioModel.outputDimension
                audio.withUnsafeBufferPointer { x in
                    audioOut.withUnsafeMutableBufferPointer { y in
                        centred.withUnsafeMutableBufferPointer { c in
                            audioModel.project(x.baseAddress!, rows: rows, into: y.baseAddress!, scale: audioScale, centred: c.baseAddress!)
                        }
                    }
                }
            } else {
                audioWidth = audioInput
                audioOut.withUnsafeMutableBufferPointer { y in
                    audio.withUnsafeBufferPointer { x in y.baseAddress!.update(from: x.baseAddress!, count: rows * audioInput) }
                }
            }
        }
        try visualOut.withUnsafeBufferPointer { v in
            try audioOut.withUnsafeBufferPointer { a in
                audioRows = audioInput > 0 ? UnsafeBufferPointer(rebasing: a[0..<(rows * audioWidth)]) : nil
                try writer.addFeatures(visual: UnsafeBufferPointer(rebasing: v[0..<(rows * kv)]), audio: audioRows)
            }
        }
    }
}
