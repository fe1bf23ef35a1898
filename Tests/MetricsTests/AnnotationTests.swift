import Artifacts
import Contracts
import Foundation
import Metrics
import Support
import TestSupport
import XCTest

/// The YouTube-8M starter code's metrics, transcribed directly (dense predictions,
/// tie-free inputs), as the reference for the streaming implementation.
enum StarterCode {
    static func apAtN(_ predictions: [Float], _ actuals: [Bool], totalPositives: Int) -> Double {
        guard totalPositives > 0 else { return 0 }
        let order = predictions.indices.sorted { predictions[$0] > predictions[$1] }
        var ap = 0.0, poscount = 0.0
        for (i, index) in order.enumerated() where actuals[index] {
            poscount += 1
            ap += poscount / Double(i + 1) / Double(totalPositives)
        }
        return ap
    }

    static func evaluate(_ p: [[Float]], _ labels: [[Int32]], topK: Int) -> (gap: Double, map: Double, hit1: Double, hit5: Double, perr: Double) {
        let classes = p[0].count, k = min(topK, classes)
        var pooled: [Float] = [], pooledTrue: [Bool] = []
        var byClass = [[Float]](repeating: [], count: classes), byClassTrue = [[Bool]](repeating: [], count: classes)
        var positives = [Int](repeating: 0, count: classes)
        var hit1 = 0.0, hit5 = 0.0, perr = 0.0
        for (v, row) in p.enumerated() {
            let truth = Set(labels[v])
            for c in truth { positives[Int(c)] += 1 }
            let order = row.indices.sorted { row[$0] > row[$1] }
            for c in order.prefix(k) {
                pooled.append(row[c]); pooledTrue.append(truth.contains(Int32(c)))
                byClass[c].append(row[c]); byClassTrue[c].append(truth.contains(Int32(c)))
            }
            let argmax = row.indices.max { row[$0] < row[$1] }!
            hit1 += truth.contains(Int32(argmax)) ? 1 : 0
            hit5 += order.prefix(5).contains { truth.contains(Int32($0)) } ? 1 : 0
            if !truth.isEmpty {
                perr += Double(order.prefix(truth.count).filter { truth.contains(Int32($0)) && row[$0] > 0 }.count) / Double(truth.count)
            }
        }
        let gap = apAtN(pooled, pooledTrue, totalPositives: positives.reduce(0, +))
        // MeanAveragePrecisionCalculator with filter_empty_classes=True: classes without positives are left out.
        let nonEmpty = (0..<classes).filter { positives[$0] > 0 }
        let map = nonEmpty.isEmpty ? 0 : nonEmpty.map { apAtN(byClass[$0], byClassTrue[$0], totalPositives: positives[$0]) }.reduce(0, +) / Double(nonEmpty.count)
        let n = Double(p.count)
        return (gap, map, hit1 / n, hit5 / n, perr / n)
    }
}

