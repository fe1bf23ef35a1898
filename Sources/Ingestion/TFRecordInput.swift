import Artifacts

/// TFRecord shards and how to read them: the input of both the import and the
/// feature extraction, so that the two read shards the same way.
public struct TFRecordInput {
    public var shards: [String]
    public var level: YouTube8MLayout.Level
    public var layout: YouTube8MLayout
    public var skipCorrupt: Bool
    public var decoder: TFRecordDecoderKind

    public init(shards: [String], level: YouTube8MLayout.Level, layout: YouTube8MLayout, skipCorrupt: Bool = false,
                decoder: TFRecordDecoderKind = .direct) {
        (self.shards, self.level, self.layout, self.skipCorrupt, self.decoder) = (shards, level, layout, skipCorrupt, decoder)
    }

    /// Frame-level records as a stream of videos' frames.
    public var frameSource: TFRecordFrameSource {
        TFRecordFrameSource(shards: shards, layout: layout, skipCorrupt: skipCorrupt, decoder: decoder)
    }

    /// Video-level records hold Google's per-video vectors, already PCA'd and averaged:
    /// they become gcml.features/1 as they are.
    public func writeVideoLevelFeatures(to out: String, writer: ArtifactWriter) throws -> ImportSummary {
        try VideoLevelImport.write(shards: shards, out: out, layout: layout, skipCorrupt: skipCorrupt, writer: writer)
    }

    /// The records as HDF5 as they are: frames.h5 (frame level; uint8 kept unless `dequantize`)
    /// or features.h5 (video level).
    public func importAsIs(to out: String, dequantize: Bool, writer: ArtifactWriter) throws -> ImportSummary {
        switch level {
        case .frame:
            return try FramesImport.write(shards: shards, out: out, layout: layout, dequantize: dequantize, skipCorrupt: skipCorrupt,
                                          decoder: decoder, writer: writer)
        case .video:
            return try writeVideoLevelFeatures(to: out, writer: writer)
        }
    }
}
