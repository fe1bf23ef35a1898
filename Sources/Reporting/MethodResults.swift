import Contracts
import Foundation
import Support

/// What a trained model's history says (`gcml.model/1`), as learning curves.
public struct TrainingCurves: Equatable, Sendable {
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
    public var retrieval: RetrievalSummary?
    /// Full-corpus candidates (`retrieval-all.h5`).
    public var retrievalAll: RetrievalSummary?
    public var annotation: AnnotationSummary?
    public var training: TrainingCurves?
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
        if let p = path(retrievalFile) { result.retrieval = try RetrievalResult.readSummary(p) }
        if let p = path(retrievalAllFile) { result.retrievalAll = try RetrievalResult.readSummary(p) }
        if let p = path(annotationFile) { result.annotation = try AnnotationResult.readSummary(p) }
        if let p = path(modelFile) { result.training = try readTraining(p) }
        return result
    }

    public static func readTraining(_ path: String) throws -> TrainingCurves {
        let run = try ModelRun.read(path)
        let history = run.history
        let steps = history.step.map(Int.init), validationSteps = history.validationStep.map(Int.init)
        /// A curve against `steps`; nil when not logged.
        func curve(_ steps: [Int], _ values: [Double]) -> LearningCurve? {
            values.isEmpty || steps.isEmpty ? nil : LearningCurve(steps: steps, values: values)
        }
        let loss = LearningCurve(steps: steps, values: history.loss)
        return TrainingCurves(steps: run.steps ?? loss.finalStep, wallSeconds: run.wallSeconds, loss: loss,
                              validationMAP: curve(validationSteps, history.validationMAP),
                              validationMAPFullCorpus: curve(validationSteps, history.validationMAPFullCorpus),
                              presampledNegativeChosen: curve(steps, history.presampledNegativeChosen),
                              activeFraction: curve(steps, history.activeFraction),
                              anchorNegativeDistance: curve(steps, history.anchorNegativeDistance))
    }
}
