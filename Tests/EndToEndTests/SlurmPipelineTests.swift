import Artifacts
import Foundation
import XCTest

/// The tiny pipeline as a Slurm job on a real one-node cluster (slurmctld + slurmd) that
/// the test starts under a temporary folder and stops: `sbatch -n 3 pipelines/slurm/pipeline.sbatch`.
final class SlurmPipelineTests: XCTestCase {
    func testTinyPipelineRunsThroughSbatchOnAOneNodeCluster() throws {
        guard getuid() == 0 else { throw XCTSkip("a test Slurm cluster runs its daemons as root") }
        let folder = try Executables.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let cluster = folder + "/slurm"
        let started = try Launch.run(["scripts/slurm-local-cluster.sh", "start", cluster], seconds: 30)
        XCTAssertEqual(started.status, 0, started.stderr)
        defer { _ = try? Launch.run(["scripts/slurm-local-cluster.sh", "stop", cluster], seconds: 30) }
        guard started.status == 0 else { return }
        // The test node declares 4 CPUs on this machine's 2 cores: ranks waiting in MPI should yield
        // their core (mpirun --oversubscribe sets this itself; srun cannot know).
        let slurm = ["SLURM_CONF": cluster + "/slurm.conf", "OMPI_MCA_mpi_yield_when_idle": "1"]

        let log = folder + "/job.out"
        // Two methods, short training: the job, not the model, is under test here.
        let variables = ["PIPELINE=tiny", "DATA=\(folder)/data", "METHODS=gcml cdml",
                         "TRAIN_ARGS=--hidden 32 --audio-hidden 8 --dim 16 --batch 32 --steps 40 --validate-every 20 --validate-full-corpus --log-every 10"]
            + Executables.programOverrides()
        let submitted = try Launch.run(["sbatch", "--parsable", "-n", "3", "--output", log, "pipelines/slurm/pipeline.sbatch",
                                        "--no-print-directory", "RUN=\(folder)/run"] + variables, seconds: 30, environment: slurm)
        XCTAssertEqual(submitted.status, 0, submitted.stderr)
        let job = submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";").first.map(String.init) ?? ""
        XCTAssertFalse(job.isEmpty, "no job id from sbatch: \(submitted.stdout)")

        // Poll the job's state (no accounting daemon: scontrol knows finished jobs for MinJobAge).
        var state = "", exitCode = ""
        let deadline = Date().addingTimeInterval(600)
        while Date() < deadline {
            let shown = try Launch.run(["scontrol", "show", "job", job, "-o"], seconds: 10, environment: slurm).stdout
            state = Self.field("JobState", in: shown)
            exitCode = Self.field("ExitCode", in: shown)
            if ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"].contains(state) { break }
            usleep(500_000)
        }
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        XCTAssertEqual(state, "COMPLETED", "job \(job) ended as \(state) (exit \(exitCode)):\n\(output.suffix(3000))")
        XCTAssertEqual(exitCode, "0:0")
        XCTAssertTrue(output.contains("make exited with status 0"), String(output.suffix(3000)))
        XCTAssertTrue(output.contains("srun --mpi=pmix"), "the distributed stages did not run through srun")

        // The distributed stages (every stage of the pipeline but gcml-synth) wrote their artifacts from 3 ranks; the report exists.
        for (artifact, ranks) in [("features.h5", 3), ("triplets-smart.h5", 3), ("triplets-random.h5", 3), ("tree.h5", 3), ("graph.h5", 3)] {
            let file = try HDF5File.open("\(folder)/run/\(artifact)")
            XCTAssertEqual(try file.root.intAttribute("ranks"), Int64(ranks), artifact)
            try file.close()
            XCTAssertEqual(try Executables.run("gcml-check", ["--quiet", "\(folder)/run/\(artifact)"]).status, 0, artifact)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(folder)/run/report.md"))

        // The same pipeline as one process (the job's frames and sessions): every artifact the job
        // wrote — features, graph, tree, triplets, models, embeddings, every evaluation — holds the
        // same numbers bit for bit (uint8 frames: exact PCA statistics; fixed GEMM blocks elsewhere).
        let one = try Executables.shell("make", ["--no-print-directory", "RUN=\(folder)/one", "all"] + variables)
        XCTAssertEqual(one.status, 0, "one-process make all failed:\n\(one.stderr.suffix(3000))")
        var environment: [String: String] = [:]
        if let plugins = ProcessInfo.processInfo.environment["GCML_PLUGIN_DIR"] { environment["HDF5_PLUGIN_PATH"] = plugins }
        let compared = try Executables.shell("scripts/compare-runs.py", ["\(folder)/one", "\(folder)/run"], environment: environment)
        XCTAssertEqual(compared.status, 0, "the 3-task job's artifacts differ from one process's:\n\(compared.stdout)\n\(compared.stderr.suffix(2000))")
        XCTAssertTrue(compared.stdout.contains("gcml/retrieval-all.h5: identical"), compared.stdout)
    }

    /// The value of `Key=value` in scontrol's one-line output.
    static func field(_ key: String, in text: String) -> String {
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) where word.hasPrefix(key + "=") {
            return String(word.dropFirst(key.count + 1))
        }
        return ""
    }
}
