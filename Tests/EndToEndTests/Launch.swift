import Foundation
import XCTest

/// Starts commands (built executables under mpirun, Slurm clients) always under `timeout`,
/// so a hung rank or daemon fails the test instead of hanging the suite.
enum Launch {
    /// mpirun for `ranks` ranks of the built program `name`: root-safe, oversubscribed (2 cores here).
    static func mpirun(_ ranks: Int, _ name: String, _ arguments: [String]) -> [String] {
        mpirunArguments(ranks: ranks) + [Executables.folder.appendingPathComponent(name).path] + arguments
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// `timeout` gives 124 when it had to stop the command.
        var timedOut: Bool { status == 124 || status == 137 && stderr.isEmpty }
    }

    static func mpirunArguments(ranks: Int) -> [String] {
        ["mpirun", "--oversubscribe", "--allow-run-as-root", "-np", "\(ranks)"]
    }

    /// A process running `command` under `timeout -k 5 seconds`, stdout and stderr into files.
    final class Running {
        let process = Process()
        let outPath: String, errPath: String

        init(_ command: [String], seconds: Int, environment: [String: String] = [:]) throws {
            let base = NSTemporaryDirectory() + "gcml-launch-\(UUID().uuidString)"
            outPath = base + ".out"
            errPath = base + ".err"
            FileManager.default.createFile(atPath: outPath, contents: nil)
            FileManager.default.createFile(atPath: errPath, contents: nil)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
            process.arguments = ["-k", "5", "\(seconds)"] + command
            process.currentDirectoryURL = URL(fileURLWithPath: Executables.repository)
            var env = ProcessInfo.processInfo.environment
            env["GCML_QUIET"] = "1"
            env.removeValue(forKey: "MAKEFLAGS")
            env.removeValue(forKey: "MFLAGS")
            for (k, v) in environment { env[k] = v }
            process.environment = env
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
            try process.run()
        }

        var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }

        /// Polls until `condition` holds on stdout or `seconds` pass; returns whether it held.
        func waitForOutput(seconds: Double, _ condition: (String) -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if condition(stdout) { return true }
                if !process.isRunning { return condition(stdout) }
                usleep(50_000)
            }
            return false
        }

        func finish() -> Result {
            process.waitUntilExit()
            defer {
                try? FileManager.default.removeItem(atPath: outPath)
                try? FileManager.default.removeItem(atPath: errPath)
            }
            return Result(status: process.terminationStatus, stdout: stdout,
                          stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
        }
    }

    /// Runs `command` to the end (at most `seconds`).
    static func run(_ command: [String], seconds: Int = 120, environment: [String: String] = [:]) throws -> Result {
        try Running(command, seconds: seconds, environment: environment).finish()
    }

    /// Whether a process with this id still exists and is not a zombie.
    static func isAlive(_ pid: Int32) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
        return !status.contains("State:\tZ")
    }
}

extension Launch {
    /// Running processes of the built program `name` started by mpirun, by MPI rank (from their environment).
    static func rankProcesses(named name: String) -> [Int: Int32] {
        let program = Executables.folder.appendingPathComponent(name).resolvingSymlinksInPath().path
        var result: [Int: Int32] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), isAlive(pid),
                  let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/exe"), exe == program,
                  let environ = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { continue }
            for variable in environ.split(separator: 0) {
                let text = String(decoding: variable, as: UTF8.self)
                if text.hasPrefix("OMPI_COMM_WORLD_RANK="), let rank = Int(text.dropFirst("OMPI_COMM_WORLD_RANK=".count)) {
                    result[rank] = pid
                }
            }
        }
        return result
    }
}
