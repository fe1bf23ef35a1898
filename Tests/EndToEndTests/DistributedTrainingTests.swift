import Artifacts
import Contracts
import Foundation
import Support
import XCTest

/// Relative L2 difference ‖a − b‖ / ‖a‖ (0 for two empty or zero vectors).
func relativeDifference(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count)
    var difference = 0.0, norm = 0.0
    for i in a.indices {
        difference += Double(a[i] - b[i]) * Double(a[i] - b[i])
        norm += Double(a[i]) * Double(a[i])
    }
    return norm == 0 ? difference.squareRoot() : (difference / norm).squareRoot()
}

/// Asserts two float arrays are equal bit for bit, naming how many values differ and their relative L2 difference.
func assertBitForBit(_ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, what, file: file, line: line)
    let differing = zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
    guard a.count == b.count, differing > 0 else { return }
    XCTFail("\(what): \(differing) of \(a.count) values differ, relative L2 difference \(relativeDifference(a, b))", file: file, line: line)
}

/// The root attribute `ranks` of an artifact.
func ranksAttribute(_ path: String) throws -> Int64? {
    let file = try HDF5File.open(path)
    defer { try? file.close() }
    return try file.root.intAttribute("ranks")
}

/// train-embed and its embeddings under 3 ranks (mpirun) against one process: the global batch
/// is split in whole gradient blocks, mining and the loss see the whole batch, and the block
/// gradients are added in float64, so the weights after 100 steps are the same bit for bit.
extension TrainEmbedTests {
    /// Every layer's weights and biases of a model.h5, concatenated in a fixed order.
    func weights(_ path: String) throws -> [Float] {
        let file = try Artifact.open(path, as: .model)
        defer { try? file.close() }
        var values: [Float] = []
        for layer in ["visual/fc1", "visual/fc2", "audio/fc1", "audio/fc2"] {
            values += try file.root.read("\(layer)/weight") as [Float]
            values += try file.root.read("\(layer)/bias") as [Float]
        }
        if file.root.exists("classifier/weight") { values += try file.root.read("classifier/weight") as [Float] }
        return values
    }

    /// One process and 3 ranks with the same global batch (12 in 4 gradient blocks of 3: 2, 1 and 1 blocks a rank) for 100 steps.
    func compareOneAndThreeRanks(_ task: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let args = task + ["--features", folder + "/features.h5", "--hidden", "16", "--audio-hidden", "8", "--dim", "8",
                           "--batch-size", "12", "--steps", "100", "--threads", "1", "--log-every", "10", "--graph", folder + "/graph.h5"]
        try Executables.succeed("train-embed", args + ["--out", folder + "/one.h5", "--embeddings", folder + "/one-embeddings.h5"])
        let three = try Launch.run(Launch.mpirun(3, "train-embed", args + ["--out", folder + "/three.h5", "--embeddings", folder + "/three-embeddings.h5"]))
        XCTAssertEqual(three.status, 0, three.stderr, file: file, line: line)
        assertBitForBit(try weights(folder + "/one.h5"), try weights(folder + "/three.h5"), "weights", file: file, line: line)
        let one = try read(folder + "/one-embeddings.h5", "embedding"), split = try read(folder + "/three-embeddings.h5", "embedding")
        XCTAssertEqual(one.count, videos * 8, file: file, line: line)
        assertBitForBit(one, split, "embeddings", file: file, line: line)
        let ids = try HDF5File.open(folder + "/three-embeddings.h5")
        XCTAssertEqual(try ids.root.readStrings(DatasetPath.videoID), (0..<videos).map { "vid\($0)" }, "rows in one-process order", file: file, line: line)
        try ids.close()
        XCTAssertEqual(try ranksAttribute(folder + "/one.h5"), 1, file: file, line: line)
        XCTAssertEqual(try ranksAttribute(folder + "/three.h5"), 3, file: file, line: line)
        XCTAssertEqual(try ranksAttribute(folder + "/three-embeddings.h5"), 3, file: file, line: line)
        // The loss history (the same global batches) agrees too.
        let lossOne: [Double] = try HDF5File.open(folder + "/one.h5").root.read(DatasetPath.Model.historyLoss)
        let lossThree: [Double] = try HDF5File.open(folder + "/three.h5").root.read(DatasetPath.Model.historyLoss)
        XCTAssertEqual(lossOne.count, 10, file: file, line: line)
        XCTAssertEqual(lossOne, lossThree, file: file, line: line)
    }

