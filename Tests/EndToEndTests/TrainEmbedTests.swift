import Artifacts
import Contracts
import Foundation
import Support
import XCTest

/// train-embed end to end on tiny generated artifacts (features, triplets, tree, graph).
final class TrainEmbedTests: XCTestCase {
    let videos = 60, topics = 4, visualWidth = 8, audioWidth = 4
    var folder = ""

    override func setUpWithError() throws {
        folder = try Executables.temporaryFolder()
        try writeInputs(scale: 1)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    var small: [String] { ["--hidden", "16", "--audio-hidden", "8", "--dim", "8", "--batch-size", "8", "--threads", "1", "--log-every", "2"] }

    func topic(_ v: Int) -> Int { v % topics }

    func writeInputs(scale: Float, features name: String = "features.h5") throws {
        var generator = SeededGenerator(seed: 3)
        var visual: [Float] = [], audio: [Float] = []
        for v in 0..<videos {
            for c in 0..<visualWidth { visual.append(scale * (Float(c % topics == topic(v) ? 2 : 0) + Float(generator.normal()))) }
            for _ in 0..<audioWidth { audio.append(scale * Float(generator.normal())) }
        }
        let table = FeatureTable(videoIDs: (0..<videos).map { "vid\($0)" }, visual: visual, visualWidth: visualWidth, audio: audio,
                                 audioWidth: audioWidth)
        try Artifact.write("\(folder)/\(name)", schema: .features, createdBy: "test") { file in
            try table.write(to: file, frameCounts: [Int32](repeating: 10, count: videos))
        }
        var anchor: [Int32] = [], positive: [Int32] = [], negative: [Int32] = []
        for t in 0..<200 {
            let a = t % videos
            anchor.append(Int32(a))
            positive.append(Int32((a + topics * (1 + generator.below(videos / topics - 1))) % videos))
            negative.append(Int32((a + 1 + generator.below(topics - 1)) % videos))
        }
        let triplets = TripletSet(anchor: anchor, positive: positive, negative: negative, negativeLevel: [Int8](repeating: 0, count: anchor.count))
        try Artifact.write("\(folder)/triplets.h5", schema: .triplets, createdBy: "test") { try triplets.write(to: $0) }
        try Artifact.write("\(folder)/tree.h5", schema: .tree, createdBy: "test") { file in
            // Level 1: topic clusters plus one singleton (video 0 alone), which gets no class.
            var assignment = (0..<videos).map { Int32(topic($0)) }
            assignment[0] = Int32(topics)
            var size = [Int64](repeating: 0, count: topics + 1)
            for a in assignment { size[Int(a)] += 1 }
            try ClusterTree(levels: [ClusterLevel(assignment: assignment, size: size, parent: nil)]).write(to: file)
        }
        // Graph: train edges to the next same-topic video, held-out edges to the one after.
        func csr(_ offset: Int) -> CSRGraph {
            var indptr: [Int64] = [0], indices: [Int32] = []
            for v in 0..<videos {
                let a = (v + offset * topics) % videos, b = (v - offset * topics + videos) % videos
                indices += [Int32(min(a, b)), Int32(max(a, b))]
                indptr.append(Int64(indices.count))
            }
            return CSRGraph(indptr: indptr, indices: indices, weights: [Float](repeating: 1, count: indices.count))
        }
        let graph = RelationalGraph(videoIDs: (0..<videos).map { "vid\($0)" }, train: csr(1), heldout: csr(2), heldoutNodes: [])
        try Artifact.write("\(folder)/graph.h5", schema: .graph, createdBy: "test") { try graph.write(to: $0) }
    }

    func read(_ path: String, _ dataset: String) throws -> [Float] {
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        return try file.root.read(dataset)
    }

    func testTripletTrainingWritesModelHistoryAndUnitEmbeddingsForAllVideos() throws {
        let result = try Executables.succeed("train-embed", ["--features", "\(folder)/features.h5", "--triplets", "\(folder)/triplets.h5",
                                                             "--out", "\(folder)/model.h5", "--embeddings", "\(folder)/emb.h5",
                                                             "--steps", "20", "--validate", "\(folder)/graph.h5", "--validate-every", "10"] + small)
        XCTAssertTrue(result.stdout.contains("final loss"), result.stdout)
        XCTAssertTrue(result.stdout.contains("validation MAP"), result.stdout)
        let history = try ModelRun.read("\(folder)/model.h5").history
        XCTAssertEqual(history.step, Array(stride(from: 2, through: 20, by: 2)).map(Int64.init))
        XCTAssertEqual(history.validationStep, [0, 10, 20])
        // The layers and the optimiser state have no contract reader (only train-embed reads them, to resume).
        let model = try Artifact.open("\(folder)/model.h5", as: .model)
        XCTAssertEqual(try model.root.dataset("visual/fc1/weight").shape, [16, visualWidth])
        XCTAssertEqual(try model.root.dataset("audio/fc2/weight").shape, [8, 8])
        XCTAssertTrue(model.root.exists("optimizer/visual/fc1/weight_m"))
        try model.close()
        let embeddings = try VideoVectors.read("\(folder)/emb.h5")
        XCTAssertEqual([embeddings.rows, embeddings.dimension], [videos, 8])
        let values = embeddings.values
        for r in 0..<videos {
            let norm = (0..<8).reduce(Float(0)) { $0 + values[r * 8 + $1] * values[r * 8 + $1] }
            XCTAssertEqual(norm, 1, accuracy: 1e-5)
        }
    }

    func testClassificationWithSampledSoftmaxSkipsSingletonClusters() throws {
        try Executables.succeed("train-embed", ["--features", "\(folder)/features.h5", "--tree", "\(folder)/tree.h5", "--classify-level", "1",
                                                "--sampled", "2", "--proposal", "log-uniform", "--out", "\(folder)/model.h5", "--steps", "10"] + small)
        let model = try Artifact.open("\(folder)/model.h5", as: .model)
        defer { try? model.close() }
        XCTAssertEqual(try model.root.dataset("classifier/weight").shape, [topics, 8])
        let clusters: [Int32] = try model.root.read("classifier/cluster")
        XCTAssertEqual(Set(clusters), Set((0..<topics).map(Int32.init)), "the singleton cluster \(topics) is not a class")
    }

    func testResumedRunEqualsUninterruptedRun() throws {
        let common = ["--features", "\(folder)/features.h5", "--triplets", "\(folder)/triplets.h5", "--seed", "9"] + small
        try Executables.succeed("train-embed", common + ["--out", "\(folder)/whole.h5", "--steps", "12", "--checkpoint-every", "5"])
        try Executables.succeed("train-embed", common + ["--out", "\(folder)/part.h5", "--steps", "7"])
        try Executables.succeed("train-embed", common + ["--out", "\(folder)/part.h5", "--steps", "12", "--resume"])
        XCTAssertEqual(try ModelRun.read("\(folder)/whole.h5").history.loss, try ModelRun.read("\(folder)/part.h5").history.loss)
        // Weights and optimiser state: train-embed's own checkpoint layout, no contract reader.
        for dataset in ["visual/fc1/weight", "audio/fc2/bias", "optimizer/visual/fc2/weight_v"] {
            XCTAssertEqual(try read("\(folder)/whole.h5", dataset), try read("\(folder)/part.h5", dataset), dataset)
        }
    }

    func testNonFiniteLossStopsAndKeepsThePreviousModel() throws {
        let args = ["--triplets", "\(folder)/triplets.h5", "--out", "\(folder)/model.h5", "--steps", "3"] + small
        try Executables.succeed("train-embed", ["--features", "\(folder)/features.h5"] + args)
        let before = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/model.h5"))
        try writeInputs(scale: 1e30, features: "huge.h5")   // finite inputs whose products overflow
        let result = try Executables.run("train-embed", ["--features", "\(folder)/huge.h5"] + args)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("not finite"), result.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(folder)/model.h5")), before)
    }

    func testTripletsOutsideTheFeaturesAreRejectedWithFileAndDataset() throws {
        try Artifact.write("\(folder)/bad.h5", schema: .triplets, createdBy: "test") { file in
            try file.root.write(DatasetPath.Triplets.anchor, [Int32(0), Int32(videos + 5)])
            try file.root.write(DatasetPath.Triplets.positive, [Int32(1), Int32(2)])
            try file.root.write(DatasetPath.Triplets.negative, [Int32(3), Int32(4)])
            try file.root.write(DatasetPath.Triplets.negativeLevel, [Int8(0), Int8(0)])
        }
        let result = try Executables.run("train-embed", ["--features", "\(folder)/features.h5", "--triplets", "\(folder)/bad.h5",
                                                         "--out", "\(folder)/model.h5", "--steps", "2"] + small)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("bad.h5") && result.stderr.contains("/anchor") && result.stderr.contains("\(videos + 5)"),
                      result.stderr)
    }
}
