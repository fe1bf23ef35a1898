import Artifacts
import Contracts
import Foundation
import XCTest

/// gcml-synth as users run it: options in, three files out, errors as messages.
final class SynthTests: XCTestCase {
    func testSynthWritesTheThreeFilesOfASmallCorpus() throws {
        let folder = try Executables.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try Executables.succeed("gcml-synth", ["--profile", "tiny", "--out", folder, "--videos", "200", "--sessions", "300",
                                                            "--visual-dim", "64", "--visual-clutter-rank", "16", "--seed", "7"])
        XCTAssertTrue(result.stdout.contains("wrote 200 videos"), result.stdout)
        let frames = try FramesFile(path: folder + "/frames.h5")
        XCTAssertEqual(frames.visualDimension, 64)
        XCTAssertEqual(frames.videoIDs.count, 200)
        XCTAssertEqual(try LatentTruth.read(folder + "/truth.h5").topic.count, 200)
        XCTAssertEqual(try Artifact.open(folder + "/truth.h5", as: .truth).root.intAttribute("seed"), 7)
        let lines = try String(contentsOfFile: folder + "/sessions.tsv", encoding: .utf8).split(separator: "\n")
        XCTAssertGreaterThan(lines.count, 300)
        XCTAssertTrue(lines.allSatisfy { $0.split(separator: "\t").count == 2 })
    }

    func testSynthWritesPairsAndVideoLevelFeaturesOnRequest() throws {
        let folder = try Executables.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Executables.succeed("gcml-synth", ["--profile", "tiny", "--out", folder, "--videos", "300", "--sessions", "200",
                                               "--visual-dim", "32", "--pairs", "--video-level"])
        let features = try FeatureTable.read(folder + "/features.h5")
        XCTAssertEqual([features.count, features.visualWidth], [300, 32])
        let pairs = try String(contentsOfFile: folder + "/pairs.tsv", encoding: .utf8).split(separator: "\n")
        XCTAssertFalse(pairs.isEmpty)
        XCTAssertTrue(pairs.allSatisfy { $0.split(separator: "\t").count == 3 })
    }

    func testSynthRejectsImpossibleOptionsWithAMessage() throws {
        let folder = try Executables.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try Executables.run("gcml-synth", ["--profile", "tiny", "--out", folder, "--frames-min", "50", "--frames-max", "10"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("--frames-min"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/frames.h5"))
    }
}
