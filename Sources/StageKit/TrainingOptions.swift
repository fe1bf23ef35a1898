import ArgumentParser
import Embedding
import LinearAlgebra

/// `--beta1`, `--beta2`, `--epsilon`, `--warmup`, `--cosine`: Adam's constants and the
/// learning-rate schedule (the rate itself is `OptimiserOptions`' `--learning-rate`).
public struct AdamOptions: ParsableArguments {
    @Option(help: "Adam beta1.") public var beta1 = 0.9
    @Option(help: "Adam beta2.") public var beta2 = 0.999
    @Option(help: "Adam epsilon.") public var epsilon = 1e-8
    @Option(help: "Linear learning-rate warm-up steps.") public var warmup = 0
    @Flag(help: "Cosine decay of the learning rate to 0 at the last step.") public var cosine = false

    public init() {}

    public func validate() throws {
        for (name, value) in [("--beta1", beta1), ("--beta2", beta2)] where !(value >= 0 && value < 1) {
            throw ValidationError("\(name) must be in [0, 1), found \(value)")
        }
        guard epsilon > 0, epsilon.isFinite else { throw ValidationError("--epsilon must be a positive number, found \(epsilon)") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be at least 0, found \(warmup)") }
    }

    public func settings(learningRate: Double) -> AdamSettings {
        AdamSettings(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, warmup: warmup, cosine: cosine)
    }
}

/// `--validate GRAPH` and the options of held-out retrieval validation during training.
public struct ValidationOptions: ParsableArguments {
    @Option(name: .customLong("validate"), help: "Relational graph (gcml.graph/1) for held-out retrieval MAP during training.")
    public var validationGraph: String?
    @Option(help: "Validate every N steps.") public var validateEvery = 100
    @Option(help: ArgumentHelp("Also validate at 'log' steps (10, 20, 50, 100 … below --validate-every) or a list like 10,20,50.", valueName: "log|STEPS"))
    public var validateAt: String?
    @Flag(help: "Also rank the validation queries against the whole corpus (harder; /history/validation_map_full_corpus).") public var validateFullCorpus = false
    @Option(help: "Held-out queries in the validation sample.") public var validateQueries = 500
    @Option(help: "Seed of the validation sample (default: --seed; fix it to validate seeds on the same queries).") public var validateSeed: UInt64?

    public init() {}

    public func validate() throws {
        guard validateEvery >= 0 else { throw ValidationError("--validate-every must be at least 0, found \(validateEvery)") }
        guard validateQueries >= 1 else { throw ValidationError("--validate-queries must be at least 1, found \(validateQueries)") }
    }

    /// Sets the session's validation graph, sample and schedule.
    public func configure(_ session: inout TrainingSession) throws {
        (session.validationPath, session.validationQueries, session.validationSeed) = (validationGraph, validateQueries, validateSeed)
        session.validateFullCorpus = validateFullCorpus
        session.options.validateEvery = validateEvery
        session.options.validateAt = try validateAt.map { try ValidationSchedule.parse($0, every: validateEvery).extra } ?? []
    }
}
