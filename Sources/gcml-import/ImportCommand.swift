import ArgumentParser
import Ingestion
import StageKit

@main
struct ImportCommand: Stage {
    static let configuration = CommandConfiguration(
        commandName: "gcml-import",
        abstract: "Convert YouTube-8M-format TFRecord shards to HDF5 (frames.h5, or features.h5 for video-level shards).",
        discussion: """
            Frame-level shards (tf.train.SequenceExample: context id + labels, one uint8-quantised bytes \
            value per frame in feature lists rgb and audio) become gcml.frames/1, streamed shard by shard; \
            ids, labels and the quantised bytes are kept exactly (uint8 with quantize_min/quantize_max, \
            or float32 with --dequantize). Video-level shards (--layout video: tf.train.Example with \
            mean_rgb, mean_audio) become gcml.features/1 directly. Record checksums (CRC-32C) are verified. \
            SHARDS: a path, a glob ('data/train*.tfrecord', quote it) or @LIST (a file of paths/globs, one a line). \
            See docs/youtube8m.md.
            """)

    @OptionGroup(title: "TFRecord input") var records: TFRecordOptions
    @Option(help: "Output: gcml.frames/1 (frame level) or gcml.features/1 (video level).") var out: String
    @Flag(help: "Write frame features as float32 instead of the original uint8.") var dequantize = false

    func validate() throws {
        guard records.isGiven else { throw ValidationError("give the shards with --tfrecord SHARDS") }
    }

    func execute() throws {
        let summary = try records.input().importAsIs(to: out, dequantize: dequantize, writer: writer)
        print("wrote \(out)")
        print(summary.table)
    }
}
