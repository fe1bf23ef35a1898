import Artifacts
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Signals, locks, stale temporaries, pair publication and --resume, on the real stages.
final class PublicationTests: XCTestCase {
    var folder = ""

    override func setUpWithError() throws {
        folder = try Executables.temporaryFolder()
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func fixture() throws -> ReliabilityFixture.Folders { try ReliabilityFixture.get() }

    /// Starts `program`; returns the running process (stdout/stderr to files in `folder`).
    private func start(_ program: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = Executables.folder.appendingPathComponent(program)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["GCML_QUIET"] = "1"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        FileManager.default.createFile(atPath: folder + "/\(program).err", contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/\(program).err"))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Waits (up to a generous bound, not a timing assertion) until `condition` holds or the process ends.
    private func wait(for process: Process, until condition: () -> Bool) -> Bool {
        for _ in 0..<6000 {
            if condition() { return true }
            if !process.isRunning { return condition() }
            usleep(10_000)
        }
        return false
    }

    private func runSignalled(_ signal: Int32, program: String, arguments: [String], output: String, waitFor marker: String) throws {
        let process = try start(program, arguments)
        defer { if process.isRunning { process.terminate(); kill(process.processIdentifier, SIGKILL) } }
        let appeared = wait(for: process) { ReliabilityFixture.contents(output).contains { $0.contains(marker) } }
        XCTAssertTrue(appeared, "\(program) never showed \(marker) in \(output): \(ReliabilityFixture.contents(output))")
        XCTAssertTrue(process.isRunning, "\(program) ended before it could be signalled")
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .exit, "\(program) should exit, not die of the signal")
        XCTAssertEqual(process.terminationStatus, 128 + signal)
        XCTAssertEqual(ReliabilityFixture.contents(output), [], "\(program) left files behind after signal \(signal)")
    }

    func testSIGTERMDuringSamplingRemovesTheTemporaryAndExits143() throws {
        let f = try fixture()
        let output = folder + "/out"
        try runSignalled(SIGTERM, program: "sample-triplets",
                         arguments: ["--graph", f.valid + "/graph.h5", "--tree", f.valid + "/tree.h5", "--out", output + "/t.h5",
                                     "--count", "400000000", "--threads", "1"],
                         output: output, waitFor: ".t.h5.tmp-")
    }

    func testSIGINTDuringTrainingRemovesTheLockAndExits130() throws {
        let f = try fixture()
        let output = folder + "/out"
        try runSignalled(SIGINT, program: "train-embed",
                         arguments: ["--features", f.valid + "/features.h5", "--triplets", f.valid + "/triplets.h5", "--out", output + "/m.h5",
                                     "--embeddings", output + "/e.h5", "--steps", "100000000"] + ReliabilityFixture.smallModel,
                         output: output, waitFor: ".m.h5.lock")
    }

    func testSecondRunOnALockedOutputFailsAndNamesTheHolder() throws {
        let f = try fixture()
        let output = folder + "/out"
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let lock = open(output + "/.tree.h5.lock", O_RDWR | O_CREAT, 0o644)
        XCTAssertGreaterThanOrEqual(lock, 0)
        XCTAssertEqual(flock(lock, LOCK_EX | LOCK_NB), 0)
        _ = "4242\n".withCString { write(lock, $0, 5) }
        let refused = try Executables.run("affinity-tree", ["--graph", f.valid + "/graph.h5", "--out", output + "/tree.h5", "--threads", "1"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("another run (pid 4242)") && refused.stderr.contains("--out"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output + "/tree.h5"))
        close(lock)
        try Executables.succeed("affinity-tree", ["--graph", f.valid + "/graph.h5", "--out", output + "/tree.h5", "--threads", "1"])
        XCTAssertEqual(ReliabilityFixture.contents(output), ["tree.h5"], "the lock file is removed when the run ends")
    }

    func testStaleTemporariesOfDeadRunsAndScratchFilesAreRemovedByTheNextRun() throws {
        let f = try fixture()
        let output = folder + "/out", scratch = folder + "/tmp"
        for path in [output, scratch] { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        let dead = 999_999_999   // beyond pid_max: no process has it
        let alive = Int(getpid())
        let names = [".features.h5.tmp-\(dead)-abc", ".other.h5.tmp-\(dead)-def", ".other.h5.tmp-\(alive)-ghi"]
        for name in names { FileManager.default.createFile(atPath: output + "/" + name, contents: Data("x".utf8)) }
        FileManager.default.createFile(atPath: scratch + "/gcml-scratch-\(dead)-x-extract-pca.h5", contents: Data("x".utf8))
        FileManager.default.createFile(atPath: scratch + "/gcml-scratch-\(alive)-y-extract-pca.h5", contents: Data("x".utf8))
        let result = try Executables.run("extract-pca", ["--frames", f.valid + "/frames.h5", "--out", output + "/features.h5",
                                                         "--save-pca", output + "/pca.h5", "--dim", "4", "--threads", "1"],
                                         environment: ["TMPDIR": scratch])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(ReliabilityFixture.contents(output), [".other.h5.tmp-\(alive)-ghi", "features.h5", "pca.h5"])
        XCTAssertEqual(ReliabilityFixture.contents(scratch), ["gcml-scratch-\(alive)-y-extract-pca.h5"],
                       "the dead run's scratch file goes, the live one's and this run's own (removed on return) do not remain")
    }

    func testOutputsOfOneRunShareARunIDAndAMixedPairIsRefused() throws {
        let f = try fixture()
        let first = folder + "/first", second = folder + "/second"
        for out in [first, second] {
            try Executables.succeed("extract-pca", ["--frames", f.valid + "/frames.h5", "--out", out + "/features.h5",
                                                    "--save-pca", out + "/pca.h5", "--dim", "3", "--threads", "1"])
        }
        func runID(_ path: String) throws -> String? {
            let file = try HDF5File.open(path)
            defer { try? file.close() }
            return try file.root.stringAttribute("run_id")
        }
        XCTAssertNotNil(try runID(first + "/features.h5"))
        XCTAssertEqual(try runID(first + "/features.h5"), try runID(first + "/pca.h5"))
        XCTAssertNotEqual(try runID(first + "/features.h5"), try runID(second + "/features.h5"))
        // A new pca.h5 beside the old features.h5 (what a kill between two renames used to leave).
        try FileManager.default.removeItem(atPath: first + "/pca.h5")
        try FileManager.default.copyItem(atPath: second + "/pca.h5", toPath: first + "/pca.h5")
        let refused = try Executables.run("build-graph", ["--features", first + "/features.h5", "--sessions", f.valid + "/sessions.tsv",
                                                          "--out", folder + "/g.h5", "--threads", "1"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains(first + "/features.h5") && refused.stderr.contains("pca.h5")
                      && refused.stderr.contains("run_id"), refused.stderr)
    }

    /// gcml-synth's three files are one publication: a rerun replaces them together with one
    /// run id, and a SIGTERM after frames.h5 was prepared (while sessions.tsv is written)
    /// leaves the previous three files byte-identical and no temporary behind.
    func testSynthPublishesItsThreeFilesTogether() throws {
        let output = folder + "/corpus"
        let names = ["frames.h5", "sessions.tsv", "truth.h5"]
        let small = ["--profile", "tiny", "--out", output, "--videos", "60", "--sessions", "100", "--visual-dim", "8", "--audio-dim", "0",
                     "--threads", "1"]
        func runID(_ name: String) throws -> String? {
            let file = try HDF5File.open(output + "/" + name)
            defer { try? file.close() }
            return try file.root.stringAttribute("run_id")
        }
        try Executables.succeed("gcml-synth", small + ["--seed", "1"])
        let firstID = try XCTUnwrap(try runID("frames.h5"))
        XCTAssertEqual(try runID("truth.h5"), firstID)
        let frames = try HDF5File.open(output + "/frames.h5")
        let siblings = try XCTUnwrap(try frames.root.stringAttribute("run_outputs"))
        XCTAssertEqual(try JSONSerialization.jsonObject(with: Data(siblings.utf8)) as? [String], names)
        try frames.close()
        let before = try names.map { try Data(contentsOf: URL(fileURLWithPath: output + "/" + $0)) }

        let process = try start("gcml-synth", ["--profile", "tiny", "--out", output, "--videos", "2000", "--sessions", "5000000",
                                               "--visual-dim", "8", "--audio-dim", "0", "--seed", "2", "--threads", "1"])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let writingSessions = wait(for: process) { ReliabilityFixture.contents(output).contains { $0.hasPrefix(".sessions.tsv.tmp-") } }
        XCTAssertTrue(writingSessions, "gcml-synth never wrote sessions: \(ReliabilityFixture.contents(output))")
        XCTAssertTrue(ReliabilityFixture.contents(output).contains { $0.hasPrefix(".frames.h5.tmp-") }, "frames.h5 was published alone")
        XCTAssertTrue(process.isRunning, "gcml-synth ended before it could be signalled")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 128 + SIGTERM)
        XCTAssertEqual(ReliabilityFixture.contents(output), names)
        XCTAssertEqual(try names.map { try Data(contentsOf: URL(fileURLWithPath: output + "/" + $0)) }, before)

        try Executables.succeed("gcml-synth", small + ["--seed", "3"])
        let secondID = try XCTUnwrap(try runID("frames.h5"))
        XCTAssertNotEqual(secondID, firstID)
        XCTAssertEqual(try runID("truth.h5"), secondID)
    }

    func testEmbeddingsBesideAnotherRunsModelAreRefused() throws {
        let f = try fixture()
        let first = folder + "/first", second = folder + "/second"
        for out in [first, second] {
            try Executables.succeed("train-embed", ["--features", f.valid + "/features.h5", "--triplets", f.valid + "/triplets.h5",
                                                    "--out", out + "/model.h5", "--embeddings", out + "/embeddings.h5", "--steps", "1"]
                                    + ReliabilityFixture.smallModel)
        }
        try FileManager.default.removeItem(atPath: first + "/model.h5")
        try FileManager.default.copyItem(atPath: second + "/model.h5", toPath: first + "/model.h5")
        let refused = try Executables.run("eval-map-ndcg", ["--vectors", first + "/embeddings.h5", "--graph", f.valid + "/graph.h5",
                                                            "--out", folder + "/r.h5", "--threads", "1"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("embeddings.h5") && refused.stderr.contains("model.h5"), refused.stderr)
    }

    func testJSONInAMissingFolderIsPublishedWithTheArtifact() throws {
        let f = try fixture()
        let json = folder + "/deep/er/summary.json"
        try Executables.succeed("eval-map-ndcg", ["--vectors", f.valid + "/embeddings.h5", "--graph", f.valid + "/graph.h5",
                                                  "--out", folder + "/r.h5", "--json", json, "--threads", "1"])
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let file = try HDF5File.open(folder + "/r.h5")
        defer { try? file.close() }
        XCTAssertEqual(summary["run_id"] as? String, try file.root.stringAttribute("run_id"), "the JSON and the artifact come from one run")
    }

    func testResumeRefusesChangedTrainingOptionsUnlessForced() throws {
        let f = try fixture()
        let model = folder + "/model.h5"
        let base = ["--features", f.valid + "/features.h5", "--triplets", f.valid + "/triplets.h5", "--out", model] + ReliabilityFixture.smallModel
        try Executables.succeed("train-embed", base + ["--steps", "2"])
        let before = try Data(contentsOf: URL(fileURLWithPath: model))
        for (option, value) in [("--learning-rate", "0.5"), ("--margin", "0.7"), ("--seed", "9")] {
            let refused = try Executables.run("train-embed", base + ["--steps", "4", "--resume", option, value])
            XCTAssertNotEqual(refused.status, 0, option)
            XCTAssertTrue(refused.stderr.contains(option) && refused.stderr.contains("--force-resume"), refused.stderr)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: model)), before, "a refused resume leaves the model as it was")
        }
        let otherTriplets = try Executables.run("train-embed", ["--features", f.valid + "/features.h5", "--triplets", f.bad + "/triplets-short-anchor.h5",
                                                                "--out", model, "--steps", "4", "--resume"] + ReliabilityFixture.smallModel)
        XCTAssertNotEqual(otherTriplets.status, 0)
        XCTAssertTrue(otherTriplets.stderr.contains("--triplets") || otherTriplets.stderr.contains("/anchor"), otherTriplets.stderr)
        try Executables.succeed("train-embed", base + ["--steps", "4", "--resume"])
        try Executables.succeed("train-embed", base + ["--steps", "6", "--resume", "--learning-rate", "0.5", "--force-resume"])
    }
}
