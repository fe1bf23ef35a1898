import Contracts
import Foundation
import Support
import SwiftProtobuf

/// Where YouTube-8M (or any corpus of the same shape) keeps its values inside
/// a tf.train record. Frame level: a SequenceExample whose context holds the
/// video id (bytes) and labels (int64 list), and whose feature lists hold one
/// bytes value per frame per modality (uint8-quantised). Video level: an
/// Example with id, labels and one float list per modality.
public struct YouTube8MLayout: Sendable, Equatable {
    public var idKey: String
    /// Empty when the records carry no labels.
    public var labelsKey: String
    public var visualKey: String
    /// Empty when there is no audio.
    public var audioKey: String
    public var visualDimension: Int
    public var audioDimension: Int
    /// Labels must lie in 0..<numClasses (3862 for the 2018 release).
    public var numClasses: Int
    /// Dequantisation range of the uint8 frame features (starter code: -2 … 2).
    public var quantizeMin: Float
    public var quantizeMax: Float

    public init(idKey: String = "id", labelsKey: String = "labels", visualKey: String, audioKey: String,
                visualDimension: Int, audioDimension: Int, numClasses: Int = 3862,
                quantizeMin: Float = -2, quantizeMax: Float = 2) {
        self.idKey = idKey
        self.labelsKey = labelsKey
        self.visualKey = visualKey
        self.audioKey = audioKey
        self.visualDimension = visualDimension
        self.audioDimension = audioKey.isEmpty ? 0 : audioDimension
        self.numClasses = numClasses
        self.quantizeMin = quantizeMin
        self.quantizeMax = quantizeMax
    }

    /// YouTube-8M frame-level shards: rgb 1024 and audio 128 bytes per frame.
    public static let frameLevel = YouTube8MLayout(visualKey: "rgb", audioKey: "audio", visualDimension: 1024, audioDimension: 128)
    /// YouTube-8M video-level shards: mean_rgb 1024 and mean_audio 128 floats.
    public static let videoLevel = YouTube8MLayout(visualKey: "mean_rgb", audioKey: "mean_audio", visualDimension: 1024, audioDimension: 128)

    public var hasLabels: Bool { !labelsKey.isEmpty }
    public var hasAudio: Bool { !audioKey.isEmpty }
}

/// Which decoder turns record payloads into values. `protobuf` is swift-protobuf
/// over the generated tf.train types (the decoder of record); `direct` walks the
/// wire format in place without building messages (several times faster, the
/// default for frame-level reads; the tests check both agree value for value).
public enum TFRecordDecoderKind: String, CaseIterable, Sendable {
    case direct, protobuf
}

/// One frame-level video, still quantised: reused across records to avoid allocation.
public struct FrameLevelRecord: Equatable {
    public var id = ""
    public var labels: [Int32] = []
    public var frameCount = 0
    /// frameCount × visualDimension bytes, row-major.
    public var visual: [UInt8] = []
    /// frameCount × audioDimension bytes (empty without audio).
    public var audio: [UInt8] = []

    public init() {}

    mutating func reset() {
        id = ""
        labels.removeAll(keepingCapacity: true)
        frameCount = 0
        visual.removeAll(keepingCapacity: true)
        audio.removeAll(keepingCapacity: true)
    }
}

/// A problem inside one record's payload (its caller adds file and offset).
struct RecordProblem: Error {
    let expected: String
    let found: String
}

/// Decodes frame-level SequenceExample payloads into a FrameLevelRecord.
public struct FrameLevelDecoder {
    public let layout: YouTube8MLayout
    public let kind: TFRecordDecoderKind
    private let idKey: [UInt8], labelsKey: [UInt8], visualKey: [UInt8], audioKey: [UInt8]

    public init(layout: YouTube8MLayout = .frameLevel, kind: TFRecordDecoderKind = .direct) {
        self.layout = layout
        self.kind = kind
        idKey = Array(layout.idKey.utf8)
        labelsKey = Array(layout.labelsKey.utf8)
        visualKey = Array(layout.visualKey.utf8)
        audioKey = Array(layout.audioKey.utf8)
    }

