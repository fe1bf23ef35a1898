import ArgumentParser
import Artifacts
import Contracts
import StageKit
import Support

@main
struct CheckCommand: Stage {
    static let configuration = CommandConfiguration(
        commandName: "gcml-check",
        abstract: "Validate gcml artifacts against the schema they declare and summarise them.",
        discussion: """
            Each FILE is checked against contract v1 (data-schema/): datasets, element types, ranks, \
            shape relations, provenance. Exits non-zero if any file violates its schema. \
            A file without a schema attribute is checked as gcml.frames/1 (raw frames may lack it) \
            unless --as says otherwise. Kinds: \(SchemaKind.allCases.map(\.rawValue).joined(separator: ", ")).
            """)

    /// `--print-schema`: one kind, or all of them.
    enum SchemaChoice: ExpressibleByArgument {
        case all, one(SchemaKind)
        init?(argument: String) {
            guard argument != "all" else { self = .all; return }
            guard let kind = SchemaKind(rawValue: argument) else { return nil }
            self = .one(kind)
        }
        var kinds: [SchemaKind] { if case .one(let kind) = self { [kind] } else { SchemaKind.allCases } }
    }

    @Argument(help: "HDF5 files to check.") var files: [String] = []
    @Option(help: "Check as this kind instead of the declared one (e.g. frames, graph, tree).") var `as`: SchemaKind?
    @Option(help: "Print the machine-readable schema of KIND (or 'all') as JSON and exit.") var printSchema: SchemaChoice?
    @Flag(help: "Only validate; print nothing but errors.") var quiet = false
    @Option(help: "After validating, print this root attribute of each file (for scripts, e.g. map, gap).")
    var printAttribute: String?

    func validate() throws {
        guard printSchema != nil || !files.isEmpty else { throw ValidationError("give at least one FILE") }
    }

    func execute() throws {
        if let printSchema {
            for schema in printSchema.kinds { print(try schema.spec.json(), terminator: "") }
            return
        }
        var failures = 0
        for path in files {
            do {
                let file = try HDF5File.open(path)
                defer { try? file.close() }
                let kind = try `as` ?? SchemaValidator.declaredKind(file) ?? .frames
                try SchemaValidator.validate(file, as: kind)
                try ContractCheck.validate(path, as: kind)
                if let name = printAttribute {
                    guard let value = try file.root.attribute(name) else {
                        throw GCMLError(file: path, object: "root attribute '\(name)'", expected: "present", found: "nothing")
                    }
                    print(value.description)
                } else if !quiet {
                    print(try ArtifactSummary.describe(file))
                    print("  OK: valid \(kind.identifier)\n")
                }
            } catch {
                failures += 1
                note("INVALID: \(error)")
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
