import Artifacts
import Contracts
import Distributed
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
    public var modelPath = "the saved PCA model"
    /// Rows per SSYRK block of the covariance.
    public var blockRows = 4096
    /// Videos projected per SGEMM.
    public var blockVideos = 1024
    /// The ranks sharing the work: each reads its own videos (the source is already restricted to
    /// them), the PCA is fitted from all ranks' covariance sums, and each writes its rows.
    public var communicator: Communicator = .serial

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

    /// Counts and skip lists of every rank (each rank's own times are kept).
    mutating func combine(over communicator: Communicator) throws {
        guard communicator.isLaunched else { return }
        var counts = [Int64(videos), Int64(frames), Int64(droppedFrames)]
        communicator.allreduce(&counts)
        (videos, frames, droppedFrames) = (Int(counts[0]), Int(counts[1]), Int(counts[2]))
        skippedEmpty = try communicator.allgather(strings: skippedEmpty).flatMap { $0 }
        emptiedByDropping = try communicator.allgather(strings: emptiedByDropping).flatMap { $0 }
    }

    /// Human-readable summary (explained variance, counts, skips).
    public func report() -> String {
        var lines = ["\(videos) videos, \(frames) frames averaged in \(String(format: "%.1f", seconds)) s (\(Progress.format(Double(frames) / max(seconds, 1e-9))) frames/s)"]
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
/// (`FrameStatistics`: exact byte-code totals or fixed float blocks; or a `FrameReservoir`
/// sample with `fitFrames`) and each
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

    /// The stage's work in named steps: plan each modality, one pass over the videos (fit
    /// statistics, per-video averages), then, when fitting, fit and project the parked averages.
    public static func run(source: FrameSource, options: ExtractionOptions, into file: HDF5File,
                           progress: ProgressReporter = .unnamed) throws -> ExtractionSummary {
        try BLAS.withThreads(options.threads) {
            let pass = try ExtractionPass(source: source, options: options, file: file)
            defer { pass.removeScratch() }
            try pass.streamVideos(progress: progress)
            if pass.fitting {
                try pass.fitModels()
                try pass.projectParkedAverages()
            }
            return try pass.finish()
        }
    }

    /// Fixed blocks of videos for the float fitting statistics: 12 (any of 1, 2, 3, 4, 6 or 12 ranks
    /// then owns equal whole blocks), or one per rank beyond, balanced by frames (`frameOffsets`, as
    /// `/frame_offsets`). One process and N ranks keep the same blocks, so the same PCA bits.
    public static func statisticsBlocks(frameOffsets: [Int64], ranks: Int) -> [Range<Int>] {
        let count = max(12, ranks)
        return (0..<count).map { Partition.range(offsets: frameOffsets, part: $0, of: count) }
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
                            parameter: option, expected: "\(requested) components", found: "\(model.outputDimension)")
        }
    }

    /// Decides what happens to each modality and checks dimensions against the input and the model.
    static func plans(source: FrameSource, options: ExtractionOptions) throws -> (Plan, Plan) {
        let dv = source.visualDimension, da = source.audioDimension
        if let requested = options.audioDimension, requested < 0 {
            throw GCMLError(file: source.description, object: "/audio", parameter: "audioDimension", expected: ">= 0", found: "\(requested)")
        }
        if let model = options.model {
            let visual = model.visual
            try check(visual, modality: "visual", inputDimension: dv, requested: options.dimension, option: "dimension",
                      source: source, options: options)
            let audio: Plan
            if options.audioDimension == 0 || da == 0 && model.audio == nil {
                audio = .drop
            } else if let audioModel = model.audio {
                guard da > 0 else {
                    throw GCMLError(file: source.description, object: "/audio",
                                    expected: "audio frames of dimension \(audioModel.inputDimension) for the audio PCA of \(options.modelPath) (or \(parameter: "audioDimension") 0)",
                                    found: "no audio")
                }
                try check(audioModel, modality: "audio", inputDimension: da, requested: options.audioDimension, option: "audioDimension",
                          source: source, options: options)
                audio = .apply(audioModel)
            } else {
                if let requested = options.audioDimension {
                    throw GCMLError(file: options.modelPath, object: "/audio", parameter: "audioDimension", expected: "an audio PCA for \(requested) dimensions",
                                    found: "none (omit \(parameter: "audioDimension") to average raw audio, or set it to 0 to drop it)")
                }
                audio = .average
            }
            return (.apply(visual), audio)
        }
        // An explicit dimension above the input dimension is an error; the default shrinks to the input (with a note).
        var k = options.dimension ?? defaultDimension
        if options.dimension == nil && k > dv {
            note("\(source.description) /visual has \(dv) dimensions, fewer than the default PCA dimension \(k): keeping \(dv) (a full rotation)")
            k = dv
        }
        guard k >= 1, k <= dv else {
            throw GCMLError(file: source.description, object: "/visual",
                            parameter: "dimension", expected: "between 1 and the input dimension \(dv)", found: "\(k)")
        }
        if let fitFrames = options.fitFrames, fitFrames < 2 {
            throw GCMLError(file: source.description, object: "/visual", parameter: "fitFrames", expected: ">= 2", found: "\(fitFrames)")
        }
        let audio: Plan
        switch options.audioDimension {
        case nil: audio = da > 0 ? .average : .drop
        case 0?: audio = .drop
        case let requested?:
            guard requested <= da else {
                throw GCMLError(file: source.description, object: "/audio",
                                parameter: "audioDimension", expected: "at most the input dimension \(da)", found: "\(requested)")
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
                                expected: "at least one frame", found: "0 frames (\(parameter: "skipEmpty") skips such videos)")
            }
            summary.skippedEmpty.append(video.id)
            return
        }
        let badVisual = unusableRows(video.visual, width: dv)
        let badAudio = da > 0 ? unusableRows(video.audio, width: da) : []
        if badVisual.isEmpty && badAudio.isEmpty { return }
        guard options.dropNonfinite else {
            let (dataset, values, width, row) = badVisual.first.map { ("/visual", video.visual, dv, $0) } ?? ("/audio", video.audio, da, badAudio[0])
            let column = (0..<width).first { !Self.isUsable(values[row * width + $0]) } ?? 0
            throw GCMLError(file: source.description, object: "video '\(video.id)' frame \(row) of \(dataset)",
                            expected: "finite values of magnitude below 2^64 (larger ones overflow the float32 pooling and projection)",
                            found: "\(values[row * width + column]) at column \(column) (\(parameter: "dropNonfinite") drops such frames)")
        }
        let bad = Set(badVisual).union(badAudio)
        let keep = (0..<video.frameCount).filter { !bad.contains($0) }
        summary.droppedFrames += bad.count
        func compact<Element>(_ values: [Element], _ width: Int) -> [Element] {
            guard width > 0 else { return values }
            var result: [Element] = []
            result.reserveCapacity(keep.count * width)
            for row in keep { result += values[(row * width)..<((row + 1) * width)] }
            return result
        }
        video.visual = compact(video.visual, dv)
        video.audio = compact(video.audio, da)
        video.visualCodes = video.visualCodes.map { compact($0, dv) }
        video.audioCodes = video.audioCodes.map { compact($0, da) }
        video.frameCount = keep.count
        if keep.isEmpty { summary.emptiedByDropping.append(video.id) }
    }

    /// Largest usable magnitude is below 2^64: pooled and projected in float32 (sums over
    /// frames and dimensions), such values stay finite; NaN, ±infinity and larger ones do not.
    static func isUsable(_ value: Float) -> Bool { value.isFinite && abs(value) < 0x1p64 }

    /// Rows holding NaN, ±infinity or a magnitude of 2^64 or more. Bit test on the exponent:
    /// adding 256 − (127 + 64) to the biased exponent carries into the sign bit exactly when
    /// it is 191 or more. An integer OR vectorises.
    static func unusableRows(_ values: [Float], width: Int) -> [Int] {
        var rows: [Int] = []
        values.withUnsafeBufferPointer { v in
            guard let base = v.baseAddress else { return }
            base.withMemoryRebound(to: UInt32.self, capacity: v.count) { bits in
                let n = v.count / width
                for r in 0..<n {
                    var flag: UInt32 = 0
                    let row = bits + r * width
                    for j in 0..<width { flag |= ((row[j] & 0x7F80_0000) &+ 0x2080_0000) & 0x8000_0000 }
                    if flag != 0 { rows.append(r) }
                }
            }
        }
        return rows
    }

    // MARK: - Fitting

    /// The PCA of the frames added on every rank: covariance sums combined over the ranks,
    /// the eigendecomposition once on rank 0, the model broadcast. Returns it and the frame count.
    static func fit(_ accumulator: FrameStatistics, plan: Plan, source: FrameSource, dataset: String,
                    communicator: Communicator = .serial) throws -> (model: PCAModel, frames: Int) {
        guard case .fit(let k) = plan else { preconditionFailure("fit without a fit plan") }
        let (mean, covariance, count) = accumulator.finish(over: communicator)
        guard count >= 2 else {
            throw GCMLError(file: source.description, object: dataset, expected: "at least 2 frames to fit a PCA", found: "\(count)")
        }
        let fitted = communicator.isRoot ? try PCAModel.fit(mean: mean, covariance: covariance, dimension: k) : nil
        return (PCAModel.broadcast(fitted, inputDimension: accumulator.dimension, outputDimension: k, over: communicator), count)
    }

    static func fitFromReservoir(_ reservoir: FrameReservoir, dv: Int, da: Int, audioFitting: Bool, visualPlan: Plan, audioPlan: Plan,
                                 options: ExtractionOptions, source: FrameSource) throws -> (PCAModel, PCAModel?) {
        // One process only (a reservoir is not split over ranks): one block.
        let visual = FixedBlockCovariance(dimension: dv, blockRows: options.blockRows, isFirstRank: true)
        visual.add(reservoir.rows[0], rows: reservoir.held)
        let visualModel = try fit(.float(visual), plan: visualPlan, source: source, dataset: DatasetPath.visual).model
        guard audioFitting else { return (visualModel, nil) }
        let audio = FixedBlockCovariance(dimension: da, blockRows: options.blockRows, isFirstRank: true)
        audio.add(reservoir.rows[1], rows: reservoir.held)
        return (visualModel, try fit(.float(audio), plan: audioPlan, source: source, dataset: DatasetPath.audio).model)
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

    /// Projects `rows` rows and writes those in `keep` (all by default).
    func project(visual: [Float], audio: [Float], rows: Int, keep: Range<Int>? = nil, visualModel: PCAModel, audioModel: PCAModel?,
                 whiten: Bool, writer: FeaturesWriter) throws {
        let keep = keep ?? 0..<rows
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
                audioRows = audioInput > 0 ? UnsafeBufferPointer(rebasing: a[(keep.lowerBound * audioWidth)..<(keep.upperBound * audioWidth)]) : nil
                try writer.addFeatures(visual: UnsafeBufferPointer(rebasing: v[(keep.lowerBound * kv)..<(keep.upperBound * kv)]), audio: audioRows)
            }
        }
    }
}

