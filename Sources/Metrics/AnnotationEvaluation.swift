import Artifacts
import Contracts
import Distributed
import Foundation
import LinearAlgebra
import Support

/// Video annotation with a frozen representation: a sigmoid FC layer trained on
/// the training videos, scored on the test videos with the YouTube-8M metrics.
public struct AnnotationEvaluation {
    public var testFraction: Double
    public var topK: Int
    public var savePredictions: Bool
    public var classifier: AnnotationClassifier.Options
    /// BLAS threads of the classifier (nil: OpenBLAS's setting).
    public var threads: Int?
    /// The ranks sharing the work: the classifier is trained data-parallel, the test videos are
    /// split into contiguous shares, and the metrics are taken over all of them.
    public var communicator = Communicator.serial

    /// The split hashes video ids with this salt, so it is independent of other
    /// hash-based choices (e.g. the graph's held-out videos). The value is the one
    /// the split has always used (a stable hash of its original salt text): changing
    /// it would move videos between train and test.
    public static let splitSalt: UInt64 = 0x3945_200e_ff25_eee0

    public init(testFraction: Double = 0.2, topK: Int = 20, savePredictions: Bool = false,
                classifier: AnnotationClassifier.Options = .init(), threads: Int? = nil) {
        self.testFraction = testFraction
        self.topK = topK
        self.savePredictions = savePredictions
        self.classifier = classifier
        self.threads = threads
    }

    /// Test videos: `/split` when the labels file has it, else StableHash.fraction(id) < testFraction.
    public func isTest(_ labels: VideoLabels) -> [Bool] {
        labels.isTest ?? labels.videoIDs.map { StableHash.fraction($0, salt: Self.splitSalt) < testFraction }
    }

    public func evaluate(vectors: VideoVectors, labels: VideoLabels, progress: ProgressReporter = .unnamed) throws -> AnnotationResult {
        try BLAS.withThreads(threads) { try evaluateWithCurrentThreads(vectors: vectors, labels: labels, progress: progress) }
    }

    private func evaluateWithCurrentThreads(vectors: VideoVectors, labels: VideoLabels, progress reporter: ProgressReporter) throws -> AnnotationResult {
        guard testFraction > 0 && testFraction < 1 else {
            throw GCMLError(parameter: "testFraction", expected: "a number between 0 and 1", found: "\(testFraction)")
        }
        guard topK > 0 else { throw GCMLError(parameter: "topK", expected: "a positive number", found: "\(topK)") }
        try vectors.checkAligned(with: labels.videoIDs, of: labels.path)
        let test = isTest(labels)
        let testRows = test.indices.filter { test[$0] }, trainRows = test.indices.filter { !test[$0] }
        guard !testRows.isEmpty, !trainRows.isEmpty else {
            throw GCMLError(file: labels.path, object: labels.isTest == nil ? "video ids" : "/split",
                            expected: "both train and test videos", found: "\(trainRows.count) train, \(testRows.count) test")
        }
        let progress = reporter.progress("training", total: classifier.epochs, unit: "epochs")
        let model = try AnnotationClassifier.train(x: vectors.values, rows: trainRows, labels: trainRows.map(labels.labels),
                                               classes: labels.classCount, inputs: vectors.dimension, options: classifier,
                                               communicator: communicator, progress: progress)
        progress.finish()
        // Whole prediction blocks per rank: a row's scores depend on its place in the block's GEMM.
        let scored = Array(testRows[communicator.share(of: testRows.count, inBlocksOf: AnnotationClassifier.predictionBlock)])
        var metrics = AnnotationMetrics(classCount: labels.classCount, topK: topK)
        var predictions: [Float] = []
        if savePredictions { predictions.reserveCapacity(scored.count * labels.classCount) }
        model.predict(x: vectors.values, rows: scored) { start, scores in
            let count = scores.count / labels.classCount
            metrics.add(scores: scores, labels: (start..<(start + count)).map { labels.labels(scored[$0]) })
            if savePredictions { predictions.append(contentsOf: scores) }
        }
        return AnnotationResult(testRows: scored.map(Int32.init), trainCount: trainRows.count, classCount: labels.classCount,
                                k: metrics.k, topClasses: metrics.topClasses, topScores: metrics.topScores,
                                predictions: savePredictions ? predictions : nil, scores: try metrics.gathered(over: communicator).scores(),
                                lossHistory: model.lossHistory)
    }
}

extension AnnotationResult {
    public var json: [String: Any] {
        ["gap": scores.gap, "map": scores.map, "map_all_classes": scores.mapAllClasses, "hit_at_1": scores.hitAt1,
         "hit_at_5": scores.hitAt5, "perr": scores.perr, "test_videos": scores.videos, "train_videos": trainCount,
         "test_videos_without_labels": scores.videosWithoutLabels, "classes": classCount,
         "classes_with_test_positives": scores.classesWithPositives, "top_k": k,
         "final_train_loss": jsonNumber(lossHistory.last ?? .nan)]
    }

    public var summary: String {
        func f(_ x: Double) -> String { String(format: "%.4f", x) }
        return """
        videos                  \(trainCount) train, \(scores.videos) test (\(scores.videosWithoutLabels) without labels)
        classes                 \(classCount) (\(scores.classesWithPositives) with test labels)
        GAP@\(k)\(String(repeating: " ", count: max(1, 20 - String(k).count)))\(f(scores.gap))
        MAP                     \(f(scores.map)) (over the classes with test labels; over all classes, empty ones as 0: \(f(scores.mapAllClasses)))
        Hit@1                   \(f(scores.hitAt1))
        Hit@5                   \(f(scores.hitAt5))
        PERR                    \(f(scores.perr))
        """
    }
}
