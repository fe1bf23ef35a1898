import ArgumentParser
import Artifacts
import Foundation
import Support

/// A pipeline stage: a command whose `execute()` calls the libraries. The kit
/// names everything after the command's own `commandName` (artifact stamps,
/// progress lines) and turns the parameter keys of library errors into this
/// stage's option names.
public protocol Stage: ParsableCommand {
    /// Library parameter keys whose option is not simply the key in kebab case
    /// (e.g. `["dimension": "dim"]` when the library's `dimension` is `--dim`).
    static var parameterOptions: [String: String] { get }
    func execute() throws
}

extension Stage {
    public static var parameterOptions: [String: String] { [:] }

    /// The name users type, from the command configuration.
    public static var stageName: String { configuration.commandName ?? "\(Self.self)" }

    public func run() throws {
        do {
            try execute()
        } catch let error as GCMLError {
            throw error.renamingParameters(Self.optionName)
        }
    }

    /// `--kebab-case` of a library parameter key, or the stage's own spelling of it.
    public static func optionName(_ key: String) -> String {
        "--" + (parameterOptions[key] ?? kebabCase(key))
    }

    /// Writes artifacts stamped with this stage's name and options.
    public var writer: ArtifactWriter { ArtifactWriter(createdBy: Self.stageName, parameters: StageParameters.of(self)) }

    /// The outputs of this run as one publication, opened before any work: refuses an output
    /// that is also an input or two outputs on one path, locks the outputs, arms the signal
    /// cleanup. Entries are (option name, path or nil when not given).
    /// `ranks`: how many ranks compute the outputs (stamped on each; only rank 0 opens the publication).
    public func publication(outputs: [(String, String?)], inputs: [(String, String?)], ranks: Int = 1) throws -> Publication {
        try Publication(stage: Self.stageName, parameters: StageParameters.of(self), outputs: outputs, inputs: inputs, ranks: ranks)
    }

    /// Progress lines labelled with this stage's name.
    public var progress: ProgressReporter { ProgressReporter(Self.stageName) }

    /// A warning or note on stderr, prefixed with the stage's name.
    public func note(_ message: String) { Support.note("\(Self.stageName): \(message)") }
}

func kebabCase(_ key: String) -> String {
    var result = ""
    for character in key {
        if character.isUppercase {
            if !result.isEmpty { result.append("-") }
            result += character.lowercased()
        } else {
            result.append(character)
        }
    }
    return result
}

/// The options of a command as the provenance `parameters` JSON: option groups
/// are flattened into the command's own options.
enum StageParameters {
    static func of(_ command: ParsableArguments) -> [String: Any] {
        var result = Provenance.parameters(of: command)
        for child in Mirror(reflecting: command).children {
            guard let group = Mirror(reflecting: child.value).descendant("_parsedValue", "value") as? ParsableArguments else { continue }
            result.merge(of(group)) { mine, _ in mine }
        }
        return result
    }
}

extension ParsableArguments {
    /// The options of this command that were given (optional options holding a value), by property name.
    public var givenOptions: [(name: String, value: Any)] {
        Mirror(reflecting: self).children.compactMap { child in
            guard let label = child.label, label.hasPrefix("_"),
                  let parsed = Mirror(reflecting: child.value).descendant("_parsedValue", "value") else { return nil }
            let optional = Mirror(reflecting: parsed)
            guard optional.displayStyle == .optional, let value = optional.children.first?.value else { return nil }
            return (String(label.dropFirst()), value)
        }
    }
}
