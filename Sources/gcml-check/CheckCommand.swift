import ArgumentParser
import Artifacts
import Foundation
import Support

@main
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gcml-check",
        abstract: "Validate gcml artifacts against the schema they declare and summarise them.",
        discussion: """
            Each FILE is checked against contract v1 (data-schema/): datasets, element types, ranks, \
            shape relations, provenance. Exits non-zero if any file violates its schema. \
            A file without a schema attribute is checked as gcml.frames/1 (raw frames may lack it) \
            unless --as says otherwise.
            """)

    @Argument(help: "HDF5 files to check.") var files: [String] = []
    @Option(help: "Check as this kind instead of the declared one (e.g. frames, graph, tree).") var `as`: String?
    @Option(help: "Print the machine-readable schema of KIND (or 'all') as JSON and exit.") var printSchema: String?
    @Flag(help: "Only validate; print nothing but errors.") var quiet = false
    @Option(help: "After validating, print this root attribute of each file (for scripts, e.g. map, gap).")
    var printAttribute: String?

    func run() throws {
        if let kind = printSchema {
            for schema in SchemaKind.allCases where kind == "all" || kind == schema.rawValue {
                print(try schema.spec.json(), terminator: "")
            }
            return
        }
        guard !files.isEmpty else { throw ValidationError("give at least one FILE") }
        var failures = 0
        for path in files {
            do {
                let file = try HDF5File.open(path)
                defer { try? file.close() }
                let kind: SchemaKind
                if let forced = `as` {
                    guard let k = SchemaKind(rawValue: forced) else {
                        throw GCMLError("--as \(forced): expected one of \(SchemaKind.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    kind = k
                } else {
                    kind = try SchemaValidator.declaredKind(file) ?? .frames
                }
                try SchemaValidator.validate(file, as: kind)
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
                FileHandle.standardError.write("gcml-check: INVALID: \(error)\n".data(using: .utf8)!)
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
