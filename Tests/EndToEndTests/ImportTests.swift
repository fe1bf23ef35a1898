import Artifacts
import Contracts
import Foundation
import XCTest

/// gcml-import on shards from the independent Python writer (tests/fixtures/make_tfrecords.py).
final class ImportTests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws {
        folder = try Executables.temporaryFolder()
        let check = "import google.protobuf\ntry:\n    import crc32c\nexcept ImportError:\n    import google_crc32c"
        if try python(["-c", check]) != 0 {
            _ = try? python(["-m", "pip", "install", "-q", "--disable-pip-version-check", "--root-user-action=ignore", "protobuf", "crc32c"])
            if try python(["-c", check]) != 0 {
                let reason = "python3 with the PyPI packages protobuf and crc32c is needed to write TFRecord fixtures"
                if ProcessInfo.processInfo.environment["GCML_REQUIRE_PYTHON"] != nil { XCTFail(reason) }
                throw XCTSkip(reason)
            }
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("tests/fixtures/make_tfrecords.py").path
        XCTAssertEqual(try python([script, folder + "/shards"]), 0)
    }

    override func tearDownWithError() throws { if let folder { try? FileManager.default.removeItem(atPath: folder) } }

    private func python(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    private func expectedIDs(_ level: String) throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/shards/expected.json"))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return (json[level] as! [[String: Any]]).flatMap { ($0["records"] as! [[String: Any]]).map { $0["id"] as! String } }
    }

    func testFrameLevelShardsBecomeValidFramesFile() throws {
        let out = folder + "/frames.h5"
        let result = try Executables.succeed("gcml-import", ["--tfrecord", folder + "/shards/frame/train*.tfrecord", "--out", out])
        XCTAssertTrue(result.stdout.contains("videos           9"), result.stdout)
        let file = try Artifact.open(out, as: .frames)
        XCTAssertEqual(try file.root.readStrings(DatasetPath.videoID), try expectedIDs("frame"))
        XCTAssertEqual(try file.root.dataset(DatasetPath.visual).elementType, .uint8)
        XCTAssertEqual(try file.root.stringAttribute("schema"), "gcml.frames/1")
        try file.close()
    }

    func testVideoLevelShardsBecomeFeatures() throws {
        let out = folder + "/features.h5"
        try Executables.succeed("gcml-import", ["--tfrecord", folder + "/shards/video/*.tfrecord", "--level", "video", "--out", out])
        let file = try Artifact.open(out, as: .features)
        XCTAssertEqual(try file.root.readStrings(DatasetPath.videoID), try expectedIDs("video"))
        XCTAssertEqual(try file.root.dataset(DatasetPath.visual).shape[1], 1024)
        try file.close()
    }