    /// Decodes `payload` into `record`; errors name `file` and `offset`.
    public func decode(_ payload: UnsafeRawBufferPointer, into record: inout FrameLevelRecord, file: String, offset: Int) throws {
        record.reset()
        do {
            switch kind {
            case .direct: try decodeDirect(payload, into: &record)
            case .protobuf: try decodeProtobuf(payload, into: &record)
            }
            try check(&record)
        } catch let problem as RecordProblem {
            throw GCMLError(file: file, object: location(offset, record.id), expected: problem.expected, found: problem.found)
        } catch let wire as WireError {
            throw GCMLError(file: file, object: location(offset, record.id), expected: "a tf.train.SequenceExample",
                            found: "malformed protobuf: \(wire.reason)")
        } catch let error as BinaryDecodingError {
            throw GCMLError(file: file, object: location(offset, record.id), expected: "a tf.train.SequenceExample",
                            found: "malformed protobuf (\(error))")
        }
    }

    private func check(_ record: inout FrameLevelRecord) throws {
        let dv = layout.visualDimension, da = layout.audioDimension
        record.frameCount = dv > 0 ? record.visual.count / dv : 0
        if layout.hasAudio, record.audio.count != record.frameCount * da {
            throw RecordProblem(expected: "feature list '\(layout.audioKey)' with one value per '\(layout.visualKey)' frame (\(record.frameCount))",
                                found: "\(record.audio.count / max(da, 1)) frames")
        }
    }

    // MARK: swift-protobuf (decoder of record)

    private func decodeProtobuf(_ payload: UnsafeRawBufferPointer, into record: inout FrameLevelRecord) throws {
        let example = try Tensorflow_SequenceExample(serializedBytes: Data(payload))
        let context = example.context.feature
        record.id = try ProtobufFields.id(context[layout.idKey], key: layout.idKey)
        if layout.hasLabels {
            record.labels = try ProtobufFields.labels(context[layout.labelsKey], key: layout.labelsKey, numClasses: layout.numClasses)
        }
        let lists = example.featureLists.featureList
        guard let visual = lists[layout.visualKey] else {
            throw RecordProblem(expected: "feature list '\(layout.visualKey)'", found: "none (lists: \(lists.keys.sorted().joined(separator: ", ")))")
        }
        try ProtobufFields.frames(visual, key: layout.visualKey, dimension: layout.visualDimension, into: &record.visual)
        if layout.hasAudio {
            guard let audio = lists[layout.audioKey] else {
                throw RecordProblem(expected: "feature list '\(layout.audioKey)'", found: "none (lists: \(lists.keys.sorted().joined(separator: ", ")))")
            }
            try ProtobufFields.frames(audio, key: layout.audioKey, dimension: layout.audioDimension, into: &record.audio)
        }
    }

    // MARK: direct wire-format walk (hot path)

    private func decodeDirect(_ payload: UnsafeRawBufferPointer, into record: inout FrameLevelRecord) throws {
        var sawID = false, sawLabels = false, sawVisual = false, sawAudio = false
        var top = WireCursor(payload)
        while let (field, wire) = try top.tag() {
            guard wire == 2, field == 1 || field == 2 else { try top.skip(wire: wire); continue }
            var map = WireCursor(try top.lengthDelimited())       // Features (1) or FeatureLists (2)
            while let (entryField, entryWire) = try map.tag() {
                guard entryField == 1, entryWire == 2 else { try map.skip(wire: entryWire); continue }
                let (key, value) = try mapEntry(try map.lengthDelimited())
                if field == 1 {
                    if key.equals(idKey) {
                        record.id = try directID(value)
                        sawID = true
                    } else if layout.hasLabels, key.equals(labelsKey) {
                        record.labels.removeAll(keepingCapacity: true)
                        try directLabels(value, into: &record.labels)
                        sawLabels = true
                    }
                } else if key.equals(visualKey) {
                    record.visual.removeAll(keepingCapacity: true)    // a repeated key: the last one wins, as in protobuf
                    try directFrames(value, key: layout.visualKey, dimension: layout.visualDimension, into: &record.visual)
                    sawVisual = true
                } else if layout.hasAudio, key.equals(audioKey) {
                    record.audio.removeAll(keepingCapacity: true)
                    try directFrames(value, key: layout.audioKey, dimension: layout.audioDimension, into: &record.audio)
                    sawAudio = true
                }
            }
        }
        if !sawID { throw RecordProblem(expected: "context feature '\(layout.idKey)' (video id)", found: "none") }
        if layout.hasLabels, !sawLabels { throw RecordProblem(expected: "context feature '\(layout.labelsKey)'", found: "none") }
        if !sawVisual { throw RecordProblem(expected: "feature list '\(layout.visualKey)'", found: "none") }
        if layout.hasAudio, !sawAudio { throw RecordProblem(expected: "feature list '\(layout.audioKey)'", found: "none") }
    }

