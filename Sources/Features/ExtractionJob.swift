import Artifacts
import Contracts
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

    /// Extracts `source` (read from the files `inputs`) into `out`.
    public func run(source: FrameSource, inputs: [String], out: String, writer: ArtifactWriter) throws -> ExtractionSummary {
        var options = self.options
        if let modelPath {
            options.model = try SavedPCA.read(modelPath)
            options.modelPath = modelPath
        }
        options.scratchFolder = URL(fileURLWithPath: out).deletingLastPathComponent().path
        var summary: ExtractionSummary?
        try writer.write(out, schema: .features, inputs: inputs + (modelPath.map { [$0] } ?? [])) { file in
            summary = try FeatureExtraction.run(source: source, options: options, into: file, progress: writer.progress)
        }
        guard let summary else { throw GCMLError("\(out): the extraction wrote nothing") }
        if let savePCAPath {
            try writer.write(savePCAPath, schema: .pca, inputs: inputs) { file in try summary.pca.write(to: file) }
        }
        return summary
    }
}
