import ArgumentParser
import Contracts
import Distributed
import Features
import Ingestion

extension YouTube8MLayout.Level: ExpressibleByArgument {}
extension TFRecordDecoderKind: ExpressibleByArgument {}

/// The TFRecord input block of gcml-import and extract-pca: shards, record
/// layout, feature names and sizes, damaged-record policy.
public struct TFRecordOptions: ParsableArguments {
    @Option(help: "YouTube-8M-format TFRecord shards: path, quoted glob or @list file (repeatable).") public var tfrecord: [String] = []
    @Option(help: "TFRecord layout: frame (SequenceExample) or video (Example: per-video vectors, written as they are).")
    public var layout: YouTube8MLayout.Level = .frame
    @Option(help: "TFRecord: classes for /labels (3862 for YouTube-8M 2018; labels must be below it).") public var numClasses = 3862
    @Option(help: "TFRecord: context feature holding the video id.") public var idKey = "id"
    @Option(help: "TFRecord: feature holding the labels ('' for none).") public var labelsKey = "labels"
    @Option(help: "TFRecord: visual feature (default rgb, or mean_rgb at video level).") public var visualKey: String?
    @Option(help: "TFRecord: audio feature ('' for none; default audio, or mean_audio at video level).") public var audioKey: String?
    @Option(help: "TFRecord: visual values per frame (per video at video level).") public var visualSize = 1024
    @Option(help: "TFRecord: audio values per frame (per video at video level).") public var audioSize = 128
    @Option(help: "TFRecord: dequantisation minimum of the uint8 frame features.") public var quantizeMin: Float = -2
    @Option(help: "TFRecord: dequantisation maximum of the uint8 frame features.") public var quantizeMax: Float = 2
    @Option(help: "TFRecord: frame-level decoder, direct (fast wire walk) or protobuf (swift-protobuf).")
    public var decoder: TFRecordDecoderKind = .direct
    @Flag(help: "TFRecord: count and skip damaged records instead of stopping at the first.") public var skipCorrupt = false
    @Option(name: .customLong("level"), help: .hidden) var oldLayout: YouTube8MLayout.Level?

    public init() {}

    public mutating func validate() throws {
        try OldSpelling.fold(oldLayout, "--level", into: &layout, "--layout", default: .frame)
        guard numClasses >= 1 else { throw ValidationError("--num-classes must be at least 1, found \(numClasses)") }
        guard visualSize >= 1, audioSize >= 0 else {
            throw ValidationError("--visual-size must be at least 1 and --audio-size at least 0, found \(visualSize) and \(audioSize)")
        }
        guard quantizeMin < quantizeMax else {
            throw ValidationError("--quantize-min must be below --quantize-max, found \(quantizeMin) and \(quantizeMax)")
        }
    }

    public var isGiven: Bool { !tfrecord.isEmpty }

    /// The shards (globs and @lists expanded) and how to read them.
    public func input() throws -> TFRecordInput {
        let layout = try YouTube8MLayout.make(level: self.layout, idKey: idKey, labelsKey: labelsKey, visualKey: visualKey,
                                              audioKey: audioKey, visualDimension: visualSize, audioDimension: audioSize,
                                              numClasses: numClasses, quantizeMin: quantizeMin, quantizeMax: quantizeMax)
        return TFRecordInput(shards: try TFRecordShards.expand(tfrecord), level: self.layout, layout: layout,
                             skipCorrupt: skipCorrupt, decoder: decoder)
    }
}

/// Where extract-pca's frames come from: a frame source (frames.h5 or frame-level
/// records), or video-level records that are written as they are.
public enum FrameInput {
    case frames(FrameSource, inputs: [String])
    case videoLevel(TFRecordInput)

    /// A note for the summary when damaged records were skipped.
    public var skippedNote: String? {
        guard case .frames(let source as TFRecordFrameSource, _) = self, source.skippedRecords > 0 else { return nil }
        return "skipped damaged TFRecord records: \(source.skippedRecords) (--skip-corrupt)"
    }
}

extension TFRecordOptions {
    /// `--frames FILE`, or the shards of this block; under several ranks this rank's share: frames.h5
    /// rows in whole fitting-statistics blocks balanced by frames (reading is the cost, and videos differ
    /// in length), or whole shards in order, so the ranks' rows concatenate to the one-process order (video-level records are not split).
    public func frameInput(frames: String?, communicator: Communicator = .serial) throws -> FrameInput {
        if let frames {
            // Whole statistics blocks per rank (balanced by frames), the blocks one process keeps too.
            let source = try FramesFile(path: frames) { offsets in
                let blocks = FeatureExtraction.statisticsBlocks(frameOffsets: offsets, ranks: communicator.size)
                guard communicator.isLaunched else { return (nil, blocks) }
                let mine = communicator.share(of: blocks.count)
                return (blocks[mine.lowerBound].lowerBound..<blocks[mine.upperBound - 1].upperBound, blocks)
            }
            return .frames(source, inputs: [frames])
        }
        var records = try input()
        guard records.level == .frame else { return .videoLevel(records) }
        let all = records.shards
        if communicator.isLaunched { records.shards = Array(all[communicator.share(of: all.count)]) }
        return .frames(records.frameSource, inputs: all)
    }
}

extension FrameInput {
    /// The TFRecord shards this input reads, as the publication's `--tfrecord` inputs (none for frames.h5).
    public func recordInputs(frames: String?) -> [(String, String?)] {
        switch self {
        case .videoLevel(let records): return records.shards.map { ("--tfrecord", $0) }
        case .frames(_, let inputs): return frames == nil ? inputs.map { ("--tfrecord", $0) } : []
        }
    }
}