    /// A map entry: key (field 1, string) and value (field 2, message), in either order.
    private func mapEntry(_ bytes: UnsafeRawBufferPointer) throws -> (UnsafeRawBufferPointer, UnsafeRawBufferPointer) {
        var entry = WireCursor(bytes)
        var key = UnsafeRawBufferPointer(start: nil, count: 0), value = key
        while let (field, wire) = try entry.tag() {
            if wire == 2, field == 1 { key = try entry.lengthDelimited() }
            else if wire == 2, field == 2 { value = try entry.lengthDelimited() }
            else { try entry.skip(wire: wire) }
        }
        return (key, value)
    }

    /// The single bytes value of a Feature's bytes_list (field 1); nil when the Feature holds another kind.
    private func bytesValues(_ feature: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        var cursor = WireCursor(feature)
        var sawBytesList = false
        while let (field, wire) = try cursor.tag() {
            guard wire == 2, field == 1 else {
                if wire == 2, field == 2 || field == 3 { throw KindMismatch(kind: field == 2 ? "float_list" : "int64_list") }
                try cursor.skip(wire: wire)
                continue
            }
            sawBytesList = true
            var list = WireCursor(try cursor.lengthDelimited())
            while let (f, w) = try list.tag() {
                if f == 1, w == 2 { try body(try list.lengthDelimited()) } else { try list.skip(wire: w) }
            }
        }
        return sawBytesList
    }

    private struct KindMismatch: Error { let kind: String }

    private func directID(_ feature: UnsafeRawBufferPointer) throws -> String {
        var values: [String] = []
        do {
            _ = try bytesValues(feature) { values.append(String(decoding: $0, as: UTF8.self)) }
        } catch let mismatch as KindMismatch {
            throw RecordProblem(expected: "context feature '\(layout.idKey)' as a bytes_list", found: "a \(mismatch.kind)")
        }
        guard values.count == 1 else {
            throw RecordProblem(expected: "one value in context feature '\(layout.idKey)'", found: "\(values.count)")
        }
        return values[0]
    }

    private func directLabels(_ feature: UnsafeRawBufferPointer, into labels: inout [Int32]) throws {
        var cursor = WireCursor(feature)
        while let (field, wire) = try cursor.tag() {
            guard wire == 2, field == 3 else {
                if wire == 2, field == 1 || field == 2 {
                    throw RecordProblem(expected: "context feature '\(layout.labelsKey)' as an int64_list",
                                        found: "a \(field == 1 ? "bytes_list" : "float_list")")
                }
                try cursor.skip(wire: wire)
                continue
            }
            var list = WireCursor(try cursor.lengthDelimited())
            while let (f, w) = try list.tag() {
                if f == 1, w == 2 {                       // packed (what every writer emits)
                    var packed = WireCursor(try list.lengthDelimited())
                    while !packed.isAtEnd { labels.append(try label(Int64(bitPattern: try packed.varint()))) }
                } else if f == 1, w == 0 {                // unpacked, also valid protobuf
                    labels.append(try label(Int64(bitPattern: try list.varint())))
                } else {
                    try list.skip(wire: w)
                }
            }
        }
    }

    @inline(__always)
    private func label(_ value: Int64) throws -> Int32 {
        guard value >= 0, value < Int64(layout.numClasses) else {
            throw RecordProblem(expected: "labels in 0..<\(layout.numClasses) (the number of classes)", found: "label \(value)")
        }
        return Int32(value)
    }

