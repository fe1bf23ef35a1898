import Artifacts
import Support

/// The training history of a model (`gcml.model/1`, `/history/*`): the loss every few steps and,
/// when asked, the validation MAP (sampled candidates and, optionally, the full corpus); for triplet
/// training also the mining statistics of each logged window. Written by the trainer's checkpoints, read on resume and by the report.
public struct TrainingHistory: Equatable, Sendable {
    public var step: [Int64] = []
    public var loss: [Double] = []
    /// Per logged window (triplet training; empty otherwise): mean share of triplets whose own pre-sampled
    /// negative mining kept, mean share of active triplets (non-zero hinge), mean anchor–negative distance.
    public var presampledNegativeChosen: [Double] = []
    public var activeFraction: [Double] = []
    public var anchorNegativeDistance: [Double] = []
    public var validationStep: [Int64] = []
    public var validationMAP: [Double] = []
    /// The same validation queries ranked against the whole corpus (empty when not measured).
    public var validationMAPFullCorpus: [Double] = []

    public init() {}

    public init(step: [Int64], loss: [Double], validationStep: [Int64] = [], validationMAP: [Double] = []) {
        self.step = step
        self.loss = loss
        self.validationStep = validationStep
        self.validationMAP = validationMAP
    }

    /// Writes `/history/*` into an open model file (validation curves only when present).
    public func write(to file: HDF5File) throws {
        let root = file.root
        try root.write(DatasetPath.Model.historyStep, step)
        try root.write(DatasetPath.Model.historyLoss, loss)
        if !validationStep.isEmpty {
            try root.write(DatasetPath.Model.historyValidationStep, validationStep)
            try root.write(DatasetPath.Model.historyValidationMAP, validationMAP)
            if !validationMAPFullCorpus.isEmpty {
                try root.write(DatasetPath.Model.historyValidationMAPFullCorpus, validationMAPFullCorpus)
            }
        }
        if hasMiningStatistics {
            try root.write(DatasetPath.Model.historyPresampledNegativeChosen, presampledNegativeChosen)
            try root.write(DatasetPath.Model.historyActiveFraction, activeFraction)
            try root.write(DatasetPath.Model.historyAnchorNegativeDistance, anchorNegativeDistance)
        }
    }

    /// True when the mining statistics were logged (triplet training).
    public var hasMiningStatistics: Bool {
        !presampledNegativeChosen.isEmpty || !activeFraction.isEmpty || !anchorNegativeDistance.isEmpty
    }

    /// Reads `/history/*` of an open model file. Steps may be int32 or int64, values float32 or
    /// float64 (other tools write either); each curve needs one value per step.
    public static func read(from file: HDF5File) throws -> TrainingHistory {
        let root = file.root
        var history = TrainingHistory(step: try integers(root, DatasetPath.Model.historyStep),
                                      loss: try reals(root, DatasetPath.Model.historyLoss))
        try checkLengths(history.step, history.loss, values: DatasetPath.Model.historyLoss, steps: DatasetPath.Model.historyStep, file: file.path)
        if root.exists(DatasetPath.Model.historyValidationStep), root.exists(DatasetPath.Model.historyValidationMAP) {
            history.validationStep = try integers(root, DatasetPath.Model.historyValidationStep)
            history.validationMAP = try reals(root, DatasetPath.Model.historyValidationMAP)
            try checkLengths(history.validationStep, history.validationMAP, values: DatasetPath.Model.historyValidationMAP,
                             steps: DatasetPath.Model.historyValidationStep, file: file.path)
            if root.exists(DatasetPath.Model.historyValidationMAPFullCorpus) {
                history.validationMAPFullCorpus = try reals(root, DatasetPath.Model.historyValidationMAPFullCorpus)
                try checkLengths(history.validationStep, history.validationMAPFullCorpus, values: DatasetPath.Model.historyValidationMAPFullCorpus,
                                 steps: DatasetPath.Model.historyValidationStep, file: file.path)
            }
        }
        let mining = [DatasetPath.Model.historyPresampledNegativeChosen, DatasetPath.Model.historyActiveFraction,
                      DatasetPath.Model.historyAnchorNegativeDistance]
        if mining.contains(where: { root.exists($0) }) {
            var curves: [[Double]] = []
            for path in mining {
                let values = try reals(root, path)
                try checkLengths(history.step, values, values: path, steps: DatasetPath.Model.historyStep, file: file.path)
                curves.append(values)
            }
            (history.presampledNegativeChosen, history.activeFraction, history.anchorNegativeDistance) = (curves[0], curves[1], curves[2])
        }
        return history
    }

    private static func checkLengths(_ steps: [Int64], _ values: [Double], values valuesPath: String, steps stepsPath: String, file: String) throws {
        guard steps.count == values.count else {
            throw GCMLError(file: file, object: valuesPath, expected: "\(steps.count) values (one per \(stepsPath))", found: "\(values.count)")
        }
    }

    private static func integers(_ root: Group, _ path: String) throws -> [Int64] {
        let dataset = try root.dataset(path)
        switch dataset.elementType {
        case .int64: return try dataset.read(as: Int64.self)
        case .int32: return try dataset.read(as: Int32.self).map(Int64.init)
        default: throw GCMLError(file: root.file.path, object: path, expected: "int64 steps", found: dataset.elementType.rawValue)
        }
    }

    private static func reals(_ root: Group, _ path: String) throws -> [Double] {
        let dataset = try root.dataset(path)
        switch dataset.elementType {
        case .float64: return try dataset.read(as: Double.self)
        case .float32: return try dataset.read(as: Float.self).map(Double.init)
        default: throw GCMLError(file: root.file.path, object: path, expected: "float64 values", found: dataset.elementType.rawValue)
        }
    }
}

/// What a model file says about its run: the history and the root attributes `steps` and
/// `wall_seconds` (the latter also accepted from the `parameters` JSON, as older files stored it).
public struct ModelRun: Equatable, Sendable {
    public static let stepsAttribute = "steps"
    public static let wallSecondsAttribute = "wall_seconds"

    public var history: TrainingHistory
    /// Completed steps; nil when the file does not say.
    public var steps: Int?
    public var wallSeconds: Double?

    public init(history: TrainingHistory, steps: Int?, wallSeconds: Double?) {
        self.history = history
        self.steps = steps
        self.wallSeconds = wallSeconds
    }

    /// Opens and validates a `gcml.model/1` file and reads its history and run attributes.
    public static func read(_ path: String) throws -> ModelRun {
        let file = try Artifact.open(path, as: .model)
        defer { try? file.close() }
        let root = file.root
        var wall = try root.doubleAttribute(wallSecondsAttribute)
        if wall == nil, let parameters = try root.jsonAttribute("parameters") { wall = parameters[wallSecondsAttribute] as? Double }
        return ModelRun(history: try TrainingHistory.read(from: file), steps: try root.intAttribute(stepsAttribute).map(Int.init), wallSeconds: wall)
    }

    /// Writes the history and the run attributes into an open model file.
    public func write(to file: HDF5File) throws {
        try history.write(to: file)
        if let steps { try file.root.setAttribute(Self.stepsAttribute, .int(Int64(steps))) }
        if let wallSeconds { try file.root.setAttribute(Self.wallSecondsAttribute, .double(wallSeconds)) }
    }
}
