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

    static func temporaryFolder() throws -> String {
        let path = NSTemporaryDirectory() + "gcml-e2e-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
