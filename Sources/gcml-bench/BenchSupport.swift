import Foundation

/// The highest resident size a sampling thread has seen, and whether it should keep sampling.
final class ResidentPeak: @unchecked Sendable {
    var bytes = 0.0
    var running = true
    let lock = NSLock()
}

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

    /// Path of a peer script, bench/<name>.
    static func script(_ name: String) -> String { scriptFolder + "/" + name }

    /// Whether `python3 -c "import <modules>"` works.
    static func pythonHas(_ modules: String) -> Bool {
        (try? runPython(["-c", "import \(modules)"], showErrors: false).status) == 0
    }

    /// Runs python3 and returns its status and stdout.
    static func runPython(_ arguments: [String], showErrors: Bool = true) throws -> (status: Int32, output: String) {
        try run("/usr/bin/env", ["python3"] + arguments, showErrors: showErrors)
    }

    /// Runs a program and returns its status and stdout; its stderr passes through (or is dropped).
    static func run(_ executable: String, _ arguments: [String], showErrors: Bool = true) throws -> (status: Int32, output: String) {
        fflush(stdout)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = showErrors ? FileHandle.standardError : FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs a stage quietly; returns status, wall seconds and the child's peak RSS in MiB,
    /// polled from /proc/<pid>/status (VmHWM is monotone; rusage's maxrss would include this
    /// large process's own size, inherited across fork/exec).
    static func runMeasured(_ path: String, _ arguments: [String]) throws -> (Int32, Double, Double) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["GCML_QUIET"] = "1"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        let start = DispatchTime.now().uptimeNanoseconds
        try process.run()
        var peak = 0.0
        let status = "/proc/\(process.processIdentifier)/status"
        while process.isRunning {
            if let text = try? String(contentsOfFile: status, encoding: .utf8),
               let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
               let kb = Double(line.split(separator: " ").dropFirst().first ?? "") { peak = max(peak, kb / 1024) }
            usleep(5000)
        }
        process.waitUntilExit()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return (process.terminationStatus, seconds, peak)
    }

    /// Runs a peer script bench/<name> and parses "key value" lines of its output.
    static func peer(_ script: String, _ arguments: [String]) -> [String: Double]? {
        guard let result = try? runPython([self.script(script)] + arguments), result.status == 0 else { return nil }
        var values: [String: Double] = [:]
        for line in result.output.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let v = Double(parts[1]) { values[String(parts[0])] = v }
        }
        return values
    }

    /// The machine's load averages (1, 5, 15 min, from /proc/loadavg) and cores: timings on a
    /// shared machine mean little without them.
    static func load() -> String {
        let fields = ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "").split(separator: " ").prefix(3)
        return "load \(fields.joined(separator: " ")) on \(ProcessInfo.processInfo.activeProcessorCount) cores"
    }

    /// Runs `body` while sampling this process's resident memory (VmRSS) every 5 ms; returns
    /// its result and the highest resident size seen, in bytes, above the size at the start.
    static func peakResidentGrowth<R>(_ body: () throws -> R) rethrows -> (R, Double) {
        @Sendable func resident() -> Double {
            guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
                  let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
                  let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
            return kb * 1024
        }
        let start = resident()
        let peak = ResidentPeak()
        let sampler = Thread {
            while peak.lock.withLock({ peak.running }) {
                let now = resident()
                peak.lock.withLock { peak.bytes = max(peak.bytes, now) }
                usleep(5000)
            }
        }
        sampler.start()
        let result = try body()
        let end = resident()
        peak.lock.withLock { peak.running = false; peak.bytes = max(peak.bytes, end) }
        return (result, max(0, peak.bytes - start))
    }

    /// The integer after option `name` in a bench's arguments, or `fallback`.
    /// Runs a ranks benchmark in a fresh scratch folder (removed afterwards), or says it skipped
    /// when mpirun or /usr/bin/time (peak RSS per rank) is missing.
    static func withMPIScratchFolder(_ name: String, _ body: (_ folder: String) throws -> Void) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/mpirun") && FileManager.default.isExecutableFile(atPath: "/usr/bin/time") else {
            print("skipped: needs mpirun and /usr/bin/time (scripts/install-deps.sh)")
            return
        }
        let folder = NSTemporaryDirectory() + "gcml-\(name)-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try body(folder)
    }

    static func intOption(_ arguments: [String], _ name: String, _ fallback: Int) -> Int {
        guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count, let v = Int(arguments[i + 1]) else { return fallback }
        return v
    }

    static func format(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
}
