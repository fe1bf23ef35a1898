import Artifacts
import Contracts
import Foundation
import Support
import XCTest

final class ExtractPCATests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws { folder = try Executables.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    /// frames.h5 as another team's tool writes it (no provenance, raw HDF5 calls on the contract's
    /// paths) with `counts` frames per video: 6-d visual, 3-d audio, labels; `poison` sets one visual value.
    func writeFrames(_ name: String, counts: [Int], poison: (row: Int, value: Float)? = nil) throws -> String {
        let path = folder + "/" + name
        var random = SeededGenerator(seed: 17)
        let frames = counts.reduce(0, +)
        var visual = (0..<(frames * 6)).map { Float(random.normal() * Double(1 + $0 % 6)) + 10 }
        let audio = (0..<(frames * 3)).map { _ in Float(random.normal()) }
        if let poison { visual[poison.row * 6 + 2] = poison.value }
        let file = try HDF5File.create(path)
        try file.root.write(DatasetPath.videoID, strings: counts.indices.map { "clip-\($0)" })
        var offsets: [Int64] = [0]
        for c in counts { offsets.append(offsets.last! + Int64(c)) }
        try file.root.write(DatasetPath.Frames.offsets, offsets)
        try file.root.write(DatasetPath.visual, visual, shape: [frames, 6])
        try file.root.write(DatasetPath.audio, audio, shape: [frames, 3])
        try file.root.write(DatasetPath.Labels.indptr, (0...counts.count).map { Int64(max(0, $0 - 1)) })   // video i ≥ 1 has one label
        try file.root.write(DatasetPath.Labels.indices, (0..<(counts.count - 1)).map { Int32($0 % 4) })
        try file.root.group(DatasetPath.Labels.group).setAttribute(DatasetPath.Labels.numClassesAttribute, .int(4))
        try file.close()
        return path
    }

    func testFitsSavesAndReappliesThePCA() throws {
        let frames = try writeFrames("frames.h5", counts: [3, 5, 1, 4, 7, 2, 6, 3])
        let out = folder + "/features.h5", model = folder + "/pca.h5"
        let fitted = try Executables.succeed("extract-pca", ["--frames", frames, "--out", out, "--dim", "4", "--audio-dim", "2",
                                                             "--save-pca", model, "--whiten"])
        XCTAssertTrue(fitted.stdout.contains("visual: 6 -> 4 dims, explained variance"), fitted.stdout)
        let features = try FeatureTable.read(out)
        XCTAssertEqual([features.count, features.visualWidth, features.audioWidth], [8, 4, 2])
        XCTAssertEqual(try Artifact.open(out, as: .features).root.read(DatasetPath.Features.frameCount, as: Int32.self), [3, 5, 1, 4, 7, 2, 6, 3])
        let labels = try VideoLabels.read(out)
        XCTAssertEqual(labels.indptr, (0...8).map { Int64(max(0, $0 - 1)) })
        XCTAssertEqual(labels.classCount, 4)
        let pca = try SavedPCA.read(model)
        XCTAssertEqual([pca.visual.outputDimension, pca.visual.inputDimension], [4, 6])
        XCTAssertEqual([pca.audio?.outputDimension, pca.audio?.inputDimension], [2, 3])

        let again = folder + "/again.h5"
        try Executables.succeed("extract-pca", ["--frames", frames, "--out", again, "--pca", model, "--whiten"])
        let reapplied = try FeatureTable.read(again)
        XCTAssertEqual(reapplied.visual, features.visual)
        XCTAssertEqual(reapplied.audio, features.audio)
    }

    func testThreadCountAndRepetitionDoNotChangeTheOutput() throws {
        let frames = try writeFrames("frames.h5", counts: (0..<40).map { 1 + $0 % 7 })
        var outputs: [[Float]] = []
        for (index, threads) in ["1", "2", "2"].enumerated() {
            let out = folder + "/features-\(index).h5"
            try Executables.succeed("extract-pca", ["--frames", frames, "--out", out, "--dim", "5", "--fit-frames", "50",
                                                    "--seed", "3", "--threads", threads])
            outputs.append(try FeatureTable.read(out).visual)
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
        XCTAssertEqual(try FeatureTable.readVideoIDs(out), ["clip-0", "clip-2"])

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
