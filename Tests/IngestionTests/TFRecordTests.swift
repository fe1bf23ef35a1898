import Artifacts
import Contracts
import Foundation
import Ingestion
import Support
import XCTest

/// Fixture shards come from tests/fixtures/make_tfrecords.py, an independent
/// writer (Python `protobuf` + PyPI CRC-32C), with the values it wrote dumped
/// to expected.json; decoded values are compared with those element by element.
enum TFRecordFixtures {
    struct Record {
        var id: String
        var labels: [Int32]
        var offset: Int
        var length: Int
        var frames: Int
        var visualBytes: [UInt8]
        var audioBytes: [UInt8]
        var visual: [Float]
        var audio: [Float]
    }
    struct Shard {
        var path: String
        var records: [Record]
    }
    struct Set {
        var folder: String
        var frame: [Shard]
        var custom: [Shard]
        var video: [Shard]
    }

    nonisolated(unsafe) private static var cached: Result<Set, Error>?

    static func load() throws -> Set {
        if cached == nil { cached = Result { try make() } }
        return try cached!.get()
    }

    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    private static func make() throws -> Set {
        let importCheck = "import google.protobuf\ntry:\n    import crc32c\nexcept ImportError:\n    import google_crc32c"
        if try run("python3", ["-c", importCheck]).status != 0 {
            _ = try? run("python3", ["-m", "pip", "install", "-q", "--disable-pip-version-check", "--root-user-action=ignore", "protobuf", "crc32c"])
            let again = try run("python3", ["-c", importCheck])
            if again.status != 0 {
                throw FixtureUnavailable(reason: "python3 with the PyPI packages protobuf and crc32c is needed to write the fixture shards "
                                         + "(pip install protobuf crc32c failed): \(again.err)")
            }
        }
        let folder = NSTemporaryDirectory() + "gcml-tfrecord-\(UUID().uuidString)"
        let script = repository.appendingPathComponent("tests/fixtures/make_tfrecords.py").path
        let made = try run("python3", [script, folder, "--seed", "11"])
        guard made.status == 0 else { throw GCMLError("make_tfrecords.py failed: \(made.err)") }
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/expected.json"))
        guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw GCMLError("expected.json: not an object") }
        func shards(_ key: String) -> [Shard] {
            ((json[key] as? [[String: Any]]) ?? []).map { shard in
                Shard(path: shard["path"] as! String, records: (shard["records"] as! [[String: Any]]).map(record))
            }
        }
        return Set(folder: folder, frame: shards("frame"), custom: shards("custom"), video: shards("video"))
    }

    private static func record(_ r: [String: Any]) -> Record {
        func floats(_ key: String) -> [Float] {
            if let rows = r[key] as? [[Double]] { return rows.flatMap { $0.map(Float.init) } }
            return ((r[key] as? [Double]) ?? []).map(Float.init)
        }
        func bytes(_ key: String) -> [UInt8] {
            ((r[key] as? [String]) ?? []).flatMap { hex in
                stride(from: 0, to: hex.count, by: 2).map { i -> UInt8 in
                    let start = hex.index(hex.startIndex, offsetBy: i)
                    return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
                }
            }
        }
        return Record(id: r["id"] as! String, labels: (r["labels"] as! [Int]).map(Int32.init), offset: r["offset"] as! Int,
                      length: r["length"] as! Int, frames: (r["frames"] as? Int) ?? 0, visualBytes: bytes("visual_hex"),
                      audioBytes: bytes("audio_hex"), visual: floats("visual"), audio: floats("audio"))
    }

    struct FixtureUnavailable: Error { let reason: String }

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: errData, as: UTF8.self))
    }
}

final class TFRecordTests: XCTestCase {
    var fixtures: TFRecordFixtures.Set!
    var scratch: String!

    override func setUpWithError() throws {
        do {
            fixtures = try TFRecordFixtures.load()
        } catch let unavailable as TFRecordFixtures.FixtureUnavailable {
            if ProcessInfo.processInfo.environment["GCML_REQUIRE_PYTHON"] != nil { XCTFail(unavailable.reason) }
            throw XCTSkip(unavailable.reason)
        }
        scratch = NSTemporaryDirectory() + "gcml-tfrecord-scratch-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let scratch { try? FileManager.default.removeItem(atPath: scratch) }
    }

