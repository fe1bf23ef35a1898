import ArgumentParser
import Artifacts
import Contracts
import Distributed
import Features
import Foundation
import Ingestion
import Support

@main
struct ExtractPCACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract-pca",
        abstract: "PCA-reduce frame features and average them per video (frames.h5 -> features.h5).",
        discussion: """
        Reads gcml.frames/1, writes gcml.features/1 (and gcml.pca/1 with --save-pca). Fits a PCA per modality \
        on all frames (or a reservoir sample of --fit-frames) in one streaming pass, or applies a saved one \
        with --pca; each video's frames are averaged, then projected once. See docs/extract-pca.md.
        --tfrecord reads YouTube-8M-format TFRecord shards instead of frames.h5 (frame level; with \
        --level video the per-video vectors go straight to features.h5, no PCA). See docs/youtube8m.md.
        """)

    @Option(help: "Frame features (gcml.frames/1).") var frames: String?
    @Option(name: .customLong("tfrecord"), help: "TFRecord shards instead of --frames: path, quoted glob or @list file (repeatable).")
    var tfrecord: [String] = []
    @Option(help: "TFRecord layout: frame (SequenceExample) or video (Example, written as is without PCA).") var level = "frame"
    @Option(help: "TFRecord: classes for /labels (3862 for YouTube-8M 2018).") var numClasses = 3862
    @Option(help: "TFRecord: context feature holding the video id.") var idKey = "id"
    @Option(help: "TFRecord: feature holding the labels ('' for none).") var labelsKey = "labels"
    @Option(help: "TFRecord: visual feature (default rgb, or mean_rgb at video level).") var visualKey: String?
    @Option(help: "TFRecord: audio feature ('' for none; default audio, or mean_audio at video level).") var audioKey: String?
    @Option(help: "TFRecord: visual values per frame.") var visualSize = 1024
    @Option(help: "TFRecord: audio values per frame.") var audioSize = 128
    @Flag(help: "TFRecord: count and skip damaged records instead of stopping.") var skipCorrupt = false
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
    @Option(help: "BLAS threads (default: OpenBLAS's choice).") var threads: Int?
    @Option(help: "Seed of the --fit-frames reservoir sample.") var seed: UInt64 = 0

    func validate() throws {
        if (frames == nil) == tfrecord.isEmpty {
            throw ValidationError("give the input as either --frames FILE or --tfrecord SHARDS")
        }
        if pca != nil && (savePca != nil || fitFrames != nil) {
            throw ValidationError("--pca applies a saved model; it does not go with --save-pca or --fit-frames")
        }
    }

    func run() throws {
        let world = Communicator.world
        try world.agree("extract-pca") { try run(world) }
    }

    func run(_ world: Communicator) throws {
        let source: FrameSource
        let inputs: [String]
        if let frames {
            // Rows balanced by frames: reading is the cost, and videos differ in length.
            source = try FramesFile(path: frames, rows: world.share(offsets: try FramesFile.frameOffsets(frames)))
            inputs = [frames]
        } else {
            guard let level = YouTube8MLayout.Level(rawValue: level) else {
                throw ValidationError("--level: expected frame or video, found \(self.level)")
            }
            let layout = try YouTube8MLayout.make(level: level, idKey: idKey, labelsKey: labelsKey, visualKey: visualKey, audioKey: audioKey,
                                                  visualDimension: visualSize, audioDimension: audioSize, numClasses: numClasses)
            let shards = try TFRecordShards.expand(tfrecord)
            if level == .video {
                // Google's per-video vectors are already PCA'd and averaged: written as they are.
                guard pca == nil, savePca == nil, dim == nil, audioDim == nil else {
                    throw ValidationError("--level video writes the shards' vectors as they are: no --pca, --save-pca, --dim or --audio-dim")
                }
                // A copy without computation: rank 0 writes it, the other ranks wait.
                if world.isRoot {
                    let summary = try VideoLevelImport.write(shards: shards, out: out, layout: layout, skipCorrupt: skipCorrupt,
                                                             createdBy: "extract-pca", parameters: self)
                    print(summary.table)
                }
                world.barrier()
                return
            }
            // Whole shards per rank, in order, so the ranks' rows concatenate to the one-process order.
            source = TFRecordFrameSource(shards: Array(shards[world.share(of: shards.count)]), layout: layout, skipCorrupt: skipCorrupt)
            inputs = shards
        }
        var options = ExtractionOptions()
        options.dimension = dim
        options.audioDimension = audioDim
        options.fitFrames = fitFrames
        options.whiten = whiten
        options.seed = seed
        options.threads = threads
        options.skipEmpty = skipEmpty
        options.dropNonfinite = dropNonfinite
        if let pca {
            options.model = try SavedPCA.read(pca)
            options.modelPath = pca
        }
        options.scratchFolder = URL(fileURLWithPath: out).deletingLastPathComponent().path
        options.communicator = world
        let summary = try DistributedArtifact.write(out, schema: .features, createdBy: "extract-pca", parameters: self,
                                                    inputs: inputs + (pca.map { [$0] } ?? []), layout: FeaturesWriter.partLayout,
                                                    communicator: world) { file in
            try FeatureExtraction.run(source: source, options: options, into: file)
        }
        let skippedRecords = world.allreduce((source as? TFRecordFrameSource)?.skippedRecords ?? 0)
        guard world.isRoot else { return }
        if let savePca {
            try Artifact.write(savePca, schema: .pca, createdBy: "extract-pca", parameters: self, inputs: inputs, ranks: world.size) { file in
                try summary.pca.write(to: file)
            }
        }
        print(summary.report())
        if skippedRecords > 0 {
            print("skipped damaged TFRecord records: \(skippedRecords) (--skip-corrupt)")
        }
    }
}