    private func directFrames(_ featureList: UnsafeRawBufferPointer, key: String, dimension: Int, into output: inout [UInt8]) throws {
        var list = WireCursor(featureList)
        var frame = 0
        while let (field, wire) = try list.tag() {
            guard field == 1, wire == 2 else { try list.skip(wire: wire); continue }
            let feature = try list.lengthDelimited()
            var values = 0
            do {
                _ = try bytesValues(feature) { bytes in
                    values += 1
                    guard bytes.count == dimension else {
                        throw RecordProblem(expected: "\(dimension) bytes per frame in feature list '\(key)'",
                                            found: "\(bytes.count) bytes in frame \(frame)")
                    }
                    output.append(contentsOf: bytes)
                }
            } catch let mismatch as KindMismatch {
                throw RecordProblem(expected: "a bytes_list (uint8-quantised values) per frame in feature list '\(key)'",
                                    found: "a \(mismatch.kind) in frame \(frame)")
            }
            guard values == 1 else {
                throw RecordProblem(expected: "one bytes value per frame in feature list '\(key)'", found: "\(values) in frame \(frame)")
            }
            frame += 1
        }
    }
}

func location(_ offset: Int, _ id: String) -> String {
    "TFRecord record at byte offset \(offset)" + (id.isEmpty ? "" : " (video '\(id)')")
}

/// Reading values out of generated tf.train messages (the swift-protobuf path).
enum ProtobufFields {
    static func id(_ feature: Tensorflow_Feature?, key: String) throws -> String {
        guard let feature else { throw RecordProblem(expected: "context feature '\(key)' (video id)", found: "none") }
        guard case .bytesList(let list)? = feature.kind else {
            throw RecordProblem(expected: "context feature '\(key)' as a bytes_list", found: kindName(feature))
        }
        guard list.value.count == 1 else {
            throw RecordProblem(expected: "one value in context feature '\(key)'", found: "\(list.value.count)")
        }
        return String(decoding: list.value[0], as: UTF8.self)
    }

    static func labels(_ feature: Tensorflow_Feature?, key: String, numClasses: Int) throws -> [Int32] {
        guard let feature else { throw RecordProblem(expected: "context feature '\(key)'", found: "none") }
        switch feature.kind {
        case .int64List(let list)?:
            return try list.value.map { value in
                guard value >= 0, value < Int64(numClasses) else {
                    throw RecordProblem(expected: "labels in 0..<\(numClasses) (the number of classes)", found: "label \(value)")
                }
                return Int32(value)
            }
        case nil:
            return []      // an empty Feature: no labels
        default:
            throw RecordProblem(expected: "context feature '\(key)' as an int64_list", found: kindName(feature))
        }
    }

    static func frames(_ list: Tensorflow_FeatureList, key: String, dimension: Int, into output: inout [UInt8]) throws {
        output.reserveCapacity(list.feature.count * dimension)
        for (frame, feature) in list.feature.enumerated() {
            guard case .bytesList(let bytes)? = feature.kind else {
                throw RecordProblem(expected: "a bytes_list (uint8-quantised values) per frame in feature list '\(key)'",
                                    found: "\(kindName(feature)) in frame \(frame)")
            }
            guard bytes.value.count == 1 else {
                throw RecordProblem(expected: "one bytes value per frame in feature list '\(key)'", found: "\(bytes.value.count) in frame \(frame)")
            }
            guard bytes.value[0].count == dimension else {
                throw RecordProblem(expected: "\(dimension) bytes per frame in feature list '\(key)'",
                                    found: "\(bytes.value[0].count) bytes in frame \(frame)")
            }
            output.append(contentsOf: bytes.value[0])
        }
    }

    static func floats(_ feature: Tensorflow_Feature?, key: String, dimension: Int) throws -> [Float] {
        guard let feature else { throw RecordProblem(expected: "feature '\(key)'", found: "none") }
        guard case .floatList(let list)? = feature.kind else {
            throw RecordProblem(expected: "feature '\(key)' as a float_list", found: kindName(feature))
        }
        guard list.value.count == dimension else {
            throw RecordProblem(expected: "\(dimension) floats in feature '\(key)'", found: "\(list.value.count)")
        }
        return list.value
    }

    static func kindName(_ feature: Tensorflow_Feature) -> String {
        switch feature.kind {
        case .bytesList?: return "a bytes_list"
        case .floatList?: return "a float_list"
        case .int64List?: return "an int64_list"
        case nil: return "an empty feature"
        }
    }
}