    func testDamagedShardFailsWithFileAndOffsetOrIsSkipped() throws {
        let shard = folder + "/shards/frame/train0001.tfrecord"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: shard)))
        bytes[40] ^= 0xFF                                       // inside the first record's payload
        try Data(bytes).write(to: URL(fileURLWithPath: shard))
        let out = folder + "/frames.h5"
        let failed = try Executables.run("gcml-import", ["--tfrecord", folder + "/shards/frame/*.tfrecord", "--out", out])
        XCTAssertNotEqual(failed.status, 0)
        XCTAssertTrue(failed.stderr.contains("train0001.tfrecord") && failed.stderr.contains("byte offset 0"), failed.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let skipped = try Executables.succeed("gcml-import", ["--tfrecord", folder + "/shards/frame/*.tfrecord", "--out", out, "--skip-corrupt"])
        XCTAssertTrue(skipped.stdout.contains("skipped damaged  1") && skipped.stdout.contains("videos           8"), skipped.stdout)
    }

    /// Records of the fixture shards as (bytes of the framed record, byte offset in its shard).
    private func records(_ level: String, shard: Int) throws -> [(bytes: Data, offset: Int)] {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/shards/expected.json"))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let entry = (json[level] as! [[String: Any]])[shard]
        let file = try Data(contentsOf: URL(fileURLWithPath: entry["path"] as! String))
        return (entry["records"] as! [[String: Any]]).map { record in
            // TFRecord framing: length (8), its CRC (4), payload, payload CRC (4).
            let offset = record["offset"] as! Int, length = record["length"] as! Int
            return (file.subdata(in: offset..<(offset + length + 16)), offset)
        }
    }

    /// A video id in two shards is refused naming the shard, record and byte offset of the
    /// second record and of the first; the output is not blamed and nothing is written.
    func testDuplicateIDsAcrossShardsNameBothRecordsNotTheOutput() throws {
        for (level, program, extra) in [("frame", "gcml-import", [String]()), ("video", "gcml-import", ["--level", "video"]),
                                         ("frame", "extract-pca", ["--dim", "2", "--audio-dim", "2"])] {
            let first = try records(level, shard: 0), other = try records(level, shard: 1)
            let a = folder + "/dup-\(level)-a.tfrecord", b = folder + "/dup-\(level)-b.tfrecord"
            try first.reduce(Data()) { $0 + $1.bytes }.write(to: URL(fileURLWithPath: a))
            try (other[0].bytes + first[2].bytes).write(to: URL(fileURLWithPath: b))
            let outFolder = folder + "/dup-out-\(program)-\(level)"
            let out = outFolder + "/out.h5"
            let result = try Executables.run(program, ["--tfrecord", a, "--tfrecord", b, "--out", out] + extra)
            let what = "\(program) \(level): \(result.stderr)"
            XCTAssertNotEqual(result.status, 0, what)
            XCTAssertFalse(RefusalCase.crashMarkers.contains { result.stderr.contains($0) }, what)
            XCTAssertTrue(result.stderr.contains("\(b): TFRecord record 1 at byte offset \(other[0].bytes.count)"), what)
            XCTAssertTrue(result.stderr.contains("unique video ids"), what)
            XCTAssertTrue(result.stderr.contains("the first is \(a) record 2 at byte offset \(first[2].offset)"), what)
            XCTAssertFalse(result.stderr.contains("out.h5"), what)
            XCTAssertEqual(ReliabilityFixture.contents(outFolder), [], what)
        }
    }

    func testExtractPCAReadsShardsLikeTheImportedFramesFile() throws {
        let shards = folder + "/shards/frame/train*.tfrecord"
        let direct = folder + "/direct.h5", frames = folder + "/frames.h5", viaFrames = folder + "/via-frames.h5"
        try Executables.succeed("extract-pca", ["--tfrecord", shards, "--out", direct, "--dim", "4", "--audio-dim", "3"])
        try Executables.succeed("gcml-import", ["--tfrecord", shards, "--out", frames])
        try Executables.succeed("extract-pca", ["--frames", frames, "--out", viaFrames, "--dim", "4", "--audio-dim", "3"])
        let a = try Artifact.open(direct, as: .features), b = try Artifact.open(viaFrames, as: .features)
        XCTAssertEqual(try a.root.readStrings(DatasetPath.videoID), try expectedIDs("frame"))
        XCTAssertEqual(try a.root.readStrings(DatasetPath.videoID), try b.root.readStrings(DatasetPath.videoID))
        XCTAssertEqual(try a.root.read(DatasetPath.Features.frameCount, as: Int32.self), try b.root.read(DatasetPath.Features.frameCount, as: Int32.self))
        XCTAssertEqual(try a.root.read(DatasetPath.Labels.indices, as: Int32.self), try b.root.read(DatasetPath.Labels.indices, as: Int32.self))
        XCTAssertEqual(try a.root.group("labels").intAttribute("num_classes"), 3862)
        for name in ["visual", "audio"] {
            let x = try a.root.read(name, as: Float.self), y = try b.root.read(name, as: Float.self)
            XCTAssertEqual(x.count, y.count)
            // The same frames either way; dequantisation may differ in the last bit (see docs/youtube8m.md).
            for (u, v) in zip(x, y) { XCTAssertEqual(u, v, accuracy: 1e-3 * max(1, abs(v)), name) }
        }
        try a.close()
        try b.close()
    }

    /// Shards are byte-quantised too: the fit uses exact code statistics, so 3 ranks (the shards
    /// split between them) give the same bits as one process.
    func testExtractPCAOnShardsIsBitIdenticalUnderThreeRanks() throws {
        let args = ["--tfrecord", folder + "/shards/frame/train*.tfrecord", "--dim", "4", "--audio-dim", "3", "--threads", "1"]
        try Executables.succeed("extract-pca", args + ["--out", folder + "/one.h5"])
        let run = try Launch.run(Launch.mpirun(3, "extract-pca", args + ["--out", folder + "/three.h5"]))
        XCTAssertEqual(run.status, 0, run.stderr)
        let one = try Artifact.open(folder + "/one.h5", as: .features), three = try Artifact.open(folder + "/three.h5", as: .features)
        XCTAssertEqual(try three.root.readStrings(DatasetPath.videoID), try expectedIDs("frame"))
        for name in [DatasetPath.visual, DatasetPath.audio] {
            let x = try one.root.read(name, as: Float.self), y = try three.root.read(name, as: Float.self)
            XCTAssertFalse(x.isEmpty)
            XCTAssertEqual(x.map(\.bitPattern), y.map(\.bitPattern), name)
        }
        try one.close()
        try three.close()
    }

    func testExtractPCADefaultKeepsTheShardDimensionAndVideoLevelGoesStraightToFeatures() throws {
        let out = folder + "/features.h5"
        try Executables.succeed("extract-pca", ["--tfrecord", folder + "/shards/frame/*.tfrecord", "--out", out])
        let file = try Artifact.open(out, as: .features)
        XCTAssertEqual(try file.root.dataset(DatasetPath.visual).shape, [9, 1024])
        try file.close()
        let video = folder + "/video-features.h5"
        try "shards/video/video0000.tfrecord\nshards/video/video000[12].tfrecord\n".write(toFile: folder + "/list.txt", atomically: true, encoding: .utf8)
        try Executables.succeed("extract-pca", ["--tfrecord", "@" + folder + "/list.txt", "--level", "video", "--out", video])
        let features = try Artifact.open(video, as: .features)
        XCTAssertEqual(try features.root.readStrings(DatasetPath.videoID), try expectedIDs("video"))
        try features.close()
        let both = try Executables.run("extract-pca", ["--tfrecord", out, "--frames", out, "--out", video])
        XCTAssertNotEqual(both.status, 0)
    }
}
