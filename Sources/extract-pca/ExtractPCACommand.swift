import ArgumentParser
import Artifacts
import Contracts
import Distributed
import Features
import Ingestion
import StageKit

@main
struct ExtractPCACommand: Stage {
    static let configuration = CommandConfiguration(
        commandName: "extract-pca",
        abstract: "PCA-reduce frame features and average them per video (frames.h5 -> features.h5).",
        discussion: """
        Reads gcml.frames/1, writes gcml.features/1 (and gcml.pca/1 with --save-pca). Fits a PCA per modality \
        on all frames (or a reservoir sample of --fit-frames) in one streaming pass, or applies a saved one \
        with --pca; each video's frames are averaged, then projected once. See docs/extract-pca.md.
        --tfrecord reads YouTube-8M-format TFRecord shards instead of frames.h5 (frame level; with \
        --layout video the per-video vectors go straight to features.h5, no PCA). See docs/youtube8m.md.
        """)

    @Option(help: "Frame features (gcml.frames/1).") var frames: String?
    @OptionGroup(title: "TFRecord input (instead of --frames)") var records: TFRecordOptions
    @Option(help: "Output features (gcml.features/1).") var out: String
    @Option(help: "Visual PCA dimension (default \(FeatureExtraction.defaultDimension), or the input dimension when smaller; with --pca: the model's).")
    var dim: Int?
    @Option(help: "Audio PCA dimension (default: no PCA, raw frames averaged; 0 drops audio).") var audioDim: Int?
    @Option(help: "Fit on a uniform reservoir sample of this many frames (default: all frames).") var fitFrames: Int?
    @Option(help: "Write the fitted PCA here (gcml.pca/1).") var savePca: String?
    @Option(help: "Apply this saved PCA (gcml.pca/1) instead of fitting.") var pca: String?
    @Flag(help: "Scale every component to unit variance.") var whiten = false
    @Flag(help: "Skip videos without frames (counted) instead of failing.") var skipEmpty = false
    @Flag(help: "Drop frames with NaN/infinite values (counted) instead of failing.") var dropNonfinite = false
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var seed: SeedOption<SeedZero>

    static let parameterOptions = ["dimension": "dim", "audioDimension": "audio-dim"]

    func validate() throws {
        if (frames == nil) == !records.isGiven {
            throw ValidationError("give the input as either --frames FILE or --tfrecord SHARDS")
        }
        if pca != nil && (savePca != nil || fitFrames != nil) {
            throw ValidationError("--pca applies a saved model; it does not go with --save-pca or --fit-frames")
        }
        if let dim, dim < 1 { throw ValidationError("--dim must be at least 1, found \(dim)") }
        if let audioDim, audioDim < 0 { throw ValidationError("--audio-dim must be at least 0, found \(audioDim)") }
        if let fitFrames, fitFrames < 2 { throw ValidationError("--fit-frames must be at least 2, found \(fitFrames)") }
        if records.isGiven && records.layout == .video && (pca != nil || savePca != nil || dim != nil || audioDim != nil) {
            throw ValidationError("--layout video writes the records' vectors as they are: no --pca, --save-pca, --dim or --audio-dim")
        }
    }

    func execute() throws {
        let world = Communicator.world
        try onEveryRank(world) { try execute(world) }
    }

    func execute(_ world: Communicator) throws {
        var options = ExtractionOptions()
        (options.dimension, options.audioDimension, options.fitFrames, options.whiten) = (dim, audioDim, fitFrames, whiten)
        (options.seed, options.threads, options.skipEmpty, options.dropNonfinite) = (seed.seed, threads.threads, skipEmpty, dropNonfinite)
        options.communicator = world
        let input = try records.frameInput(frames: frames, communicator: world)
        // Only rank 0 locks and publishes the outputs, after every rank's part is complete.
        let publication = try publication(on: world, outputs: [("--out", out), ("--save-pca", savePca)],
                                                         inputs: [("--frames", frames), ("--pca", pca)] + input.recordInputs(frames: frames))
        defer { publication?.close() }
        let writer = publication?.writer ?? self.writer
        switch input {
        case .videoLevel(let records):
            // A copy without computation: rank 0 writes it, the other ranks wait.
            if let publication {
                let table = try records.writeVideoLevelFeatures(to: out, writer: writer).table
                try publication.commit()
                print(table)
            }
            world.barrier()
        case .frames(let source, let inputs):
            let job = ExtractionJob(options: options, modelPath: pca, savePCAPath: savePca)
            let report = try job.run(source: source, inputs: inputs, out: out, writer: writer).report()
            let skippedRecords = world.allreduce((source as? TFRecordFrameSource)?.skippedRecords ?? 0)
            guard let publication else { return }
            try publication.commit()
            print("\(Self.stageName): " + report)
            if skippedRecords > 0 { print("skipped damaged TFRecord records: \(skippedRecords) (--skip-corrupt)") }
        }
    }
}
