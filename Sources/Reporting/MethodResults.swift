import Artifacts
import Foundation
import Support

/// Retrieval metrics of one `gcml.eval.retrieval/1` file.
public struct RetrievalScores: Equatable, Sendable {
    public var map: Double
    public var ndcg: Double
    public var k: Int?
    public var queries: Int

    public init(map: Double, ndcg: Double, k: Int?, queries: Int) {
        self.map = map
        self.ndcg = ndcg
        self.k = k
        self.queries = queries
    }
}

/// Annotation metrics of one `gcml.eval.annotation/1` file.
public struct AnnotationScores: Equatable, Sendable {
    public var gap: Double
    public var map: Double
    public var hitAt1: Double
    public var hitAt5: Double
    public var perr: Double
}

/// What a trained model's history says (`gcml.model/1`).
public struct TrainingHistory: Equatable, Sendable {
    public var steps: Int?
    public var wallSeconds: Double?
    public var loss: LearningCurve
    /// Held-out retrieval MAP on the sampled candidates (neighbours + random videos).
    public var validationMAP: LearningCurve?
    /// Held-out retrieval MAP of the same queries ranked against the whole corpus.
    public var validationMAPFullCorpus: LearningCurve?
    /// In-batch mining statistics per logged window (triplet training only).
    public var presampledNegativeChosen: LearningCurve?
    public var activeFraction: LearningCurve?
    public var anchorNegativeDistance: LearningCurve?

    public init(steps: Int? = nil, wallSeconds: Double? = nil, loss: LearningCurve, validationMAP: LearningCurve? = nil,
                validationMAPFullCorpus: LearningCurve? = nil, presampledNegativeChosen: LearningCurve? = nil,
                activeFraction: LearningCurve? = nil, anchorNegativeDistance: LearningCurve? = nil) {
        self.steps = steps
        self.wallSeconds = wallSeconds
        self.loss = loss
        self.validationMAP = validationMAP
        self.validationMAPFullCorpus = validationMAPFullCorpus
        self.presampledNegativeChosen = presampledNegativeChosen
        self.activeFraction = activeFraction
        self.anchorNegativeDistance = anchorNegativeDistance
    }

    /// The validation curve of a measure.
    public func validation(_ measure: ValidationMeasure) -> LearningCurve? {
        switch measure {
        case .sampled: return validationMAP
        case .fullCorpus: return validationMAPFullCorpus
        }
    }
}

/// The two validation measures train-embed can log.
public enum ValidationMeasure: String, CaseIterable, Sendable {
    /// Held-out neighbours + random candidates (saturates early on easy corpora).
    case sampled
    /// The same held-out queries ranked against every video (harder, resolves differences longer).
    case fullCorpus = "full_corpus"

    public var label: String {
        switch self {
        case .sampled: return "validation MAP (sampled candidates)"
        case .fullCorpus: return "validation MAP (full corpus)"
        }
    }
}

/// Everything the report knows about one method: each piece is nil when its file is absent.
public struct MethodResults: Sendable {
    public var name: String
    public var folder: String
    public var retrieval: RetrievalScores?
    /// Full-corpus candidates (`retrieval-all.h5`).
    public var retrievalAll: RetrievalScores?
    public var annotation: AnnotationScores?
    public var training: TrainingHistory?
    /// File names that were looked for and not found.
    public var missing: [String] = []

    public static let retrievalFile = "retrieval.h5"
    public static let retrievalAllFile = "retrieval-all.h5"
    public static let annotationFile = "annotation.h5"
    public static let modelFile = "model.h5"

    /// A readable label for the default method folders.
    public var label: String {
        switch name {
        case "gcml": return "GCML (smart triplets)"
        case "cdml": return "CDML (random triplets)"
        case "cluster": return "Cluster classification"
        case "raw": return "Raw features (untrained)"
        default: return name
        }
    }

    public init(name: String, folder: String) {
        self.name = name
        self.folder = folder
    }

    /// Reads whichever of the method's artifacts exist in `folder`. Absent files are
    /// recorded in `missing`; files that exist but are invalid throw `GCMLError`.
    public static func read(name: String, folder: String) throws -> MethodResults {
        var result = MethodResults(name: name, folder: folder)
        func path(_ file: String) -> String? {
            let full = (folder as NSString).appendingPathComponent(file)
            if FileManager.default.fileExists(atPath: full) { return full }
            result.missing.append(file)
            return nil
        }
        if let p = path(retrievalFile) { result.retrieval = try readRetrieval(p) }
        if let p = path(retrievalAllFile) { result.retrievalAll = try readRetrieval(p) }
        if let p = path(annotationFile) { result.annotation = try readAnnotation(p) }
        if let p = path(modelFile) { result.training = try readTraining(p) }
        return result
    }

