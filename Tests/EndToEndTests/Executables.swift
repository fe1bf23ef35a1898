import Foundation
import TestSupport
import XCTest

/// Runs the project's built executables (they sit next to the test bundle in
/// .build/<configuration>/), so end-to-end tests exercise the real stages.
enum Executables {
    static var folder: URL {
        // The .xctest bundle lives in the products folder with the executables.
        var url = Bundle.main.bundleURL
        for _ in 0..<4 where !FileManager.default.fileExists(atPath: url.appendingPathComponent("gcml-check").path) {
            url = url.deletingLastPathComponent()
        }
        return url
    }

    typealias Result = ProcessResult

    /// Runs `name` with `arguments`; stdout and stderr are captured.
    @discardableResult
    static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        try Subprocess.run(folder.appendingPathComponent(name), arguments, environment: ["GCML_QUIET": "1"].merging(environment) { $1 })
    }

    /// Runs and fails the test with stderr when the exit status is not 0.
    @discardableResult
    static func succeed(_ name: String, _ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> Result {
        let result = try run(name, arguments)
        XCTAssertEqual(result.status, 0, "\(name) \(arguments.joined(separator: " ")) failed:\n\(result.stderr)", file: file, line: line)
        return result
    }

    /// The repository root (Makefile, pipelines/, tests/fixtures/).
    static var repository: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// Make overrides that point every program at the built executables (no rebuild from inside a test).
    static func programOverrides() -> [String] {
        let bin = folder.path
        return ["GCML_SYNTH=\(bin)/gcml-synth", "EXTRACT_PCA=\(bin)/extract-pca", "BUILD_GRAPH=\(bin)/build-graph",
                "AFFINITY_TREE=\(bin)/affinity-tree", "SAMPLE_TRIPLETS=\(bin)/sample-triplets", "TRAIN_EMBED=\(bin)/train-embed",
                "EVAL_MAP_NDCG=\(bin)/eval-map-ndcg", "EVAL_GAP=\(bin)/eval-gap", "GCML_REPORT=\(bin)/gcml-report",
                "GCML_CHECK=\(bin)/gcml-check"]
    }

    /// Runs a command found on PATH (make, python3, a script) in the repository root, outside
    /// any outer make's flags.
    static func shell(_ command: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        try Subprocess.shell(command, arguments, environment: ["GCML_QUIET": "1"].merging(environment) { $1 },
                             removing: ["MAKEFLAGS", "MFLAGS"], in: repository)
    }

    static func temporaryFolder() throws -> String { try TemporaryFolder.make("gcml-e2e") }
}