/// The state of one extraction run and its steps (see `FeatureExtraction.run`).
final class ExtractionPass {
    let source: FrameSource
    let options: ExtractionOptions
    let started = Date()
    let dv: Int, da: Int
    let visualPlan: FeatureExtraction.Plan, audioPlan: FeatureExtraction.Plan
    /// Whether the visual (and with it any audio) PCA is fitted here rather than applied.
    let fitting: Bool
    let audioFitting: Bool
    let keepAudio: Bool
    let writer: FeaturesWriter
    /// Fitting statistics: covariance accumulators, or one reservoir for both modalities.
    private var reservoir: FrameReservoir?
    private var visualCovariance: FrameStatistics?
    private var audioCovariance: FrameStatistics?
    /// Per-video averages wait in a scratch file while fitting (memory stays independent of the corpus).
    /// A scratch file in TMPDIR, removed on return, on SIGINT/SIGTERM, or by the next run if this one is killed.
    private var scratch: (file: HDF5File, path: TemporaryFile, visual: Dataset, audio: Dataset?)?
    private var summary: ExtractionSummary
    private let blockVideos: Int
    private var pendingVisual: [Float]
    private var pendingAudio: [Float]
    private var pending = 0
    private let projector: Projector
    private var visualModel: PCAModel?
    private var audioModel: PCAModel?

