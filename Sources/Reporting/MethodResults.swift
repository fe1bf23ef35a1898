import Contracts
import Foundation
import Support

/// What a trained model's history says (`gcml.model/1`), as learning curves.
public struct TrainingCurves: Equatable, Sendable {
    public var steps: Int?
    public var wallSeconds: Double?
    public var loss: LearningCurve
    public var validationMAP: LearningCurve?
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
        let loss = LearningCurve(steps: history.step.map(Int.init), values: history.loss)
        let validation = history.validationStep.isEmpty ? nil
            : LearningCurve(steps: history.validationStep.map(Int.init), values: history.validationMAP)
        return TrainingCurves(steps: run.steps ?? loss.finalStep, wallSeconds: run.wallSeconds, loss: loss, validationMAP: validation)
    }
}
