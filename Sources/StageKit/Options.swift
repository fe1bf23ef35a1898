import ArgumentParser
import Foundation
import Support

/// `--threads`: worker threads, one meaning and one default in every stage.
public struct ThreadsOption: ParsableArguments {
    @Option(help: "Worker and BLAS threads (default: all cores of this machine).")
    public var threads = ProcessInfo.processInfo.activeProcessorCount

    public init() {}

    public func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, found \(threads)") }
    }
}

/// A stage's default seed (stages keep the default they always had).
public protocol SeedDefault { static var seed: UInt64 { get } }
public enum SeedZero: SeedDefault { public static let seed: UInt64 = 0 }
public enum SeedOne: SeedDefault { public static let seed: UInt64 = 1 }

/// `--seed`: where randomness enters; the same seed gives the same numbers.
public struct SeedOption<Default: SeedDefault>: ParsableArguments {
    @Option(help: "Random seed: the same seed gives the same numbers.") public var seed: UInt64 = Default.seed
    public init() {}
}

/// The defaults of a stage's optimiser options.
public protocol OptimiserDefaults {
    static var learningRate: Double { get }
    static var batchSize: Int { get }
    static var epochs: Double? { get }
}

/// `--learning-rate`, `--batch-size`, `--epochs` (train-embed, eval-gap).
/// The old spellings `--lr` and `--batch` still work (hidden).
public struct OptimiserOptions<Defaults: OptimiserDefaults>: ParsableArguments {
    @Option(help: "Adam learning rate.") public var learningRate = Defaults.learningRate
    @Option(help: "Examples per step (minibatch size).") public var batchSize = Defaults.batchSize
    @Option(help: ArgumentHelp("Epochs over the training examples (default: \(Defaults.epochs.map { "\($0)" } ?? "one, or --steps")).",
                               valueName: "epochs"))
    public var epochs: Double?
    @Option(name: .customLong("lr"), help: .hidden) var oldLearningRate: Double?
    @Option(name: .customLong("batch"), help: .hidden) var oldBatchSize: Int?

    public init() {}

    /// `--epochs`, or the stage's default.
    public var epochCount: Double? { epochs ?? Defaults.epochs }

    public mutating func validate() throws {
        try OldSpelling.fold(oldLearningRate, "--lr", into: &learningRate, "--learning-rate", default: Defaults.learningRate)
        try OldSpelling.fold(oldBatchSize, "--batch", into: &batchSize, "--batch-size", default: Defaults.batchSize)
        guard learningRate > 0, learningRate.isFinite else {
            throw ValidationError("--learning-rate must be a positive number, found \(learningRate)")
        }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, found \(batchSize)") }
        if let epochs, !(epochs > 0 && epochs.isFinite) { throw ValidationError("--epochs must be a positive number, found \(epochs)") }
    }
}

/// Old option spellings kept working as hidden aliases, so that existing cron
/// jobs and pipelines do not break.
public enum OldSpelling {
    /// Moves a value given under the old spelling to the new option; both at once is an error
    /// (recognised when the new option is not at its default).
    public static func fold<T: Equatable>(_ old: T?, _ oldName: String, into value: inout T, _ newName: String, default: T) throws {
        guard let old else { return }
        guard value == `default` else { throw ValidationError("give \(newName) only (\(oldName) is its old spelling)") }
        value = old
    }

    public static func fold<T>(_ old: T?, _ oldName: String, into value: inout T?, _ newName: String) throws {
        guard let old else { return }
        guard value == nil else { throw ValidationError("give \(newName) only (\(oldName) is its old spelling)") }
        value = old
    }
}

/// Checks of option values that several stages share.
public enum OptionCheck {
    /// An output folder: a path to create, or an existing folder, not a file.
    public static func folder(_ path: String, option: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue {
            throw ValidationError("\(option) \(path): expected a folder (or a path to create), found a file")
        }
    }
}