    /// Features, triplets and a graph where semi-hard mining meets near-ties: 600 videos in 20 topics.
    /// Before gradient blocks (each rank's rows in one GEMM, float32 partial gradients allreduced) 3 ranks
    /// drifted from one process here to a relative L2 difference of the weights of 4.3e-2 after 100 steps.
    func writeMiningInputs() throws {
        var generator = SeededGenerator(seed: 9)
        let videos = 600, topics = 20, visualWidth = 48, audioWidth = 16
        var visual: [Float] = [], audio: [Float] = []
        for v in 0..<videos {
            for c in 0..<visualWidth { visual.append(Float(c % topics == v % topics ? 1.5 : 0) + Float(generator.normal())) }
            for _ in 0..<audioWidth { audio.append(Float(generator.normal())) }
        }
        let table = FeatureTable(videoIDs: (0..<videos).map { "m\($0)" }, visual: visual, visualWidth: visualWidth, audio: audio, audioWidth: audioWidth)
        try Artifact.write(folder + "/mining-features.h5", schema: .features, createdBy: "test") { file in
            try table.write(to: file, frameCounts: [Int32](repeating: 10, count: videos))
        }
        var anchor: [Int32] = [], positive: [Int32] = [], negative: [Int32] = []
        for _ in 0..<4000 {
            let a: Int = generator.below(videos)
            let sameTopic: Int = topics * (1 + generator.below(videos / topics - 1)), otherTopic: Int = 1 + generator.below(topics - 1)
            anchor.append(Int32(a))
            positive.append(Int32((a + sameTopic) % videos))
            negative.append(Int32((a + otherTopic) % videos))
        }
        let triplets = TripletSet(anchor: anchor, positive: positive, negative: negative, negativeLevel: [Int8](repeating: 0, count: anchor.count))
        try Artifact.write(folder + "/mining-triplets.h5", schema: .triplets, createdBy: "test") { try triplets.write(to: $0) }
    }

    /// Semi-hard mining at a size where a rounding difference flips mining choices (see `writeMiningInputs`):
    /// 3 ranks still give one process's weights bit for bit after 100 steps.
    func testMiningTrainingOnThreeRanksEqualsOneProcessBitForBit() throws {
        try writeMiningInputs()
        let args = ["--features", folder + "/mining-features.h5", "--triplets", folder + "/mining-triplets.h5", "--mining", "semihard",
                    "--hidden", "128", "--audio-hidden", "32", "--dim", "32", "--batch-size", "192", "--steps", "100", "--threads", "1",
                    "--log-every", "10"]
        try Executables.succeed("train-embed", args + ["--out", folder + "/one.h5"])
        let three = try Launch.run(Launch.mpirun(3, "train-embed", args + ["--out", folder + "/three.h5"]))
        XCTAssertEqual(three.status, 0, three.stderr)
        assertBitForBit(try weights(folder + "/one.h5"), try weights(folder + "/three.h5"), "weights")
        let model = try HDF5File.open(folder + "/one.h5")
        defer { try? model.close() }
        let kept: [Double] = try model.root.read("history/presampled_negative_chosen")
        XCTAssertTrue(kept.allSatisfy { $0 < 0.9 }, "mining picks other negatives than the given ones: \(kept)")
    }