    /// Plans each modality, opens the output writer, the fitting statistics and the scratch file.
    init(source: FrameSource, options: ExtractionOptions, file: HDF5File) throws {
        self.source = source
        self.options = options
        dv = source.visualDimension
        da = source.audioDimension
        (visualPlan, audioPlan) = try FeatureExtraction.plans(source: source, options: options)
        if case .fit = visualPlan { fitting = true } else { fitting = false }
        if case .fit = audioPlan { audioFitting = true } else { audioFitting = false }
        switch audioPlan { case .drop: keepAudio = false; default: keepAudio = da > 0 }
        let visualOut = FeatureExtraction.width(visualPlan, input: dv)
        let audioOut = keepAudio ? FeatureExtraction.width(audioPlan, input: da) : nil
        writer = try FeaturesWriter(file: file, visualWidth: visualOut, audioWidth: audioOut, numClasses: source.numClasses,
                                    labelNames: source.labelNames)
        summary = ExtractionSummary(visual: PCAModel(mean: [], components: [], explainedVariance: []), audio: .none, whiten: options.whiten)
        blockVideos = max(1, options.blockVideos)
        pendingVisual = [Float](repeating: 0, count: blockVideos * dv)
        pendingAudio = [Float](repeating: 0, count: keepAudio ? blockVideos * da : 0)
        projector = Projector(blockVideos: blockVideos, visualInput: dv, visualOutput: visualOut, audioInput: keepAudio ? da : 0,
                              audioOutput: audioOut ?? 0)
        if case .apply(let model) = visualPlan { visualModel = model }
        if case .apply(let model) = audioPlan { audioModel = model }
        if fitting {
            if let fitFrames = options.fitFrames, options.communicator.isLaunched {
                throw GCMLError(file: source.description, object: "/visual", parameter: "fitFrames",
                                expected: "a fit on all frames when several ranks share the work (a reservoir sample is not split over ranks)",
                                found: "a reservoir sample of \(fitFrames) frames under \(options.communicator.size) ranks")
            }
            if let fitFrames = options.fitFrames {
                reservoir = FrameReservoir(capacity: fitFrames, widths: audioFitting ? [dv, da] : [dv], seed: options.seed)
            } else {
                let first = options.communicator.rank == 0
                visualCovariance = FrameStatistics(dimension: dv, quantization: source.visualQuantization, blockRows: options.blockRows,
                                                   isFirstRank: first)
                if audioFitting {
                    audioCovariance = FrameStatistics(dimension: da, quantization: source.audioQuantization, blockRows: options.blockRows,
                                                      isFirstRank: first)
                }
            }
            try openScratch()
        }
    }