/// Frame-level TFRecord shards as a FrameSource: extract-pca reads them exactly
/// as it reads frames.h5 (two passes: `rewind` re-reads the shards).
public final class TFRecordFrameSource: FrameSource {
    public let shards: [String]
    public let layout: YouTube8MLayout
    public let stream: TFRecordStream
    private let decoder: FrameLevelDecoder
    private let quantization: Quantization
    private var record = FrameLevelRecord()
    private var seen = VideoIDsSeen()

    /// - Parameters:
    ///   - shards: shard files (see `TFRecordShards.expand` for globs and list files).
    ///   - skipCorrupt: count and skip damaged records instead of stopping.
    public init(shards: [String], layout: YouTube8MLayout = .frameLevel, skipCorrupt: Bool = false,
                decoder: TFRecordDecoderKind = .direct) {
        self.shards = shards
        self.layout = layout
        stream = TFRecordStream(shards: shards, skipCorrupt: skipCorrupt)
        self.decoder = FrameLevelDecoder(layout: layout, kind: decoder)
        quantization = Quantization(minimum: Double(layout.quantizeMin), maximum: Double(layout.quantizeMax))
    }

    /// Expands `specs` (globs, paths, `@list` files) and opens the shards.
    public convenience init(specs: [String], layout: YouTube8MLayout = .frameLevel, skipCorrupt: Bool = false,
                            decoder: TFRecordDecoderKind = .direct) throws {
        self.init(shards: try TFRecordShards.expand(specs), layout: layout, skipCorrupt: skipCorrupt, decoder: decoder)
    }

    public var description: String {
        shards.count == 1 ? shards[0] : shards.isEmpty ? "no TFRecord shards" : "\(shards.count) TFRecord shards (\(shards[0]) …)"
    }
    public var visualDimension: Int { layout.visualDimension }
    public var audioDimension: Int { layout.audioDimension }
    public var numClasses: Int? { layout.hasLabels ? layout.numClasses : nil }
    public var labelNames: [String]? { nil }
    public var videoCountHint: Int? { nil }
    public var visualQuantization: Quantization? { quantization }
    public var audioQuantization: Quantization? { layout.audioDimension > 0 ? quantization : nil }
    /// Damaged records skipped in the current pass (with `skipCorrupt`).
    public var skippedRecords: Int { stream.skipped.count }

    public func rewind() throws {
        stream.rewind()
        seen.removeAll()
    }

    /// The next video's quantised bytes (no dequantisation), for converters that keep uint8.
    /// A video id read before in this pass is an error naming both records.
    public func nextRecord() throws -> FrameLevelRecord? {
        guard let (payload, file, offset) = try stream.next() else { return nil }
        try decoder.decode(payload, into: &record, file: file, offset: offset)
        try seen.insert(record.id, readFrom: stream)
        return record
    }

    public func next() throws -> VideoFrames? {
        guard try nextRecord() != nil else { return nil }
        // Refill the same float buffers: when the caller has let go of the previous
        // video they are uniquely referenced again, so no allocation per video.
        fill(&visualFloats, from: record.visual)
        fill(&audioFloats, from: record.audio)
        return VideoFrames(id: record.id, frameCount: record.frameCount, visual: visualFloats, audio: audioFloats, labels: record.labels,
                           visualCodes: record.visual, audioCodes: layout.audioDimension > 0 ? record.audio : nil)
    }

    private var visualFloats: [Float] = []
    private var audioFloats: [Float] = []

    private func fill(_ output: inout [Float], from bytes: [UInt8]) {
        if output.count > bytes.count {
            output.removeLast(output.count - bytes.count)
        } else if output.count < bytes.count {
            output.append(contentsOf: repeatElement(0, count: bytes.count - output.count))
        }
        output.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { input in
                guard let source = input.baseAddress, let target = out.baseAddress else { return }   // no frames
                quantization.dequantize(source, count: input.count, into: target)
            }
        }
    }
}

/// One video-level record: the per-video mean vectors Google computed.
public struct VideoLevelRecord: Equatable {
    public var id: String
    public var labels: [Int32]
    public var visual: [Float]
    public var audio: [Float]
}

