import Foundation

/// Shared helpers for benchmarks: timing, peak memory, and running the Python peers.
enum BenchSupport {
    static func time<R>(_ body: () throws -> R) rethrows -> (R, Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try body()
        return (result, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// Peak resident memory of this process so far, in MiB.
    static func peakMemoryMiB() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    /// Folder of the bench/*.py peer scripts (next to the repository's Package.swift).
    static var scriptFolder: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("bench").path
    }

    /// Whether `python3 -c "import <modules>"` works.
    static func pythonHas(_ modules: String) -> Bool {
        (try? runPython(["-c", "import \(modules)"]).status) == 0
    }

    /// Runs python3 and returns its status and stdout (stderr passes through).
    static func runPython(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs a peer script bench/<name> and parses "key value" lines of its output.
    static func peer(_ script: String, _ arguments: [String]) -> [String: Double]? {
        guard let result = try? runPython([scriptFolder + "/" + script] + arguments), result.status == 0 else { return nil }
        var values: [String: Double] = [:]
        for line in result.output.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let v = Double(parts[1]) { values[String(parts[0])] = v }
        }
        return values
    }

    static func format(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
}
