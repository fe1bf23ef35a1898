import Foundation
import XCTest

/// What a finished process printed and returned.
public struct ProcessResult {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

public enum Subprocess {
    /// Runs `executable` with `arguments` (and `environment` on top of this process's), optionally in
    /// `directory`. Output goes through files, so a long, chatty run cannot block on a full pipe.
    public static func run(_ executable: URL, _ arguments: [String], environment: [String: String] = [:],
                           removing removed: [String] = [], in directory: String? = nil) throws -> ProcessResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var env = ProcessInfo.processInfo.environment
        for key in removed { env.removeValue(forKey: key) }
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let logs = NSTemporaryDirectory() + "gcml-process-\(UUID().uuidString)"
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
        return ProcessResult(status: process.terminationStatus,
                             stdout: (try? String(contentsOfFile: logs + ".out", encoding: .utf8)) ?? "",
                             stderr: (try? String(contentsOfFile: logs + ".err", encoding: .utf8)) ?? "")
    }

    /// Runs a command found on PATH (python3, make, a script).
    public static func shell(_ command: String, _ arguments: [String], environment: [String: String] = [:],
                             removing removed: [String] = [], in directory: String? = nil) throws -> ProcessResult {
        try run(URL(fileURLWithPath: "/usr/bin/env"), [command] + arguments, environment: environment, removing: removed, in: directory)
    }

    /// Python with h5py + hdf5plugin, or a skip (a failure when GCML_REQUIRE_PYTHON is set, as `make test` does).
    public static func requirePythonHDF5() throws {
        let result = try shell("python3", ["-c", "import h5py, hdf5plugin, numpy"])
        if result.status != 0 {
            if ProcessInfo.processInfo.environment["GCML_REQUIRE_PYTHON"] != nil {
                XCTFail("python3 with h5py, hdf5plugin and numpy is required (make test installs them)")
            }
            throw XCTSkip("python3 with h5py + hdf5plugin not available")
        }
    }
}
