import Artifacts
import Foundation
import Support
import XCTest

final class ExtractPCATests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws { folder = try Executables.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    /// frames.h5 with `counts` frames per video: 6-d visual, 3-d audio, labels; `poison` sets one visual value.
    func writeFrames(_ name: String, counts: [Int], poison: (row: Int, value: Float)? = nil) throws -> String {
        let path = folder + "/" + name
        var random = SeededGenerator(seed: 17)
        let frames = counts.reduce(0, +)
        var visual = (0..<(frames * 6)).map { Float(random.normal() * Double(1 + $0 % 6)) + 10 }
        let audio = (0..<(frames * 3)).map { _ in Float(random.normal()) }
        if let poison { visual[poison.row * 6 + 2] = poison.value }
        let file = try HDF5File.create(path)
        try file.root.write("video_id", strings: counts.indices.map { "clip-\($0)" })
        var offsets: [Int64] = [0]
        for c in counts { offsets.append(offsets.last! + Int64(c)) }
        try file.root.write("frame_offsets", offsets)
        try file.root.write("visual", visual, shape: [frames, 6])
        try file.root.write("audio", audio, shape: [frames, 3])
        try file.root.write("labels/indptr", (0...counts.count).map { Int64(max(0, $0 - 1)) })   // video i ≥ 1 has one label
        try file.root.write("labels/indices", (0..<(counts.count - 1)).map { Int32($0 % 4) })
        try file.root.group("labels").setAttribute("num_classes", .int(4))
        try file.close()
        return path
    }

    func testFitsSavesAndReappliesThePCA() throws {
        let frames = try writeFrames("frames.h5", counts: [3, 5, 1, 4, 7, 2, 6, 3])
        let out = folder + "/features.h5", model = folder + "/pca.h5"
        let fitted = try Executables.succeed("extract-pca", ["--frames", frames, "--out", out, "--dim", "4", "--audio-dim", "2",
                                                             "--save-pca", model, "--whiten"])
        XCTAssertTrue(fitted.stdout.contains("visual: 6 -> 4 dims, explained variance"), fitted.stdout)
        let features = try Artifact.open(out, as: .features)
        XCTAssertEqual(try features.root.dataset("visual").shape, [8, 4])
        XCTAssertEqual(try features.root.dataset("audio").shape, [8, 2])
        XCTAssertEqual(try features.root.read("frame_count", as: Int32.self), [3, 5, 1, 4, 7, 2, 6, 3])
        XCTAssertEqual(try features.root.read("labels/indptr", as: Int64.self), (0...8).map { Int64(max(0, $0 - 1)) })
        XCTAssertEqual(try features.root.group("labels").intAttribute("num_classes"), 4)
        XCTAssertEqual(try features.root.stringAttribute("schema"), "gcml.features/1")
        let pca = try Artifact.open(model, as: .pca)
        XCTAssertEqual(try pca.root.dataset("visual/components").shape, [4, 6])
        XCTAssertEqual(try pca.root.dataset("audio/components").shape, [2, 3])

        let again = folder + "/again.h5"
        try Executables.succeed("extract-pca", ["--frames", frames, "--out", again, "--pca", model, "--whiten"])
        let reapplied = try Artifact.open(again, as: .features)
        XCTAssertEqual(try reapplied.root.read("visual", as: Float.self), try features.root.read("visual", as: Float.self))
        XCTAssertEqual(try reapplied.root.read("audio", as: Float.self), try features.root.read("audio", as: Float.self))
    }

    func testThreadCountAndRepetitionDoNotChangeTheOutput() throws {
        let frames = try writeFrames("frames.h5", counts: (0..<40).map { 1 + $0 % 7 })
        var outputs: [[Float]] = []
        for (index, threads) in ["1", "2", "2"].enumerated() {
            let out = folder + "/features-\(index).h5"
            try Executables.succeed("extract-pca", ["--frames", frames, "--out", out, "--dim", "5", "--fit-frames", "50",
                                                    "--seed", "3", "--threads", threads])
            outputs.append(try Artifact.open(out, as: .features).root.read("visual", as: Float.self))
        }
        XCTAssertEqual(outputs[0], outputs[1])
        XCTAssertEqual(outputs[1], outputs[2])
    }

    func testBadInputFailsNamingTheVideoAndLeavesNoOutput() throws {
        let empty = try writeFrames("empty.h5", counts: [2, 0, 3])
        let out = folder + "/features.h5"
        let failed = try Executables.run("extract-pca", ["--frames", empty, "--out", out, "--dim", "2"])
        XCTAssertNotEqual(failed.status, 0)
        XCTAssertTrue(failed.stderr.contains("clip-1"), failed.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let skipped = try Executables.succeed("extract-pca", ["--frames", empty, "--out", out, "--dim", "2", "--skip-empty"])
        XCTAssertTrue(skipped.stdout.contains("skipped 1 videos without frames (first: clip-1)"), skipped.stdout)
        XCTAssertEqual(try Artifact.open(out, as: .features).root.readStrings("video_id"), ["clip-0", "clip-2"])

        let nan = try writeFrames("nan.h5", counts: [2, 2, 2], poison: (row: 3, value: .nan))
        let bad = try Executables.run("extract-pca", ["--frames", nan, "--out", folder + "/nan-out.h5", "--dim", "2"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("video 'clip-1' frame 1 of /visual"), bad.stderr)
        let dropped = try Executables.succeed("extract-pca", ["--frames", nan, "--out", folder + "/nan-out.h5", "--dim", "2", "--drop-nonfinite"])
        XCTAssertTrue(dropped.stdout.contains("dropped 1 frames with non-finite values"), dropped.stdout)

        let wide = try Executables.run("extract-pca", ["--frames", empty, "--out", out, "--skip-empty", "--dim", "7"])
        XCTAssertNotEqual(wide.status, 0)
        XCTAssertTrue(wide.stderr.contains("/visual: --dim: expected between 1 and the input dimension 6, found 7"), wide.stderr)
        let conflict = try Executables.run("extract-pca", ["--frames", empty, "--out", out, "--pca", "x.h5", "--save-pca", "y.h5"])
        XCTAssertNotEqual(conflict.status, 0)
    }
}
