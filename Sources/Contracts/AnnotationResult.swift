import Artifacts
import Support

/// YouTube-8M annotation scores of one evaluation (definitions: Metrics/AnnotationMetrics.swift).
public struct AnnotationScores: Equatable, Sendable {
    public var gap: Double
    public var map: Double
    /// Mean AP over all C classes, a class without test positives counting 0 (not YouTube-8M's MAP,
    /// which `map` is: over the classes with test positives only).
    public var mapAllClasses: Double
    public var hitAt1: Double
    public var hitAt5: Double
    public var perr: Double
    public var videos: Int
    public var videosWithoutLabels: Int
    public var classesWithPositives: Int

    public init(gap: Double, map: Double, mapAllClasses: Double, hitAt1: Double, hitAt5: Double, perr: Double,
                videos: Int, videosWithoutLabels: Int, classesWithPositives: Int) {
        self.gap = gap
        self.map = map
        self.mapAllClasses = mapAllClasses
        self.hitAt1 = hitAt1
        self.hitAt5 = hitAt5
        self.perr = perr
        self.videos = videos
        self.videosWithoutLabels = videosWithoutLabels
        self.classesWithPositives = classesWithPositives
    }
}

/// The headline annotation metrics stored on a `gcml.eval.annotation/1` file.
public struct AnnotationSummary: Equatable, Sendable {
    public var gap: Double
    public var map: Double
    public var hitAt1: Double
    public var hitAt5: Double
    public var perr: Double

    public init(gap: Double, map: Double, hitAt1: Double, hitAt5: Double, perr: Double) {
        self.gap = gap
        self.map = map
        self.hitAt1 = hitAt1
        self.hitAt5 = hitAt5
        self.perr = perr
    }
}

/// The annotation evaluation artifact (`gcml.eval.annotation/1`): test videos, their top-K classes
/// and scores (all scores when asked), the classifier's loss, and the metrics. Under several ranks
/// the per-video rows are one rank's test videos and `scores` cover all of them.
public struct AnnotationResult {
    /// How ranks' parts of the artifact join: per-test-video rows concatenated in rank order.
    public static let partLayout = PartLayout(rows: [DatasetPath.Annotation.testRows, DatasetPath.Annotation.topClass,
                                                     DatasetPath.Annotation.topScore, DatasetPath.Annotation.predictions])

    public var testRows: [Int32]
    public var trainCount: Int
    public var classCount: Int
    public var k: Int
    public var topClasses: [Int32]
    public var topScores: [Float]
    public var predictions: [Float]?
    public var scores: AnnotationScores
    public var lossHistory: [Double]

    public init(testRows: [Int32], trainCount: Int, classCount: Int, k: Int, topClasses: [Int32], topScores: [Float],
                predictions: [Float]?, scores: AnnotationScores, lossHistory: [Double]) {
        self.testRows = testRows
        self.trainCount = trainCount
        self.classCount = classCount
        self.k = k
        self.topClasses = topClasses
        self.topScores = topScores
        self.predictions = predictions
        self.scores = scores
        self.lossHistory = lossHistory
    }

    /// Writes the datasets and root attributes of `gcml.eval.annotation/1`.
    public func write(to file: HDF5File) throws {
        let root = file.root
        let m = testRows.count
        try root.write(DatasetPath.Annotation.testRows, testRows)
        try root.write(DatasetPath.Annotation.topClass, topClasses, shape: [m, k])
        try root.write(DatasetPath.Annotation.topScore, topScores, shape: [m, k])
        if let predictions { try root.write(DatasetPath.Annotation.predictions, predictions, shape: [m, classCount]) }
        try root.write(DatasetPath.Annotation.trainLoss, lossHistory)
        try root.setAttribute(Attribute.gap, .double(scores.gap))
        try root.setAttribute(Attribute.map, .double(scores.map))
        try root.setAttribute(Attribute.hitAt1, .double(scores.hitAt1))
        try root.setAttribute(Attribute.hitAt5, .double(scores.hitAt5))
        try root.setAttribute(Attribute.perr, .double(scores.perr))
        try root.setAttribute(Attribute.mapAllClasses, .double(scores.mapAllClasses))
        try root.setAttribute(DatasetPath.Labels.numClassesAttribute, .int(Int64(classCount)))
    }

    /// Root attribute names.
    public enum Attribute {
        public static let gap = "gap", map = "map", hitAt1 = "hit_at_1", hitAt5 = "hit_at_5", perr = "perr"
        public static let mapAllClasses = "map_all_classes"
    }

    /// The headline numbers of a validated `gcml.eval.annotation/1` file (its root attributes).
    public static func readSummary(_ path: String) throws -> AnnotationSummary {
        let file = try Artifact.open(path, as: .annotation)
        defer { try? file.close() }
        let root = file.root
        return AnnotationSummary(gap: try requiredNumber(root, Attribute.gap), map: try requiredNumber(root, Attribute.map),
                                 hitAt1: try requiredNumber(root, Attribute.hitAt1), hitAt5: try requiredNumber(root, Attribute.hitAt5),
                                 perr: try requiredNumber(root, Attribute.perr))
    }
}