final class AnnotationMetricsTests: XCTestCase {
    func testHandComputedCaseWithUnlabelledVideoAndClassWithoutPositives() {
        // 3 videos × 4 classes, top 2 per video. Video 2 has no labels; class 1 has no positives.
        var metrics = AnnotationMetrics(classCount: 4, topK: 2)
        metrics.add(scores: [0.9, 0.1, 0.8, 0.3,
                             0.2, 0.7, 0.6, 0.5,
                             0.4, 0.35, 0.1, 0.05], labels: [[0], [2, 3], []])
        let s = metrics.scores()
        // Pooled top-2: .9 T, .8 F, .7 F, .6 T, .4 F, .35 F; 3 true labels in all → (1/1 + 2/4) / 3.
        XCTAssertEqual(s.gap, 0.5, accuracy: 1e-12)
        // Per class: c0 [.9 T, .4 F] → 1; c1 no positives → skipped (YouTube-8M's filter_empty_classes);
        // c2 [.8 F, .6 T] → 1/2; c3 has a positive but is never in a top-2 → 0.
        XCTAssertEqual(s.map, (1 + 0.5 + 0) / 3, accuracy: 1e-12)
        XCTAssertEqual(s.mapAllClasses, (1 + 0 + 0.5 + 0) / 4, accuracy: 1e-12)
        XCTAssertEqual(s.hitAt1, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(s.hitAt5, 2.0 / 3, accuracy: 1e-12)
        // PERR: video 0 top-1 {0} → 1; video 1 top-2 {1, 2} → 1/2; video 2 → 0 (counted, as in the starter code).
        XCTAssertEqual(s.perr, 0.5, accuracy: 1e-12)
        XCTAssertEqual(s.videosWithoutLabels, 1)
        XCTAssertEqual(s.classesWithPositives, 3)
        XCTAssertEqual(metrics.topClasses, [0, 2, 1, 2, 0, 1])
        XCTAssertEqual(metrics.topScores, [0.9, 0.8, 0.7, 0.6, 0.4, 0.35])
    }

    func testMAPSkipsAClassWithoutTestPositives() {
        // 2 videos × 3 classes, all 3 in the top-K; class 2 is nobody's label.
        var metrics = AnnotationMetrics(classCount: 3, topK: 3)
        metrics.add(scores: [0.9, 0.6, 0.5,
                             0.8, 0.3, 0.1], labels: [[0], [1]])
        let s = metrics.scores()
        // c0: [.9 T, .8 F] → 1; c1: [.6 F, .3 T] → (1/2) / 1 = 0.5; c2: no positives → skipped.
        XCTAssertEqual(s.map, (1 + 0.5) / 2, accuracy: 1e-12)
        XCTAssertEqual(s.mapAllClasses, (1 + 0.5 + 0) / 3, accuracy: 1e-12)
        XCTAssertEqual(s.classesWithPositives, 2)
    }

    func testTiesRankLowerClassFirstAndPoolAsOneThreshold() {
        var metrics = AnnotationMetrics(classCount: 3, topK: 2)
        metrics.add(scores: [0.5, 0.5, 0.1], labels: [[1]])
        let s = metrics.scores()
        XCTAssertEqual(metrics.topClasses, [0, 1])
        XCTAssertEqual(s.hitAt1, 0)          // argmax takes the first maximum, as numpy does
        XCTAssertEqual(s.hitAt5, 1)
        XCTAssertEqual(s.gap, 0.5, accuracy: 1e-12)   // one true pair in a tie of two
        XCTAssertEqual(s.perr, 0)            // the best 1 class is class 0
    }

    func testPooledAPWithoutPositivesIsZero() {
        XCTAssertEqual(AnnotationMetrics.pooledAP(scores: [0.3, 0.2], isTrue: [false, false], positives: 0), 0)
        XCTAssertEqual(AnnotationMetrics.pooledAP(scores: [], isTrue: [], positives: 3), 0)
        // A true pair at rank 2 of 2 true labels overall: (1/2) / 2.
        XCTAssertEqual(AnnotationMetrics.pooledAP(scores: [0.3, 0.2], isTrue: [false, true], positives: 2), 0.25, accuracy: 1e-12)
    }

    func testRandomPredictionsMatchTheStarterCodeDefinitions() {
        var generator = SeededGenerator(seed: 21)
        for trial in 0..<20 {
            let videos = 1 + generator.below(60), classes = 2 + generator.below(30), topK = 1 + generator.below(25)
            // Distinct scores (no ties): a shuffled ladder in (0, 1).
            var ladder = (0..<(videos * classes)).map { Float($0 + 1) / Float(videos * classes + 1) }
            for i in stride(from: ladder.count - 1, to: 0, by: -1) { ladder.swapAt(i, generator.below(i + 1)) }
            let labels = (0..<videos).map { _ in (0..<generator.below(4)).map { _ in Int32(generator.below(classes)) } }
            var metrics = AnnotationMetrics(classCount: classes, topK: topK)
            // Streamed in uneven blocks.
            var start = 0
            while start < videos {
                let count = min(1 + generator.below(7), videos - start)
                metrics.add(scores: Array(ladder[(start * classes)..<((start + count) * classes)]), labels: Array(labels[start..<(start + count)]))
                start += count
            }
            let rows = (0..<videos).map { Array(ladder[($0 * classes)..<(($0 + 1) * classes)]) }
            let expected = StarterCode.evaluate(rows, labels, topK: topK)
            let s = metrics.scores()
            XCTAssertEqual(s.gap, expected.gap, accuracy: 1e-9, "trial \(trial)")
            XCTAssertEqual(s.map, expected.map, accuracy: 1e-9, "trial \(trial)")
            XCTAssertEqual(s.hitAt1, expected.hit1, accuracy: 1e-12, "trial \(trial)")
            XCTAssertEqual(s.hitAt5, expected.hit5, accuracy: 1e-12, "trial \(trial)")
            XCTAssertEqual(s.perr, expected.perr, accuracy: 1e-12, "trial \(trial)")
        }
    }
}

final class AnnotationClassifierTests: XCTestCase {
    /// Labels that a linear layer can represent exactly: class c is true when w_c·x > 0.3.
    func separableProblem(videos: Int, dimension: Int, classes: Int, seed: UInt64) -> (VideoVectors, VideoLabels) {
        var generator = SeededGenerator(seed: seed)
        let x = (0..<(videos * dimension)).map { _ in Float(generator.normal()) }
        let w = (0..<(classes * dimension)).map { _ in Float(generator.normal()) / Float(dimension).squareRoot() }
        var indptr: [Int64] = [0], indices: [Int32] = []
        for v in 0..<videos {
            for c in 0..<classes {
                let z = (0..<dimension).reduce(Float(0)) { $0 + x[v * dimension + $1] * w[c * dimension + $1] }
                if z > 0.3 { indices.append(Int32(c)) }
            }
            indptr.append(Int64(indices.count))
        }
        let ids = (0..<videos).map { "video-\($0)" }
        return (VideoVectors(path: "memory", dataset: "/x", videoIDs: ids, rows: videos, dimension: dimension, values: x),
                VideoLabels(path: "memory", videoIDs: ids, classCount: classes, indptr: indptr, indices: indices))
    }