    // MARK: framing

    func testCRC32CMatchesTheStandardCheckValues() {
        // RFC 3720 / iSCSI check value of "123456789", and the empty string.
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([]), 0)
        // 32 zero bytes and 32 0xFF bytes: RFC 3720 appendix B.4 test vectors.
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum(Array(0..<32)), 0x46DD_794E)
        // Masking by hand: rotr(0xE3069283, 15) = 0x2507_C60D, + 0xA282EAD8 (mod 2^32) = 0xC78A_B0E5.
        XCTAssertEqual(CRC32C.masked(0xE306_9283), 0xC78A_B0E5)
    }

    func testRecordsAndOffsetsMatchTheWriter() throws {
        for shard in fixtures.frame + fixtures.video {
            let reader = try TFRecordReader(path: shard.path, bufferSize: 64)   // tiny buffer: records span refills
            var index = 0
            while case .record(let payload, let offset) = try reader.read() {
                XCTAssertEqual(offset, shard.records[index].offset)
                XCTAssertEqual(payload.count, shard.records[index].length)
                index += 1
            }
            XCTAssertEqual(index, shard.records.count, shard.path)
        }
    }

    // MARK: frame level

    func testFrameLevelValuesMatchTheWriterElementByElement() throws {
        let expected = fixtures.frame.flatMap(\.records)
        XCTAssertTrue(expected.contains { $0.frames == 1 } && expected.contains { $0.labels.isEmpty }, "fixtures cover edge cases")
        for kind in TFRecordDecoderKind.allCases {
            let source = try TFRecordFrameSource(specs: [fixtures.folder + "/frame/*.tfrecord"], decoder: kind)
            XCTAssertEqual(source.shards.count, 3)
            XCTAssertEqual(source.visualDimension, 1024)
            XCTAssertEqual(source.audioDimension, 128)
            XCTAssertEqual(source.numClasses, 3862)
            var count = 0
            while let video = try source.next() {
                let want = expected[count]
                XCTAssertEqual(video.id, want.id, "\(kind)")
                XCTAssertEqual(video.labels, want.labels, "\(kind) \(want.id)")
                XCTAssertEqual(video.frameCount, want.frames, "\(kind) \(want.id)")
                XCTAssertEqual(video.visual.count, want.visual.count)
                XCTAssertEqual(video.audio.count, want.audio.count)
                XCTAssertTrue(video.visual == want.visual, "\(kind) \(want.id): visual differs at \(firstDifference(video.visual, want.visual))")
                XCTAssertTrue(video.audio == want.audio, "\(kind) \(want.id): audio differs at \(firstDifference(video.audio, want.audio))")
                count += 1
            }
            XCTAssertEqual(count, expected.count, "\(kind)")
        }
    }

    func testQuantisedBytesAreKeptExactly() throws {
        let expected = fixtures.frame.flatMap(\.records)
        let source = TFRecordFrameSource(shards: fixtures.frame.map(\.path))
        for want in expected {
            let record = try XCTUnwrap(source.nextRecord())
            XCTAssertEqual(record.visual, want.visualBytes)
            XCTAssertEqual(record.audio, want.audioBytes)
        }
        XCTAssertNil(try source.nextRecord())
    }

    /// The videos carry the byte codes their floats were dequantised from (extract-pca's exact statistics).
    func testVideosCarryTheirByteCodes() throws {
        let expected = fixtures.frame.flatMap(\.records)
        let source = TFRecordFrameSource(shards: fixtures.frame.map(\.path))
        let quantization = Quantization(minimum: -2, maximum: 2)
        XCTAssertEqual(source.visualQuantization, quantization)
        XCTAssertEqual(source.audioQuantization, quantization)
        for want in expected {
            let video = try XCTUnwrap(source.next())
            XCTAssertEqual(video.visualCodes, want.visualBytes, want.id)
            XCTAssertEqual(video.audioCodes, want.audioBytes, want.id)
            XCTAssertEqual(video.visual, want.visualBytes.map { quantization.table[Int($0)] }, want.id)
        }
        XCTAssertNil(try source.next())
    }

    func testDequantisationFollowsTheStarterCode() {
        // Starter code: x * (max-min)/255 + (max-min)/512 + min with max 2, min -2.
        let table = Quantization(minimum: -2, maximum: 2).table
        XCTAssertEqual(table[0], Float(4.0 / 512.0 - 2.0), accuracy: 1e-6)
        XCTAssertEqual(table[255], Float(2.0 + 4.0 / 512.0), accuracy: 1e-6)
        XCTAssertEqual(table[128], Float(128.0 * 4.0 / 255.0 + 4.0 / 512.0 - 2.0), accuracy: 1e-6)
    }

    func testOtherNamesAndSizesThroughOptions() throws {
        let layout = try YouTube8MLayout.make(level: .frame, idKey: "video_key", labelsKey: "classes", visualKey: "frame_visual",
                                              audioKey: "frame_sound", visualDimension: 12, audioDimension: 4, numClasses: 10)
        for kind in TFRecordDecoderKind.allCases {
            let source = TFRecordFrameSource(shards: fixtures.custom.map(\.path), layout: layout, decoder: kind)
            try assertYields(fixtures.custom.flatMap(\.records)) { try source.next().map { ($0.id, $0.labels, $0.visual, $0.audio) } }
        }
    }

    func testWrongSizeOrMissingListNamesRecordAndVideo() throws {
        let shard = fixtures.frame[0]
        for kind in TFRecordDecoderKind.allCases {
            let wrongSize = try YouTube8MLayout.make(level: .frame, visualDimension: 1000)
            XCTAssertThrowsError(try TFRecordFrameSource(shards: [shard.path], layout: wrongSize, decoder: kind).next()) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(shard.path) && message.contains("byte offset 0") && message.contains("1000 bytes per frame"), message)
            }
            let missing = try YouTube8MLayout.make(level: .frame, audioKey: "sound")
            XCTAssertThrowsError(try TFRecordFrameSource(shards: [shard.path], layout: missing, decoder: kind).next()) { error in
                XCTAssertTrue("\(error)".contains("feature list 'sound'"), "\(error)")
            }
            let fewClasses = try YouTube8MLayout.make(level: .frame, numClasses: 5)
            XCTAssertThrowsError(try TFRecordFrameSource(shards: [shard.path], layout: fewClasses, decoder: kind).next()) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains("video '\(shard.records[0].id)'") && message.contains("labels in 0..<5"), message)
            }
        }
    }

    func testRewindReadsTheSameVideosAgain() throws {
        let source = TFRecordFrameSource(shards: fixtures.frame.map(\.path))
        var first: [String] = [], second: [String] = []
        while let v = try source.next() { first.append(v.id) }
        try source.rewind()
        while let v = try source.next() { second.append(v.id) }
        XCTAssertEqual(first, second)
        XCTAssertEqual(first, fixtures.frame.flatMap(\.records).map(\.id))
    }

    func testShardListFileWithRelativePathsAndComments() throws {
        let list = fixtures.folder + "/shards.txt"
        try "# frame-level shards\nframe/train0002.tfrecord\n\n  frame/train000[01].tfrecord  \n".write(toFile: list, atomically: true, encoding: .utf8)
        let shards = try TFRecordShards.expand(["@" + list])
        XCTAssertEqual(shards.map { ($0 as NSString).lastPathComponent }, ["train0002.tfrecord", "train0000.tfrecord", "train0001.tfrecord"])
        XCTAssertThrowsError(try TFRecordShards.expand([fixtures.folder + "/nothing*.tfrecord"])) { error in
            XCTAssertTrue("\(error)".contains("nothing*.tfrecord"), "\(error)")
        }
    }

    // MARK: video level

    func testVideoLevelValuesMatchTheWriter() throws {
        let source = TFRecordVideoSource(shards: try TFRecordShards.expand([fixtures.folder + "/video/*.tfrecord"]))
        let expected = fixtures.video.flatMap(\.records)
        XCTAssertTrue(expected.contains { $0.labels.isEmpty })
        try assertYields(expected) { try source.next().map { ($0.id, $0.labels, $0.visual, $0.audio) } }
    }

    // MARK: damage

    private func copyShard(_ shard: TFRecordFixtures.Shard, as name: String) throws -> (path: String, bytes: [UInt8]) {
        let path = scratch + "/" + name
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: shard.path)))
        return (path, bytes)
    }

    func testFlippedPayloadByteIsReportedWithFileAndOffset() throws {
        let shard = fixtures.frame[2]
        var (path, bytes) = try copyShard(shard, as: "flipped.tfrecord")
        let damaged = shard.records[1]
        bytes[damaged.offset + 12 + damaged.length / 2] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let source = TFRecordFrameSource(shards: [path])
        XCTAssertEqual(try source.next()?.id, shard.records[0].id)
        XCTAssertThrowsError(try source.next()) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(path) && message.contains("byte offset \(damaged.offset)") && message.contains("payload checksum"), message)
        }
        // --skip-corrupt: counted, and the records after it still come through.
        let skipping = TFRecordFrameSource(shards: [path], skipCorrupt: true)
        var ids: [String] = []
        while let v = try skipping.next() { ids.append(v.id) }
        XCTAssertEqual(ids, shard.records.map(\.id).filter { $0 != damaged.id })
        XCTAssertEqual(skipping.skippedRecords, 1)
        XCTAssertEqual(skipping.stream.skipped.first?.offset, damaged.offset)
    }

    func testTruncatedFinalRecordIsReportedWithFileAndOffset() throws {
        let shard = fixtures.frame[0]
        let (path, bytes) = try copyShard(shard, as: "truncated.tfrecord")
        let last = shard.records.last!
        for cut in [3, last.length / 2, last.length + 12, 16 + last.length - 5] {   // in the footer, payload, header
            try Data(bytes[0..<(last.offset + 16 + last.length - cut)]).write(to: URL(fileURLWithPath: path))
            let reader = try TFRecordReader(path: path)
            for _ in 0..<(shard.records.count - 1) { XCTAssertNotNil(try reader.next()) }
            XCTAssertThrowsError(try reader.next(), "cut \(cut)") { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(path) && message.contains("byte offset \(last.offset)") && message.contains("truncated"), message)
            }
            let skipping = TFRecordStream(shards: [path], skipCorrupt: true)
            var count = 0
            while try skipping.next() != nil { count += 1 }
            XCTAssertEqual(count, shard.records.count - 1)
            XCTAssertEqual(skipping.skipped.count, 1)
        }
    }

    func testDamagedLengthIsReportedAndSkipsTheRestOfTheShard() throws {
        let shard = fixtures.frame[2]
        var (path, bytes) = try copyShard(shard, as: "header.tfrecord")
        bytes[shard.records[1].offset + 1] ^= 0x01      // the length, not the payload
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try { let r = try TFRecordReader(path: path); while try r.next() != nil {} }()) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("byte offset \(shard.records[1].offset)") && message.contains("length checksum"), message)
        }
        let skipping = TFRecordStream(shards: [path, fixtures.frame[1].path], skipCorrupt: true)
        var count = 0
        while try skipping.next() != nil { count += 1 }
        XCTAssertEqual(count, 1 + fixtures.frame[1].records.count, "the next shard is still read")
        XCTAssertEqual(skipping.skipped.count, 1)
    }

    // MARK: import to HDF5

    func testFramesImportKeepsIDsLabelsAndBytes() throws {
        let out = scratch + "/frames.h5"
        let summary = try FramesImport.write(shards: fixtures.frame.map(\.path), out: out, writer: ArtifactWriter(createdBy: "FeaturesTests", parameters: ["test": true]))
        let expected = fixtures.frame.flatMap(\.records)
        XCTAssertEqual(summary.videos, expected.count)
        XCTAssertEqual(summary.frames, expected.map(\.frames).reduce(0, +))
        let file = try Artifact.open(out, as: .frames)
        let root = file.root
        XCTAssertEqual(try root.readStrings("video_id"), expected.map(\.id))
        var offsets: [Int64] = [0]
        for r in expected { offsets.append(offsets.last! + Int64(r.frames)) }
        XCTAssertEqual(try root.read("frame_offsets", as: Int64.self), offsets)
        XCTAssertEqual(try root.read("visual", as: UInt8.self), expected.flatMap(\.visualBytes))
        XCTAssertEqual(try root.read("audio", as: UInt8.self), expected.flatMap(\.audioBytes))
        XCTAssertEqual(try root.dataset("visual").shape, [offsets.last.map(Int.init)!, 1024])
        XCTAssertEqual(try root.dataset("visual").doubleAttribute("quantize_min"), -2)
        XCTAssertEqual(try root.dataset("audio").doubleAttribute("quantize_max"), 2)
        var pointers: [Int64] = [0]
        for r in expected { pointers.append(pointers.last! + Int64(r.labels.count)) }
        XCTAssertEqual(try root.read("labels/indptr", as: Int64.self), pointers)
        XCTAssertEqual(try root.read("labels/indices", as: Int32.self), expected.flatMap(\.labels))
        XCTAssertEqual(try root.group("labels").intAttribute("num_classes"), 3862)
        try file.close()

        let floats = scratch + "/frames-float.h5"
        _ = try FramesImport.write(shards: fixtures.frame.map(\.path), out: floats, dequantize: true, decoder: .protobuf,
                                   writer: ArtifactWriter(createdBy: "FeaturesTests"))
        let floatFile = try Artifact.open(floats, as: .frames)
        XCTAssertEqual(try floatFile.root.read("visual", as: Float.self), expected.flatMap(\.visual))
        XCTAssertEqual(try floatFile.root.read("audio", as: Float.self), expected.flatMap(\.audio))
        try floatFile.close()
    }

    func testDuplicateVideoIDsAcrossShardsAreRejected() throws {
        let copy = scratch + "/copy.tfrecord"
        try FileManager.default.copyItem(atPath: fixtures.frame[1].path, toPath: copy)
        let out = scratch + "/dup.h5"
        XCTAssertThrowsError(try FramesImport.write(shards: fixtures.frame.map(\.path) + [copy], out: out, writer: ArtifactWriter(createdBy: "FeaturesTests"))) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains(copy) && message.contains("byte offset 0") && message.contains(fixtures.frame[1].records[0].id), message)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing half-written")
    }

    func testVideoLevelImportWritesFeatures() throws {
        let out = scratch + "/features.h5"
        let summary = try VideoLevelImport.write(shards: fixtures.video.map(\.path), out: out, writer: ArtifactWriter(createdBy: "FeaturesTests"))
        let expected = fixtures.video.flatMap(\.records)
        XCTAssertEqual(summary.videos, expected.count)
        let file = try Artifact.open(out, as: .features)
        let root = file.root
        XCTAssertEqual(try root.readStrings("video_id"), expected.map(\.id))
        XCTAssertEqual(try root.read("visual", as: Float.self), expected.flatMap(\.visual))
        XCTAssertEqual(try root.dataset("visual").shape, [expected.count, 1024])
        XCTAssertEqual(try root.read("audio", as: Float.self), expected.flatMap(\.audio))
        XCTAssertEqual(try root.read("frame_count", as: Int32.self), [Int32](repeating: 1, count: expected.count))
        XCTAssertEqual(try root.read("labels/indices", as: Int32.self), expected.flatMap(\.labels))
        try file.close()
    }

    private func firstDifference(_ a: [Float], _ b: [Float]) -> String {
        guard let i = zip(a, b).indices.first(where: { a[$0] != b[$0] }) else { return "lengths \(a.count) vs \(b.count)" }
        return "index \(i): \(a[i]) vs \(b[i])"
    }
}