/// Video-level tf.train.Example shards, decoded with swift-protobuf.
public final class TFRecordVideoSource {
    public let shards: [String]
    public let layout: YouTube8MLayout
    public let stream: TFRecordStream

    public init(shards: [String], layout: YouTube8MLayout = .videoLevel, skipCorrupt: Bool = false) {
        self.shards = shards
        self.layout = layout
        stream = TFRecordStream(shards: shards, skipCorrupt: skipCorrupt)
    }

    private var seen = VideoIDsSeen()

    public func rewind() {
        stream.rewind()
        seen.removeAll()
    }

    /// The next record; a video id read before in this pass is an error naming both records.
    public func next() throws -> VideoLevelRecord? {
        guard let record = try decodeNext() else { return nil }
        try seen.insert(record.id, readFrom: stream)
        return record
    }

    private func decodeNext() throws -> VideoLevelRecord? {
        guard let (payload, file, offset) = try stream.next() else { return nil }
        var id = ""
        do {
            let example = try Tensorflow_Example(serializedBytes: Data(payload))
            let features = example.features.feature
            id = try ProtobufFields.id(features[layout.idKey], key: layout.idKey)
            let labels = layout.hasLabels
                ? try ProtobufFields.labels(features[layout.labelsKey], key: layout.labelsKey, numClasses: layout.numClasses) : []
            let visual = try ProtobufFields.floats(features[layout.visualKey], key: layout.visualKey, dimension: layout.visualDimension)
            let audio = layout.hasAudio
                ? try ProtobufFields.floats(features[layout.audioKey], key: layout.audioKey, dimension: layout.audioDimension) : []
            return VideoLevelRecord(id: id, labels: labels, visual: visual, audio: audio)
        } catch let problem as RecordProblem {
            throw GCMLError(file: file, object: location(offset, id), expected: problem.expected, found: problem.found)
        } catch let error as BinaryDecodingError {
            throw GCMLError(file: file, object: location(offset, id), expected: "a tf.train.Example", found: "malformed protobuf (\(error))")
        }
    }
}

extension YouTube8MLayout {
    /// Frame-level (SequenceExample, uint8 per frame) or video-level (Example, float lists).
    public enum Level: String, CaseIterable, Sendable {
        case frame, video
    }

    /// The YouTube-8M layout of `level` with any of its names and sizes overridden
    /// (nil keeps the default; an empty labels or audio key means "none").
    public static func make(level: Level, idKey: String? = nil, labelsKey: String? = nil, visualKey: String? = nil,
                            audioKey: String? = nil, visualDimension: Int? = nil, audioDimension: Int? = nil,
                            numClasses: Int? = nil, quantizeMin: Float? = nil, quantizeMax: Float? = nil) throws -> YouTube8MLayout {
        let base: YouTube8MLayout = level == .frame ? .frameLevel : .videoLevel
        let layout = YouTube8MLayout(idKey: idKey ?? base.idKey, labelsKey: labelsKey ?? base.labelsKey,
                                     visualKey: visualKey ?? base.visualKey, audioKey: audioKey ?? base.audioKey,
                                     visualDimension: visualDimension ?? base.visualDimension,
                                     audioDimension: audioDimension ?? base.audioDimension,
                                     numClasses: numClasses ?? base.numClasses,
                                     quantizeMin: quantizeMin ?? base.quantizeMin, quantizeMax: quantizeMax ?? base.quantizeMax)
        guard layout.visualDimension > 0, layout.audioDimension >= 0 else {
            throw GCMLError("feature sizes: expected a visual size > 0 and an audio size >= 0, found \(layout.visualDimension) and \(layout.audioDimension)")
        }
        guard layout.numClasses > 0, layout.numClasses <= Int(Int32.max) else {
            throw GCMLError(parameter: "numClasses", expected: "a positive number", found: "\(layout.numClasses)")
        }
        guard layout.quantizeMax > layout.quantizeMin else {
            throw GCMLError("quantisation range: expected max > min, found min \(layout.quantizeMin), max \(layout.quantizeMax)")
        }
        guard !layout.idKey.isEmpty, !layout.visualKey.isEmpty else {
            throw GCMLError("feature names: expected a non-empty id key and visual key")
        }
        return layout
    }
}
