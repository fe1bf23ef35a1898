import Artifacts
import Contracts
import Distributed
import Foundation
import Support

/// One run of feature extraction as a stage asks for it: fits (or applies) the
/// PCA over a frame source, writes features.h5 and, when asked, the fitted PCA.
public struct ExtractionJob {
    public var options: ExtractionOptions
    /// A saved PCA (gcml.pca/1) to apply instead of fitting.
    public var modelPath: String?
    /// Where to write the fitted PCA (gcml.pca/1).
    public var savePCAPath: String?

    public init(options: ExtractionOptions, modelPath: String? = nil, savePCAPath: String? = nil) {
        (self.options, self.modelPath, self.savePCAPath) = (options, modelPath, savePCAPath)
    }

    /// Extracts `source` (read from the files `inputs`) into `out`. Under several ranks
    /// (`options.communicator`) each rank extracts its share of `source` and rank 0's
    /// writer (the only one with a publication) joins the parts and writes the PCA.
    public func run(source: FrameSource, inputs: [String], out: String, writer: ArtifactWriter) throws -> ExtractionSummary {
        var options = self.options
        if let modelPath {
            options.model = try SavedPCA.read(modelPath)
            options.modelPath = modelPath
        }
        let communicator = options.communicator
        let progress = communicator.isRoot ? writer.progress : ProgressReporter("\(writer.createdBy) rank \(communicator.rank)")
        let summary = try writer.write(out, schema: .features, inputs: inputs + (modelPath.map { [$0] } ?? []),
                                       layout: FeaturesWriter.partLayout, communicator: communicator) { file in
            try FeatureExtraction.run(source: source, options: options, into: file, progress: progress)
        }
        if let savePCAPath, communicator.isRoot {
            try writer.write(savePCAPath, schema: .pca, inputs: inputs) { file in try summary.pca.write(to: file) }
        }
        return summary
    }
}
