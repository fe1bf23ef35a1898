import ArgumentParser
import Ingestion
import Support

@main
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gcml-import",
        abstract: "Convert YouTube-8M-format TFRecord shards to HDF5 (frames.h5, or features.h5 for video-level shards).",
        discussion: """
            Frame-level shards (tf.train.SequenceExample: context id + labels, one uint8-quantised bytes \
            value per frame in feature lists rgb and audio) become gcml.frames/1, streamed shard by shard; \
            ids, labels and the quantised bytes are kept exactly (uint8 with quantize_min/quantize_max, \
            or float32 with --dequantize). Video-level shards (--level video: tf.train.Example with \
            mean_rgb, mean_audio) become gcml.features/1 directly. Record checksums (CRC-32C) are verified. \
            SHARDS: a path, a glob ('data/train*.tfrecord', quote it) or @LIST (a file of paths/globs, one a line). \
            See docs/youtube8m.md.
            """)

    @Option(name: .customLong("tfrecord"), help: "TFRecord shards: path, quoted glob or @list file (repeatable).")
    var tfrecord: [String]
    @Option(help: "Output: gcml.frames/1 (frame level) or gcml.features/1 (video level).") var out: String
    @Option(help: "Record layout: frame (SequenceExample) or video (Example).") var level: String = "frame"
    @Option(help: "Classes for /labels (3862 for YouTube-8M 2018; labels must be below it).") var numClasses = 3862
    @Option(help: "Context feature holding the video id.") var idKey = "id"
    @Option(help: "Feature holding the labels ('' for none).") var labelsKey = "labels"
    @Option(help: "Visual feature name (default rgb, or mean_rgb at video level).") var visualKey: String?
    @Option(help: "Audio feature name ('' for none; default audio, or mean_audio at video level).") var audioKey: String?
    @Option(help: "Visual values per frame (per video at video level).") var visualSize = 1024
    @Option(help: "Audio values per frame (per video at video level).") var audioSize = 128
    @Option(help: "Dequantisation minimum of the uint8 frame features.") var quantizeMin: Float = -2
    @Option(help: "Dequantisation maximum of the uint8 frame features.") var quantizeMax: Float = 2
    @Flag(help: "Write frame features as float32 instead of the original uint8.") var dequantize = false
    @Flag(help: "Count and skip damaged records instead of stopping at the first.") var skipCorrupt = false
    @Option(help: "Frame-level decoder: direct (fast wire walk) or protobuf (swift-protobuf).") var decoder = "direct"

    func run() throws {
        guard let level = YouTube8MLayout.Level(rawValue: level) else {
            throw ValidationError("--level: expected frame or video, found \(self.level)")
        }
        guard let decoderKind = TFRecordDecoderKind(rawValue: decoder) else {
            throw ValidationError("--decoder: expected direct or protobuf, found \(decoder)")
        }
        let layout = try YouTube8MLayout.make(level: level, idKey: idKey, labelsKey: labelsKey, visualKey: visualKey, audioKey: audioKey,
                                              visualDimension: visualSize, audioDimension: audioSize, numClasses: numClasses,
                                              quantizeMin: quantizeMin, quantizeMax: quantizeMax)
        let shards = try TFRecordShards.expand(tfrecord)
        let summary: ImportSummary
        switch level {
        case .frame:
            summary = try FramesImport.write(shards: shards, out: out, layout: layout, dequantize: dequantize, skipCorrupt: skipCorrupt,
                                             decoder: decoderKind, createdBy: "gcml-import", parameters: self)
        case .video:
            summary = try VideoLevelImport.write(shards: shards, out: out, layout: layout, skipCorrupt: skipCorrupt,
                                                 createdBy: "gcml-import", parameters: self)
        }
        print("wrote \(out)")
        print(summary.table)
    }
}