    private func openScratch() throws {
        let path = try TemporaryFile.scratch(suffix: "-extract-pca.h5")
        let file = try HDF5File.create(path.path)
        let v = try file.root.createDataset(DatasetPath.visual, type: .float32, shape: [0, dv], extendable: true, compression: .none)
        let a = keepAudio ? try file.root.createDataset(DatasetPath.audio, type: .float32, shape: [0, da], extendable: true, compression: .none) : nil
        scratch = (file, path, v, a)
    }

    func removeScratch() {
        if let scratch {
            try? scratch.file.close()
            scratch.path.remove()
        }
    }

    /// The one pass over the input: each video is checked, feeds the fitting statistics, and
    /// its average frame is parked (fitting) or projected and written (applying a saved model).
    func streamVideos(progress reporter: ProgressReporter) throws {
        let progress = reporter.progress(total: source.frameCountHint ?? source.videoCountHint,
                                         unit: source.frameCountHint != nil ? "frames" : "videos")
        var ones: [Float] = []
        try source.rewind()
        let blockStarts = Set(source.statisticsBlockStarts)
        var position = 0
        while var video = try source.next() {
            if blockStarts.contains(position) {
                visualCovariance?.startBlock()
                audioCovariance?.startBlock()
            }
            position += 1
            progress.advance(by: source.frameCountHint != nil ? video.frameCount : 1)
            try FeatureExtraction.check(&video, source: source, dv: dv, da: da, options: options, summary: &summary)
            let n = video.frameCount
            if n == 0 { continue }   // skipped (check() threw unless allowed)
            accumulateFitStatistics(video)
            averageFrames(video, ones: &ones)
            pending += 1
            try writer.addVideo(id: video.id, frameCount: n, labels: video.labels)
            summary.videos += 1
            summary.frames += n
            if pending == blockVideos { try flushPending() }
        }
        try flushPending()
        progress.finish()
        summary.passSeconds = Date().timeIntervalSince(started)
    }

