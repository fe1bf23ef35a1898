import Foundation
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

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `name` with `arguments`; stdout and stderr are captured.
    @discardableResult
    static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = folder.appendingPathComponent(name)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["GCML_QUIET"] = "1"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes before waiting so a chatty stage cannot block on a full pipe.
        var outData = Data(), errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
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
    /// any outer make's flags. Output goes through files, so a long, chatty run cannot block on a pipe.
    static func shell(_ command: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [command] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: repository)
        process.environment = shellEnvironment(environment)
        let logs = NSTemporaryDirectory() + "gcml-shell-\(UUID().uuidString)"
        defer { for suffix in [".out", ".err"] { try? FileManager.default.removeItem(atPath: logs + suffix) } }
        FileManager.default.createFile(atPath: logs + ".out", contents: nil)
        FileManager.default.createFile(atPath: logs + ".err", contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: logs + ".out"))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: logs + ".err"))
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Result(status: process.terminationStatus,
                      stdout: (try? String(contentsOfFile: logs + ".out", encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: logs + ".err", encoding: .utf8)) ?? "")
    }

    /// This process's environment, quiet, outside any outer make's flags, plus `extra`.
    static func shellEnvironment(_ extra: [String: String]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["GCML_QUIET"] = "1"
        env.removeValue(forKey: "MAKEFLAGS")
        env.removeValue(forKey: "MFLAGS")
        for (k, v) in extra { env[k] = v }
        return env
    }

    static func temporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "gcml-e2e-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