    static func required(_ object: HDF5Object, _ name: String, in path: String) throws -> Double {
        guard let value = try object.doubleAttribute(name) else {
            throw GCMLError(file: path, object: "root attribute '\(name)'", expected: "a number", found: "nothing or a non-number")
        }
        return value
    }

    public static func readRetrieval(_ path: String) throws -> RetrievalScores {
        let file = try Artifact.open(path, as: .retrieval)
        defer { try? file.close() }
        let root = file.root
        return RetrievalScores(map: try required(root, "map", in: path), ndcg: try required(root, "ndcg_at_k", in: path),
                               k: try root.intAttribute("k").map(Int.init), queries: try root.dataset("query").rows)
    }

    public static func readAnnotation(_ path: String) throws -> AnnotationScores {
        let file = try Artifact.open(path, as: .annotation)
        defer { try? file.close() }
        let root = file.root
        return AnnotationScores(gap: try required(root, "gap", in: path), map: try required(root, "map", in: path),
                                hitAt1: try required(root, "hit_at_1", in: path), hitAt5: try required(root, "hit_at_5", in: path),
                                perr: try required(root, "perr", in: path))
    }

    public static func readTraining(_ path: String) throws -> TrainingHistory {
        let file = try Artifact.open(path, as: .model)
        defer { try? file.close() }
        let root = file.root
        let loss = LearningCurve(steps: try readSteps(root, "/history/step"), values: try readValues(root, "/history/loss"))
        guard loss.steps.count == loss.values.count else {
            throw GCMLError(file: path, object: "/history/loss", expected: "\(loss.steps.count) values (one per /history/step)",
                            found: "\(loss.values.count)")
        }
        /// A curve of `values` against the steps of `stepsPath`; nil when either dataset is absent or empty.
        func curve(_ stepsPath: String, _ valuesPath: String) throws -> LearningCurve? {
            guard root.exists(stepsPath), root.exists(valuesPath) else { return nil }
            let steps = try readSteps(root, stepsPath)
            let values = try readValues(root, valuesPath)
            guard steps.count == values.count else {
                throw GCMLError(file: path, object: valuesPath, expected: "\(steps.count) values (one per \(stepsPath))", found: "\(values.count)")
            }
            return steps.isEmpty ? nil : LearningCurve(steps: steps, values: values)
        }
        let steps = try root.intAttribute("steps").map(Int.init) ?? loss.finalStep
        return TrainingHistory(steps: steps, wallSeconds: try wallSeconds(root), loss: loss,
                               validationMAP: try curve(DatasetPath.Model.historyValidationStep, DatasetPath.Model.historyValidationMAP),
                               validationMAPFullCorpus: try curve(DatasetPath.Model.historyValidationStep, DatasetPath.Model.historyValidationMAPFullCorpus),
                               presampledNegativeChosen: try curve(DatasetPath.Model.historyStep, DatasetPath.Model.historyPresampledNegativeChosen),
                               activeFraction: try curve(DatasetPath.Model.historyStep, DatasetPath.Model.historyActiveFraction),
                               anchorNegativeDistance: try curve(DatasetPath.Model.historyStep, DatasetPath.Model.historyAnchorNegativeDistance))
    }

    /// Wall time: the `wall_seconds` attribute, else the same key in the `parameters` JSON; nil otherwise.
    static func wallSeconds(_ root: Group) throws -> Double? {
        if let seconds = try root.doubleAttribute("wall_seconds") { return seconds }
        if let parameters = try root.jsonAttribute("parameters"), let seconds = parameters["wall_seconds"] as? Double { return seconds }
        return nil
    }

    static func readSteps(_ root: Group, _ path: String) throws -> [Int] {
        let dataset = try root.dataset(path)
        switch dataset.elementType {
        case .int64: return try dataset.read(as: Int64.self).map(Int.init)
        case .int32: return try dataset.read(as: Int32.self).map(Int.init)
        default:
            throw GCMLError(file: root.file.path, object: path, expected: "int64 steps", found: dataset.elementType.rawValue)
        }
    }

    static func readValues(_ root: Group, _ path: String) throws -> [Double] {
        let dataset = try root.dataset(path)
        switch dataset.elementType {
        case .float64: return try dataset.read(as: Double.self)
        case .float32: return try dataset.read(as: Float.self).map(Double.init)
        default:
            throw GCMLError(file: root.file.path, object: path, expected: "float64 values", found: dataset.elementType.rawValue)
        }
    }
}