    private func accumulateFitStatistics(_ video: VideoFrames) {
        let n = video.frameCount
        if let visualCovariance {
            visualCovariance.add(values: video.visual, codes: video.visualCodes, rows: n)
            if keepAudio, audioFitting { audioCovariance?.add(values: video.audio, codes: video.audioCodes, rows: n) }
        } else if let reservoir {
            video.visual.withUnsafeBufferPointer { v in
                video.audio.withUnsafeBufferPointer { a in
                    let buffers = audioFitting ? [v.baseAddress!, a.baseAddress!] : [v.baseAddress!]
                    for row in 0..<n { reservoir.offer(buffers, row: row) }
                }
            }
        }
    }

    /// The video's average frame into the pending block: one GEMV, ᵀX · 1/n.
    private func averageFrames(_ video: VideoFrames, ones: inout [Float]) {
        let n = video.frameCount
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
    }

    /// Parks the pending averages in the scratch file (fitting) or projects and writes them.
    private func flushPending() throws {
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

    /// Fits the PCA models from the covariances or the reservoir sample.
    func fitModels() throws {
        if let reservoir {
            summary.fitFrames = reservoir.held
            let fitted = try FeatureExtraction.fitFromReservoir(reservoir, dv: dv, da: da, audioFitting: audioFitting, visualPlan: visualPlan,
                                                                audioPlan: audioPlan, options: options, source: source)
            visualModel = fitted.0
            audioModel = fitted.1
        } else {
            let visual = try FeatureExtraction.fit(visualCovariance!, plan: visualPlan, source: source, dataset: DatasetPath.visual,
                                                   communicator: options.communicator)
            summary.fitFrames = visual.frames
            visualModel = visual.model
            if let audioCovariance {
                audioModel = try FeatureExtraction.fit(audioCovariance, plan: audioPlan, source: source, dataset: DatasetPath.audio,
                                                       communicator: options.communicator).model
            }
        }
        summary.fitSeconds = Date().timeIntervalSince(started) - summary.passSeconds
    }

    /// Projects the parked averages block by block and writes them. The blocks are fixed in the
    /// global video order (every call has `blockVideos` rows, a video sits at its global index
    /// modulo `blockVideos`, the rest is zero padding), because OpenBLAS's result for a row depends
    /// on the row's place in the SGEMM: so the features are the same bits whatever the rank split.
    func projectParkedAverages() throws {
        guard let scratch else { return }
        let total = scratch.visual.rows
        let communicator = options.communicator
        let firstVideo = communicator.isLaunched ? Int(communicator.exclusiveScan(Int64(total))) : 0
        var start = 0
        while start < total {
            let position = (firstVideo + start) % blockVideos
            let rows = min(blockVideos - position, total - start)
            let keep = position..<(position + rows)
            try Self.readPadded(scratch.visual, rows: start..<(start + rows), at: keep, width: dv, into: &pendingVisual)
            if let audio = scratch.audio {
                try Self.readPadded(audio, rows: start..<(start + rows), at: keep, width: da, into: &pendingAudio)
            }
            try projector.project(visual: pendingVisual, audio: pendingAudio, rows: blockVideos, keep: keep, visualModel: visualModel!,
                                  audioModel: audioModel, whiten: options.whiten, writer: writer)
            start += rows
        }
    }

    /// Reads `rows` of `dataset` into rows `keep` of `block` and zeroes the block's other rows.
    private static func readPadded(_ dataset: Dataset, rows: Range<Int>, at keep: Range<Int>, width: Int, into block: inout [Float]) throws {
        try block.withUnsafeMutableBufferPointer { b in
            b[0..<(keep.lowerBound * width)].update(repeating: 0)
            b[(keep.upperBound * width)...].update(repeating: 0)
            try dataset.readRows(rows, into: UnsafeMutableBufferPointer(rebasing: b[(keep.lowerBound * width)..<(keep.upperBound * width)]))
        }
    }

    /// Completes the features file and the summary (models used, timings).
    func finish() throws -> ExtractionSummary {
        try writer.finish()
        try summary.combine(over: options.communicator)
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
}
