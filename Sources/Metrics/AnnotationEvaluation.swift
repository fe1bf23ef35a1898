import Artifacts
import Foundation
import Support

/// Video labels from a features.h5 or frames.h5: `/video_id`, `/labels/indptr`,
/// `/labels/indices` with attribute `num_classes` on `/labels`, optional
/// `/label_names` and an optional `/split` (strings "train"/"test", or integers 0 = train, 1 = test).
public struct VideoLabels {
    public var path: String
    public var videoIDs: [String]
    public var classCount: Int
    public var indptr: [Int64]
    public var indices: [Int32]
    public var names: [String]?
    /// Whether each video is a test video, when the file has `/split`.
    public var isTest: [Bool]?

    public init(path: String, videoIDs: [String], classCount: Int, indptr: [Int64], indices: [Int32],
                names: [String]? = nil, isTest: [Bool]? = nil) {
        self.path = path
        self.videoIDs = videoIDs
        self.classCount = classCount
        self.indptr = indptr
        self.indices = indices
        self.names = names
        self.isTest = isTest
    }

    public var videoCount: Int { videoIDs.count }

    /// The true classes of video `row`.
    public func labels(_ row: Int) -> [Int32] { Array(indices[Int(indptr[row])..<Int(indptr[row + 1])]) }

    public static func read(_ path: String) throws -> VideoLabels {
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        let root = file.root
        let ids = try root.readStrings("video_id")
        guard root.exists("labels/indptr"), root.exists("labels/indices") else {
            throw GCMLError(file: path, object: "/labels", expected: "/labels/indptr and /labels/indices (video labels)", found: "no labels")
        }
        let indptr: [Int64] = try root.read("labels/indptr")
        let indices: [Int32] = try root.read("labels/indices")
        let names = root.exists("label_names") ? try root.readStrings("label_names") : nil
        var classes = try root.group("labels").intAttribute("num_classes").map(Int.init)
        if classes == nil, let names { classes = names.count }
        guard let classCount = classes, classCount > 0 else {
            throw GCMLError(file: path, object: "/labels attribute 'num_classes'", expected: "a positive class count", found: classes.map(String.init) ?? "nothing")
        }
        guard indptr.count == ids.count + 1, indptr.first == 0, indptr.last == Int64(indices.count) else {
            throw GCMLError(file: path, object: "/labels/indptr", expected: "\(ids.count + 1) pointers from 0 to \(indices.count)",
                            found: "\(indptr.count) pointers from \(indptr.first ?? -1) to \(indptr.last ?? -1)")
        }
        if let row = (0..<ids.count).first(where: { indptr[$0] > indptr[$0 + 1] }) {
            throw GCMLError(file: path, object: "/labels/indptr", expected: "non-decreasing pointers", found: "a decrease at video \(row) ('\(ids[row])')")
        }
        if let bad = indices.firstIndex(where: { $0 < 0 || Int($0) >= classCount }) {
            throw GCMLError(file: path, object: "/labels/indices", expected: "classes in 0..<\(classCount)", found: "\(indices[bad]) at entry \(bad)")
        }
        var isTest: [Bool]? = nil
        if root.exists("split") {
            let split = try root.dataset("split")
            guard split.rows == ids.count, split.rank == 1 else {
                throw GCMLError(file: path, object: "/split", expected: "[\(ids.count)] (one entry per video)", found: "shape \(split.shape)")
            }
            switch split.elementType {
            case .string:
                isTest = try split.readStrings().enumerated().map { row, value in
                    switch value {
                    case "train": return false
                    case "test": return true
                    default: throw GCMLError(file: path, object: "/split", expected: "'train' or 'test'", found: "'\(value)' for video \(row)")
                    }
                }
            case .int8, .uint8, .int32, .int64:
                let values: [Int64] = try readIntegers(split)
                isTest = try values.enumerated().map { row, value in
                    guard value == 0 || value == 1 else {
                        throw GCMLError(file: path, object: "/split", expected: "0 (train) or 1 (test)", found: "\(value) for video \(row)")
                    }
                    return value == 1
                }
            default:
                throw GCMLError(file: path, object: "/split", expected: "strings or integers", found: "\(split.elementType)")
            }
        }
        return VideoLabels(path: path, videoIDs: ids, classCount: classCount, indptr: indptr, indices: indices, names: names, isTest: isTest)
    }

    private static func readIntegers(_ dataset: Dataset) throws -> [Int64] {
        switch dataset.elementType {
        case .int8: return try dataset.read(as: Int8.self).map(Int64.init)
        case .uint8: return try dataset.read(as: UInt8.self).map(Int64.init)
        case .int32: return try dataset.read(as: Int32.self).map(Int64.init)
        default: return try dataset.read(as: Int64.self)
        }
    }
}

/// Video annotation with a frozen representation: a sigmoid FC layer trained on
/// the training videos, scored on the test videos with the YouTube-8M metrics.
public struct AnnotationEvaluation {
    public var testFraction: Double
    public var topK: Int
    public var savePredictions: Bool
    public var classifier: AnnotationClassifier.Options

    /// The split hashes video ids with this salt, so it is independent of other
    /// hash-based choices (e.g. build-graph's held-out videos).
    public static let splitSalt = StableHash.hash("gcml eval-gap split")