extension Zip2Sequence {
    fileprivate var indices: Range<Int> { 0..<underestimatedCount }
}

/// The direct wire-format decoder against swift-protobuf (the decoder of record)
/// on payloads written by hand in unusual but valid encodings.
final class DirectDecoderTests: XCTestCase {
    private func varint(_ v: UInt64) -> [UInt8] {
        var v = v, out: [UInt8] = []
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        return out + [UInt8(v)]
    }
    private func field(_ number: Int, _ body: [UInt8]) -> [UInt8] { varint(UInt64(number << 3 | 2)) + varint(UInt64(body.count)) + body }
    private func bytesFeature(_ value: [UInt8]) -> [UInt8] { field(1, field(1, value)) }

    /// A SequenceExample with: map entries value-before-key, unknown fields at every level,
    /// unpacked int64 labels, a repeated `rgb` key (the last wins) and feature lists before the context.
    private func oddPayload() -> [UInt8] {
        let unknownVarint = varint(UInt64(15 << 3 | 0)) + varint(300)
        let unknownFixed = varint(UInt64(14 << 3 | 5)) + [1, 2, 3, 4]
        let labels = field(3, varint(UInt64(1 << 3 | 0)) + varint(7) + varint(UInt64(1 << 3 | 0)) + varint(3861) + unknownFixed)
        let idEntry = field(2, bytesFeature(Array("vid-1".utf8))) + field(1, Array("id".utf8))        // value first
        let labelsEntry = field(1, Array("labels".utf8)) + unknownVarint + field(2, labels)
        let context = field(1, idEntry) + unknownFixed + field(1, labelsEntry)
        func frames(_ count: Int, _ width: Int, _ seed: UInt8) -> [UInt8] {
            (0..<count).flatMap { f in field(1, bytesFeature((0..<width).map { UInt8(truncatingIfNeeded: $0 * 7 + f * 13) &+ seed })) }
        }
        let lists = field(1, field(1, Array("rgb".utf8)) + field(2, frames(1, 4, 0)))
            + field(1, field(1, Array("audio".utf8)) + field(2, frames(2, 2, 9) + unknownVarint))
            + field(1, field(1, Array("rgb".utf8)) + field(2, frames(2, 4, 100)))                   // repeated key: the last wins
        return field(2, lists) + unknownVarint + field(1, context)
    }