    func testTripletTrainingOnThreeRanksMatchesOneProcess() throws {
        try compareOneAndThreeRanks(["--triplets", folder + "/triplets.h5", "--mining", "semihard"])
    }

    func testSampledSoftmaxTrainingOnThreeRanksMatchesOneProcess() throws {
        try compareOneAndThreeRanks(["--tree", folder + "/tree.h5", "--classify-level", "1", "--sampled", "2"])
    }

    /// A checkpoint written by 3 ranks resumes on 2 ranks and ends where one uninterrupted process does.
    func testResumeWithAnotherNumberOfRanksEqualsUninterruptedRun() throws {
        let args = ["--triplets", folder + "/triplets.h5", "--features", folder + "/features.h5", "--hidden", "16", "--audio-hidden", "8",
                    "--dim", "8", "--batch-size", "12", "--threads", "1", "--graph", folder + "/graph.h5"]
        try Executables.succeed("train-embed", args + ["--steps", "40", "--out", folder + "/whole.h5"])
        let first = try Launch.run(Launch.mpirun(3, "train-embed", args + ["--steps", "20", "--out", folder + "/resumed.h5"]))
        XCTAssertEqual(first.status, 0, first.stderr)
        let second = try Launch.run(Launch.mpirun(2, "train-embed", args + ["--steps", "40", "--resume", "--out", folder + "/resumed.h5"]))
        XCTAssertEqual(second.status, 0, second.stderr)
        assertBitForBit(try weights(folder + "/whole.h5"), try weights(folder + "/resumed.h5"), "weights")
        XCTAssertEqual(try ranksAttribute(folder + "/resumed.h5"), 2)
    }

    /// --validate-full-corpus under 3 ranks: each rank embeds about a third of the corpus (whole gradient
    /// blocks, so every video meets the GEMM it meets in one process, and the weights are equal bit for bit)
    /// and ranks whole query blocks of the ranking GEMM (so its one-process scores), and the APs are gathered
    /// and added in query order: both logged MAPs are the one-process ones, bit for bit.
    func testFullCorpusValidationOnThreeRanksEqualsOneProcess() throws {
        let args = ["--triplets", folder + "/triplets.h5", "--features", folder + "/features.h5", "--hidden", "16", "--audio-hidden", "8",
                    "--dim", "8", "--batch-size", "12", "--steps", "20", "--threads", "1", "--validate", folder + "/graph.h5",
                    "--validate-every", "10", "--validate-full-corpus"]
        try Executables.succeed("train-embed", args + ["--out", folder + "/one.h5"])
        let three = try Launch.run(Launch.mpirun(3, "train-embed", args + ["--out", folder + "/three.h5"]))
        XCTAssertEqual(three.status, 0, three.stderr)
        let one: [Double] = try HDF5File.open(folder + "/one.h5").root.read("history/validation_map_full_corpus")
        let split: [Double] = try HDF5File.open(folder + "/three.h5").root.read("history/validation_map_full_corpus")
        XCTAssertEqual(one.count, 3)
        XCTAssertEqual(split.count, 3)
        XCTAssertTrue(one.allSatisfy { $0 > 0 && $0 <= 1 }, "\(one)")
        XCTAssertEqual(one, split, "full-corpus validation MAP")
        let sampledOne: [Double] = try HDF5File.open(folder + "/one.h5").root.read("history/validation_map")
        let sampledThree: [Double] = try HDF5File.open(folder + "/three.h5").root.read("history/validation_map")
        XCTAssertEqual(sampledOne.count, 3)
        XCTAssertEqual(sampledOne, sampledThree, "sampled validation MAP")
    }

