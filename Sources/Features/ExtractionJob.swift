import Artifacts
import Foundation
import Support

/// Where the frames of an extraction come from.
public enum ExtractionInput {
    case frames(path: String)
    case tfrecord(TFRecordInput)
}

/// One run of feature extraction as the extract-pca stage asks for it: picks the
/// input, writes features.h5 (and the fitted PCA when asked), or passes
/// video-level records through unchanged.
public struct ExtractionJob {
    public var input: ExtractionInput
    public var options: ExtractionOptions
    /// A saved PCA (gcml.pca/1) to apply instead of fitting.
    public var modelPath: String?
    /// Where to write the fitted PCA (gcml.pca/1).
    public var savePCAPath: String?

    public init(input: ExtractionInput, options: ExtractionOptions, modelPath: String? = nil, savePCAPath: String? = nil) {
        self.input = input
        self.options = options
        self.modelPath = modelPath
        self.savePCAPath = savePCAPath
    }

    /// Runs the extraction into `out`; returns the report to print.
    public func run(out: String, writer: ArtifactWriter) throws -> String {
        let source: FrameSource
        let inputs: [String]
        switch input {
        case .frames(let path):
            (source, inputs) = (try FramesFile(path: path), [path])
        case .tfrecord(let records) where records.level == .video:
            guard modelPath == nil, savePCAPath == nil, options.dimension == nil, options.audioDimension == nil else {
                throw GCMLError("video-level records are written as they are: no \(parameter: "pca"), \(parameter: "savePca"), \(parameter: "dimension") or \(parameter: "audioDimension")")
            }
            return try records.writeVideoLevelFeatures(to: out, writer: writer).table
        case .tfrecord(let records):
            (source, inputs) = (records.frameSource, records.shards)
        }
        var options = self.options
        if let modelPath {
            options.model = try SavedPCA.read(modelPath)
            options.modelPath = modelPath
        }
        var summary: ExtractionSummary?
        try writer.write(out, schema: .features, inputs: inputs + (modelPath.map { [$0] } ?? [])) { file in
            summary = try FeatureExtraction.run(source: source, options: options, into: file, progress: writer.progress)
        }
        guard let summary else { return "" }
        if let savePCAPath {
            try writer.write(savePCAPath, schema: .pca, inputs: inputs) { file in try summary.pca.write(to: file) }
        }
        var report = summary.report()
        if let records = source as? TFRecordFrameSource, records.skippedRecords > 0 {
            report += "\nskipped damaged TFRecord records: \(records.skippedRecords)"
        }
        return report
    }
}