    func testDirectDecoderAgreesWithSwiftProtobufOnOddEncodings() throws {
        let layout = try YouTube8MLayout.make(level: .frame, visualDimension: 4, audioDimension: 2)
        let payload = oddPayload()
        var direct = FrameLevelRecord(), reference = FrameLevelRecord()
        try payload.withUnsafeBytes { bytes in
            try FrameLevelDecoder(layout: layout, kind: .direct).decode(bytes, into: &direct, file: "hand", offset: 0)
            try FrameLevelDecoder(layout: layout, kind: .protobuf).decode(bytes, into: &reference, file: "hand", offset: 0)
        }
        XCTAssertEqual(reference.id, "vid-1")
        XCTAssertEqual(reference.labels, [7, 3861])
        XCTAssertEqual(reference.frameCount, 2)
        XCTAssertEqual(reference.visual, [100, 107, 114, 121, 113, 120, 127, 134])
        XCTAssertEqual(direct, reference)
    }

    func testMalformedPayloadIsAnErrorNotACrash() throws {
        let layout = YouTube8MLayout.frameLevel
        let payload = oddPayload()
        for cut in stride(from: 1, to: payload.count, by: 3) {
            let truncated = Array(payload[0..<cut])
            for kind in TFRecordDecoderKind.allCases {
                var record = FrameLevelRecord()
                XCTAssertThrowsError(try truncated.withUnsafeBytes {
                    try FrameLevelDecoder(layout: layout, kind: kind).decode($0, into: &record, file: "cut.tfrecord", offset: 42)
                }) { error in
                    XCTAssertTrue("\(error)".hasPrefix("cut.tfrecord: TFRecord record at byte offset 42"), "\(error)")
                }
            }
        }
    }
}

/// Asserts that a stream of videos yields exactly the fixture's records, in order, then ends.
private func assertYields(_ records: [TFRecordFixtures.Record], file: StaticString = #filePath, line: UInt = #line,
                          _ next: () throws -> (id: String, labels: [Int32], visual: [Float], audio: [Float])?) throws {
    for want in records {
        let video = try XCTUnwrap(next(), file: file, line: line)
        XCTAssertEqual(video.id, want.id, file: file, line: line)
        XCTAssertEqual(video.labels, want.labels, file: file, line: line)
        XCTAssertEqual(video.visual, want.visual, file: file, line: line)
        XCTAssertEqual(video.audio, want.audio, file: file, line: line)
    }
    XCTAssertNil(try next(), file: file, line: line)
}
