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
            process.environment = Executables.shellEnvironment(environment)
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

    /// Whether the process ends within `seconds` (a rank killed by its launcher may take a moment to exit).
    static func ends(_ pid: Int32, within seconds: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while isAlive(pid) {
            if Date() > deadline { return false }
            usleep(50_000)
        }
        return true
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

extension Launch {
    /// The all-or-nothing check every distributed stage shares: runs `name` on 3 ranks, waits until all
    /// three run and `ready` holds, freezes them (so the kill lands before any publish), kills rank 1 and
    /// expects a non-zero exit without hanging, `out` byte-identical to before and no rank left running.
    static func killRankOneExpectingNothingPublished(_ name: String, _ arguments: [String], out: String,
                                                     ready: () -> Bool = { true }, expectRankNamed: Bool = true,
                                                     file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try Data(contentsOf: URL(fileURLWithPath: out))
        let running = try Running(mpirun(3, name, arguments), seconds: 120)
        var ranks: [Int: Int32] = [:]
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            ranks = rankProcesses(named: name)
            if ranks.count == 3 && ready() { break }
            usleep(20_000)
        }
        XCTAssertEqual(ranks.count, 3, "three ranks did not start", file: file, line: line)
        for pid in ranks.values { kill(pid, SIGSTOP) }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), before, "published before the kill", file: file, line: line)
        if let victim = ranks[1] { kill(victim, SIGKILL) }
        for (rank, pid) in ranks where rank != 1 { kill(pid, SIGCONT) }
        let result = running.finish()
        XCTAssertNotEqual(result.status, 0, file: file, line: line)
        XCTAssertFalse(result.timedOut, "the job did not end after rank 1 was killed", file: file, line: line)
        if expectRankNamed { XCTAssertTrue(result.stderr.contains("rank 1"), result.stderr, file: file, line: line) }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), before, "the previous artifact changed", file: file, line: line)
        for pid in ranks.values { XCTAssertTrue(ends(pid), "rank process \(pid) still running", file: file, line: line) }
    }
}