    func testBatchSmallerThanTheRanksIsRejectedByName() throws {
        let run = try Launch.run(Launch.mpirun(3, "train-embed", ["--triplets", folder + "/triplets.h5", "--features", folder + "/features.h5",
                                                                  "--batch-size", "2", "--steps", "1", "--out", folder + "/m.h5"]))
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("--batch-size") && run.stderr.contains("number of ranks (3)"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/m.h5"))
        // Fewer gradient blocks than ranks asked for: a rank would have no whole block.
        let blocks = try Launch.run(Launch.mpirun(3, "train-embed", ["--triplets", folder + "/triplets.h5", "--features", folder + "/features.h5",
                                                                     "--batch-size", "12", "--gradient-blocks", "2", "--steps", "1", "--out", folder + "/m.h5"]))
        XCTAssertNotEqual(blocks.status, 0)
        XCTAssertTrue(blocks.stderr.contains("--gradient-blocks: expected at least the number of ranks (3)") && blocks.stderr.contains("found 2"), blocks.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/m.h5"))
        // Enough blocks asked for, but a batch of 4 in 3 blocks gives blocks of 2 examples: only 2 of them.
        let rounded = try Launch.run(Launch.mpirun(3, "train-embed", ["--triplets", folder + "/triplets.h5", "--features", folder + "/features.h5",
                                                                      "--batch-size", "4", "--gradient-blocks", "3", "--steps", "1", "--out", folder + "/m.h5"]))
        XCTAssertNotEqual(rounded.status, 0)
        XCTAssertTrue(rounded.stderr.contains("--gradient-blocks 3 gives 2 gradient blocks") && rounded.stderr.contains("number of ranks (3)"), rounded.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/m.h5"))
    }

    /// More ranks than the default 4 blocks: the batch is cut into one block per rank, and one process
    /// given that many blocks computes the same weights bit for bit.
    func testMoreRanksThanDefaultBlocksEqualsOneProcessWithAsManyBlocks() throws {
        let args = ["--triplets", folder + "/triplets.h5", "--features", folder + "/features.h5", "--hidden", "16", "--audio-hidden", "8",
                    "--dim", "8", "--batch-size", "15", "--steps", "20", "--threads", "1", "--graph", folder + "/graph.h5"]
        try Executables.succeed("train-embed", args + ["--gradient-blocks", "5", "--out", folder + "/one.h5"])
        let five = try Launch.run(Launch.mpirun(5, "train-embed", args + ["--out", folder + "/five.h5"]))
        XCTAssertEqual(five.status, 0, five.stderr)
        assertBitForBit(try weights(folder + "/one.h5"), try weights(folder + "/five.h5"), "weights")
    }
}

/// eval-map-ndcg and eval-gap under 3 ranks against one process.
extension EvalTests {
    func testRetrievalOnThreeRanksEqualsOneProcess() throws {
        for mode in ["heldout+random", "all"] {
            let args = ["--vectors", folder + "/features.h5:/visual", "--graph", folder + "/graph.h5", "--candidates", mode, "--k", "10",
                        "--negatives", "20", "--seed", "3", "--threads", "1"]
            try Executables.succeed("eval-map-ndcg", args + ["--out", folder + "/one.h5"])
            let three = try Launch.run(Launch.mpirun(3, "eval-map-ndcg", args + ["--out", folder + "/three.h5"]))
            XCTAssertEqual(three.status, 0, three.stderr)
            XCTAssertEqual(three.stdout.components(separatedBy: "MAP").count, 2, "one summary (rank 0): \(three.stdout)")
            let one = try Artifact.open(folder + "/one.h5", as: .retrieval), split = try Artifact.open(folder + "/three.h5", as: .retrieval)
            for name in ["map", "ndcg_at_k"] {
                let a = try XCTUnwrap(one.root.doubleAttribute(name)), b = try XCTUnwrap(split.root.doubleAttribute(name))
                XCTAssertTrue(a > 0 && a < 1, "\(mode) \(name) \(a): not a degenerate case")
                XCTAssertEqual(a, b, accuracy: 1e-6, "\(mode) \(name)")
            }
            for name in ["query", "candidates/index"] {
                XCTAssertEqual(try one.root.read(name, as: Int32.self), try split.root.read(name, as: Int32.self), "\(mode) \(name)")
            }
            XCTAssertEqual(try one.root.read(DatasetPath.Retrieval.candidatesIndptr, as: Int64.self), try split.root.read(DatasetPath.Retrieval.candidatesIndptr, as: Int64.self))
            if mode == "all" {
                // Whole query blocks of the ranking GEMM per rank: the one-process scores, bit for bit.
                XCTAssertEqual(try one.root.read(DatasetPath.Retrieval.candidatesScore, as: Float.self),
                               try split.root.read(DatasetPath.Retrieval.candidatesScore, as: Float.self), "\(mode) scores")
            }
            let apOne = try one.root.read(DatasetPath.Retrieval.ap, as: Double.self), apThree = try split.root.read(DatasetPath.Retrieval.ap, as: Double.self)
            XCTAssertEqual(apOne.count, apThree.count)
            for (a, b) in zip(apOne, apThree) where !a.isNaN { XCTAssertEqual(a, b, accuracy: 1e-6, mode) }
            XCTAssertEqual(try one.root.intAttribute("ranks"), 1)
            XCTAssertEqual(try split.root.intAttribute("ranks"), 3)
            try one.close()
            try split.close()
        }
    }

    func testAnnotationOnThreeRanksMatchesOneProcess() throws {
        let args = ["--vectors", folder + "/features.h5:/visual", "--labels", folder + "/features.h5", "--epochs", "20",
                    "--learning-rate", "0.05", "--batch-size", "16", "--test-fraction", "0.3", "--save-predictions", "--seed", "2", "--threads", "1"]
        try Executables.succeed("eval-gap", args + ["--out", folder + "/one.h5"])
        let three = try Launch.run(Launch.mpirun(3, "eval-gap", args + ["--out", folder + "/three.h5"]))
        XCTAssertEqual(three.status, 0, three.stderr)
        let one = try Artifact.open(folder + "/one.h5", as: .annotation), split = try Artifact.open(folder + "/three.h5", as: .annotation)
        for name in ["gap", "map", "hit_at_1", "hit_at_5", "perr"] {
            let a = try XCTUnwrap(one.root.doubleAttribute(name)), b = try XCTUnwrap(split.root.doubleAttribute(name))
            XCTAssertTrue(a > 0 && (a < 1 || name.hasPrefix("hit")), "\(name) \(a): not a degenerate case")
            // Fixed gradient blocks summed in float64, whole prediction blocks per rank, exact PERR counts.
            XCTAssertEqual(a, b, "\(name): bit for bit")
        }
        XCTAssertEqual(try one.root.read(DatasetPath.Annotation.testRows, as: Int32.self), try split.root.read(DatasetPath.Annotation.testRows, as: Int32.self))
        XCTAssertEqual(try one.root.dataset(DatasetPath.Annotation.predictions).shape, try split.root.dataset(DatasetPath.Annotation.predictions).shape)
        XCTAssertEqual(try one.root.read(DatasetPath.Annotation.predictions, as: Float.self), try split.root.read(DatasetPath.Annotation.predictions, as: Float.self))
        XCTAssertEqual(try one.root.read(DatasetPath.Annotation.trainLoss, as: Double.self), try split.root.read(DatasetPath.Annotation.trainLoss, as: Double.self))
        XCTAssertEqual(try split.root.intAttribute("ranks"), 3)
        try one.close()
        try split.close()
        // Fewer gradient blocks than ranks is refused, as train-embed does (one process with 2 blocks would differ).
        let refused = try Launch.run(Launch.mpirun(3, "eval-gap", args + ["--gradient-blocks", "2", "--out", folder + "/refused.h5"]))
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--gradient-blocks: expected at least the number of ranks (3)") && refused.stderr.contains("found 2"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/refused.h5"))
    }
}
