import ArgumentParser
import Features
import Foundation
import Sampling
import StageKit
import Support
import XCTest

private enum TestDefaults: OptimiserDefaults {
    static let learningRate = 0.5, batchSize = 7, epochs: Double? = nil
}

/// A stage whose library speaks of `dimension`, which the stage calls `--dim`.
private struct ProbeStage: Stage {
    static let configuration = CommandConfiguration(commandName: "probe-stage")
    static let parameterOptions = ["dimension": "dim"]
    @Option var dim = 1
    @Option var fitFrames = 2
    @OptionGroup var threads: ThreadsOption
    func execute() throws {
        throw GCMLError(file: "f.h5", parameter: "dimension", expected: "at most 4 (\(parameter: "fitFrames") >= 2)", found: "9")
    }
}

final class StageKitTests: XCTestCase {
    func testOldSpellingsOfTheOptimiserOptionsStillParse() throws {
        let old = try OptimiserOptions<TestDefaults>.parse(["--lr", "0.05", "--batch", "16"])
        XCTAssertEqual(old.learningRate, 0.05)
        XCTAssertEqual(old.batchSize, 16)
        let new = try OptimiserOptions<TestDefaults>.parse(["--learning-rate", "0.05", "--batch-size", "16", "--epochs", "2"])
        XCTAssertEqual(new.learningRate, 0.05)
        XCTAssertEqual(new.batchSize, 16)
        XCTAssertEqual(new.epochCount, 2)
        let defaults = try OptimiserOptions<TestDefaults>.parse([])
        XCTAssertEqual(defaults.learningRate, 0.5)
        XCTAssertEqual(defaults.batchSize, 7)
        XCTAssertNil(defaults.epochCount)
    }

    func testBothSpellingsOfOneOptionAreAnError() {
        XCTAssertThrowsError(try OptimiserOptions<TestDefaults>.parse(["--lr", "0.05", "--learning-rate", "0.1"]))
        XCTAssertThrowsError(try OptimiserOptions<TestDefaults>.parse(["--batch", "3", "--batch-size", "4"]))
    }

    func testOptimiserRangesAreCheckedBeforeRunning() {
        XCTAssertThrowsError(try OptimiserOptions<TestDefaults>.parse(["--learning-rate", "0"]))
        XCTAssertThrowsError(try OptimiserOptions<TestDefaults>.parse(["--batch-size", "0"]))
        XCTAssertThrowsError(try OptimiserOptions<TestDefaults>.parse(["--epochs", "-1"]))
    }

    func testOldLevelSpellingIsTheTFRecordLayout() throws {
        XCTAssertEqual(try TFRecordOptions.parse(["--tfrecord", "a.tfrecord", "--level", "video"]).layout, .video)
        XCTAssertEqual(try TFRecordOptions.parse(["--tfrecord", "a.tfrecord", "--layout", "video"]).layout, .video)
        XCTAssertEqual(try TFRecordOptions.parse(["--tfrecord", "a.tfrecord"]).layout, .frame)
        XCTAssertThrowsError(try TFRecordOptions.parse(["--layout", "scene"]))
        XCTAssertThrowsError(try TFRecordOptions.parse(["--quantize-min", "2", "--quantize-max", "1"]))
    }

    func testThreadsDefaultToAllCoresAndMustBePositive() throws {
        XCTAssertEqual(try ThreadsOption.parse([]).threads, ProcessInfo.processInfo.activeProcessorCount)
        XCTAssertEqual(try ThreadsOption.parse(["--threads", "3"]).threads, 3)
        XCTAssertThrowsError(try ThreadsOption.parse(["--threads", "0"]))
    }

    func testLevelMixIsATypedValue() throws {
        XCTAssertEqual(LevelChoice(argument: "0.5, 1,0"), .mix([0.5, 1, 0]))
        XCTAssertNil(LevelChoice(argument: "1,x"))
        XCTAssertNil(LevelChoice(argument: "0,0"))
        XCTAssertNil(LevelChoice(argument: "-1,2"))
        XCTAssertEqual(try LevelChoice.level(2).weights(levels: 3), [0, 1, 0])
        XCTAssertThrowsError(try LevelChoice.mix([1, 1, 1, 1]).weights(levels: 3))
    }

    func testLibraryParameterKeysBecomeTheStagesOptionNames() throws {
        XCTAssertEqual(ProbeStage.optionName("dimension"), "--dim")
        XCTAssertEqual(ProbeStage.optionName("fitFrames"), "--fit-frames")
        let stage = try ProbeStage.parse([])
        XCTAssertThrowsError(try stage.run()) { error in
            XCTAssertEqual("\(error)", "f.h5: --dim: expected at most 4 (--fit-frames >= 2), found 9")
        }
    }

    func testStampAndProgressAreNamedAfterTheCommand() throws {
        let stage = try ProbeStage.parse(["--dim", "3", "--threads", "2"])
        XCTAssertEqual(stage.writer.createdBy, "probe-stage")
        XCTAssertEqual(stage.progress.name, "probe-stage")
        // Option groups are flattened into the provenance parameters.
        XCTAssertEqual(stage.writer.parameters["dim"] as? Int, 3)
        XCTAssertEqual(stage.writer.parameters["threads"] as? Int, 2)
    }
}
