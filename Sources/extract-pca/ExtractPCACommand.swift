import ArgumentParser
import Artifacts
import Features
import Foundation
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
        """)

    @Option(help: "Frame features (gcml.frames/1).") var frames: String
    @Option(help: "Output features (gcml.features/1).") var out: String
    @Option(help: "Visual PCA dimension (default \(FeatureExtraction.defaultDimension); with --pca: the model's).") var dim: Int?
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
        if pca != nil && (savePca != nil || fitFrames != nil) {
            throw ValidationError("--pca applies a saved model; it does not go with --save-pca or --fit-frames")
        }
    }

    func run() throws {
        let source = try FramesFile(path: frames)
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
        var summary: ExtractionSummary?
        try Artifact.write(out, schema: .features, createdBy: "extract-pca", parameters: self,
                           inputs: [frames] + (pca.map { [$0] } ?? [])) { file in
            summary = try FeatureExtraction.run(source: source, options: options, into: file)
        }
        guard let summary else { return }
        if let savePca {
            try Artifact.write(savePca, schema: .pca, createdBy: "extract-pca", parameters: self, inputs: [frames]) { file in
                try summary.pca.write(to: file)
            }
        }
        print(summary.report())
    }
}