    func testClassifierReachesNearPerfectGAPOnLinearlySeparableLabels() throws {
        let (vectors, labels) = separableProblem(videos: 1500, dimension: 12, classes: 6, seed: 5)
        let evaluation = AnnotationEvaluation(testFraction: 0.2, topK: 20,
                                              classifier: .init(epochs: 40, batchSize: 64, learningRate: 0.05, l2: 0, seed: 1))
        let result = try evaluation.evaluate(vectors: vectors, labels: labels)
        XCTAssertGreaterThan(result.scores.gap, 0.97)
        XCTAssertGreaterThan(result.scores.perr, 0.9)
        XCTAssertLessThan(result.lossHistory.last!, result.lossHistory.first!)
        XCTAssertEqual(result.testRows.count + result.trainCount, 1500)
        XCTAssertEqual(result.topClasses.count, result.testRows.count * 6)   // K = min(20, 6)
    }

    func testSameSeedGivesIdenticalResults() throws {
        let (vectors, labels) = separableProblem(videos: 300, dimension: 8, classes: 4, seed: 9)
        let evaluation = AnnotationEvaluation(savePredictions: true, classifier: .init(epochs: 3, seed: 4))
        let a = try evaluation.evaluate(vectors: vectors, labels: labels)
        let b = try evaluation.evaluate(vectors: vectors, labels: labels)
        XCTAssertEqual(a.predictions, b.predictions)
        XCTAssertEqual(a.scores, b.scores)
        XCTAssertEqual(a.predictions?.count, a.testRows.count * 4)
    }