    public init(testFraction: Double = 0.2, topK: Int = 20, savePredictions: Bool = false,
                classifier: AnnotationClassifier.Options = .init()) {
        self.testFraction = testFraction
        self.topK = topK
        self.savePredictions = savePredictions
        self.classifier = classifier
    }

    /// Test videos: `/split` when the labels file has it, else StableHash.fraction(id) < testFraction.
    public func isTest(_ labels: VideoLabels) -> [Bool] {
        labels.isTest ?? labels.videoIDs.map { StableHash.fraction($0, salt: Self.splitSalt) < testFraction }
    }

    public func evaluate(vectors: VideoVectors, labels: VideoLabels) throws -> AnnotationResult {
        guard testFraction > 0 && testFraction < 1 else {
            throw GCMLError("--test-fraction: expected a number between 0 and 1, found \(testFraction)")
        }
        guard topK > 0 else { throw GCMLError("--top-k: expected a positive number, found \(topK)") }
        try vectors.checkAligned(with: labels.videoIDs, of: labels.path)
        let test = isTest(labels)
        let testRows = test.indices.filter { test[$0] }, trainRows = test.indices.filter { !test[$0] }
        guard !testRows.isEmpty, !trainRows.isEmpty else {
            throw GCMLError(file: labels.path, object: labels.isTest == nil ? "video ids" : "/split",
                            expected: "both train and test videos", found: "\(trainRows.count) train, \(testRows.count) test")
        }
        let progress = Support.Progress("eval-gap train", total: classifier.epochs, unit: "epochs")
        let model = AnnotationClassifier.train(x: vectors.values, rows: trainRows, labels: trainRows.map(labels.labels),
                                               classes: labels.classCount, inputs: vectors.dimension, options: classifier, progress: progress)
        progress.finish()
        var metrics = AnnotationMetrics(classCount: labels.classCount, topK: topK)
        var predictions: [Float] = []
        if savePredictions { predictions.reserveCapacity(testRows.count * labels.classCount) }
        model.predict(x: vectors.values, rows: testRows) { start, scores in
            let count = scores.count / labels.classCount
            metrics.add(scores: scores, labels: (start..<(start + count)).map { labels.labels(testRows[$0]) })
            if savePredictions { predictions.append(contentsOf: scores) }
        }
        return AnnotationResult(testRows: testRows.map(Int32.init), trainCount: trainRows.count, classCount: labels.classCount,
                                k: metrics.k, topClasses: metrics.topClasses, topScores: metrics.topScores,
                                predictions: savePredictions ? predictions : nil, scores: metrics.scores(), lossHistory: model.lossHistory)
    }
}

/// The outcome of an annotation evaluation, laid out as `gcml.eval.annotation/1`.
public struct AnnotationResult {
    public var testRows: [Int32]
    public var trainCount: Int
    public var classCount: Int
    public var k: Int
    public var topClasses: [Int32]
    public var topScores: [Float]
    public var predictions: [Float]?
    public var scores: AnnotationMetrics.Scores
    public var lossHistory: [Double]

    public func write(to file: HDF5File) throws {
        let root = file.root
        let m = testRows.count
        try root.write("test_rows", testRows)
        try root.write("top_k/class", topClasses, shape: [m, k])
        try root.write("top_k/score", topScores, shape: [m, k])
        if let predictions { try root.write("predictions", predictions, shape: [m, classCount]) }
        try root.write("train_loss", lossHistory)
        try root.setAttribute("gap", .double(scores.gap))
        try root.setAttribute("map", .double(scores.map))
        try root.setAttribute("hit_at_1", .double(scores.hitAt1))
        try root.setAttribute("hit_at_5", .double(scores.hitAt5))
        try root.setAttribute("perr", .double(scores.perr))
        try root.setAttribute("map_all_classes", .double(scores.mapAllClasses))
        try root.setAttribute("num_classes", .int(Int64(classCount)))
    }

    public var json: [String: Any] {
        ["gap": scores.gap, "map": scores.map, "map_all_classes": scores.mapAllClasses, "hit_at_1": scores.hitAt1,
         "hit_at_5": scores.hitAt5, "perr": scores.perr, "test_videos": testRows.count, "train_videos": trainCount,
         "test_videos_without_labels": scores.videosWithoutLabels, "classes": classCount,
         "classes_with_test_positives": scores.classesWithPositives, "top_k": k,
         "final_train_loss": jsonNumber(lossHistory.last ?? .nan)]
    }

    public var summary: String {
        func f(_ x: Double) -> String { String(format: "%.4f", x) }
        return """
        videos                  \(trainCount) train, \(testRows.count) test (\(scores.videosWithoutLabels) without labels)
        classes                 \(classCount) (\(scores.classesWithPositives) with test labels)
        GAP@\(k)\(String(repeating: " ", count: max(1, 20 - String(k).count)))\(f(scores.gap))
        MAP                     \(f(scores.map)) (over the classes with test labels; over all classes, empty ones as 0: \(f(scores.mapAllClasses)))
        Hit@1                   \(f(scores.hitAt1))
        Hit@5                   \(f(scores.hitAt5))
        PERR                    \(f(scores.perr))
        """
    }
}
