import Artifacts
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
        XCTAssertEqual(try file.root.readStrings("video_id"), try expectedIDs("frame"))
        XCTAssertEqual(try file.root.dataset("visual").elementType, .uint8)
        XCTAssertEqual(try file.root.stringAttribute("schema"), "gcml.frames/1")
        try file.close()
    }

    func testVideoLevelShardsBecomeFeatures() throws {
        let out = folder + "/features.h5"
        try Executables.succeed("gcml-import", ["--tfrecord", folder + "/shards/video/*.tfrecord", "--level", "video", "--out", out])
        let file = try Artifact.open(out, as: .features)
        XCTAssertEqual(try file.root.readStrings("video_id"), try expectedIDs("video"))
        XCTAssertEqual(try file.root.dataset("visual").shape[1], 1024)
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
}