    func testSplitFollowsStableHashOfVideoIDOrTheSplitDataset() {
        let (_, labels) = separableProblem(videos: 400, dimension: 2, classes: 2, seed: 1)
        let evaluation = AnnotationEvaluation(testFraction: 0.25)
        let test = evaluation.isTest(labels)
        for (row, id) in labels.videoIDs.enumerated() {
            XCTAssertEqual(test[row], StableHash.fraction(id, salt: AnnotationEvaluation.splitSalt) < 0.25)
        }
        XCTAssertEqual(Double(test.filter { $0 }.count) / 400, 0.25, accuracy: 0.07)
        var fixed = labels
        fixed.isTest = (0..<400).map { $0 % 2 == 0 }
        XCTAssertEqual(evaluation.isTest(fixed), fixed.isTest)
    }
}

final class InputFileTests: FolderTestCase {

    func testVectorSpecSplitsAtTheLastColonSlash() {
        XCTAssertTrue(VideoVectors.parse("out/embeddings.h5", defaultDataset: "/embedding") == ("out/embeddings.h5", "/embedding"))
        XCTAssertTrue(VideoVectors.parse("features.h5:/visual", defaultDataset: "/embedding") == ("features.h5", "/visual"))
        XCTAssertTrue(VideoVectors.parse("a:b/f.h5:/g/d", defaultDataset: "/embedding") == ("a:b/f.h5", "/g/d"))
    }

    func testVectorsMustMatchTheOtherFilesVideos() throws {
        let path = folder + "/v.h5"
        let file = try HDF5File.create(path)
        try file.root.write("video_id", strings: ["a", "b", "c"])
        try file.root.write("x", [Float](repeating: 1, count: 6), shape: [3, 2])
        try file.root.write("bad", [Float(1), .nan, 0, 0, 0, 0], shape: [3, 2])
        try file.root.write("ints", [Int32](repeating: 1, count: 6), shape: [3, 2])
        try file.close()
        let vectors = try VideoVectors.read(path + ":/x")
        XCTAssertEqual(vectors.rows, 3)
        XCTAssertEqual(vectors.dimension, 2)
        XCTAssertNoThrow(try vectors.checkAligned(with: ["a", "b", "c"], of: "g.h5"))
        XCTAssertThrowsError(try vectors.checkAligned(with: ["a", "x", "c"], of: "g.h5")) { error in
            XCTAssertTrue("\(error)".contains("row 1"), "\(error)")
        }
        XCTAssertThrowsError(try vectors.checkAligned(with: ["a", "b"], of: "g.h5"))
        XCTAssertThrowsError(try VideoVectors.read(path + ":/bad")) { XCTAssertTrue("\($0)".contains("finite"), "\($0)") }
        XCTAssertThrowsError(try VideoVectors.read(path + ":/ints")) { XCTAssertTrue("\($0)".contains("float32"), "\($0)") }
        XCTAssertThrowsError(try VideoVectors.read(path)) { XCTAssertTrue("\($0)".contains("/embedding"), "\($0)") }
    }

    func testLabelsAreReadWithClassCountAndSplit() throws {
        let path = folder + "/labels.h5"
        let file = try HDF5File.create(path)
        try file.root.write("video_id", strings: ["a", "b", "c"])
        try file.root.write("labels/indptr", [Int64(0), 2, 2, 3])
        try file.root.write("labels/indices", [Int32(0), 4, 1])
        try file.root.group("labels").setAttribute("num_classes", .int(5))
        try file.root.write("split", strings: ["train", "test", "train"])
        try file.close()
        let labels = try VideoLabels.read(path)
        XCTAssertEqual(labels.classCount, 5)
        XCTAssertEqual(labels.labels(0), [0, 4])
        XCTAssertEqual(labels.labels(1), [])
        XCTAssertEqual(labels.isTest, [false, true, false])

        let bad = folder + "/bad.h5"
        let badFile = try HDF5File.create(bad)
        try badFile.root.write("video_id", strings: ["a"])
        try badFile.root.write("labels/indptr", [Int64(0), 1])
        try badFile.root.write("labels/indices", [Int32(7)])
        try badFile.root.group("labels").setAttribute("num_classes", .int(5))
        try badFile.close()
        XCTAssertThrowsError(try VideoLabels.read(bad)) { XCTAssertTrue("\($0)".contains("0..<5"), "\($0)") }
    }
}
