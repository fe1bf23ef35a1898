import Foundation
import XCTest

/// A fresh folder per test, removed afterwards.
class ArtifactsTestCase: XCTestCase {
    var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "gcml-artifacts-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    func path(_ name: String) -> String { folder + "/" + name }

    /// Runs a command, returning (status, stdout, stderr).
    func shell(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        var outData = Data()
        let reader = Thread { outData = out.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// Python with h5py + hdf5plugin, or a skip (a failure when GCML_REQUIRE_PYTHON is set, as `make test` does).
    func requirePythonHDF5() throws {
        let (status, _, _) = try shell("python3", ["-c", "import h5py, hdf5plugin, numpy"])
        if status != 0 {
            if ProcessInfo.processInfo.environment["GCML_REQUIRE_PYTHON"] != nil {
                XCTFail("python3 with h5py, hdf5plugin and numpy is required (make test installs them)")
            }
            throw XCTSkip("python3 with h5py + hdf5plugin not available")
        }
    }
}
