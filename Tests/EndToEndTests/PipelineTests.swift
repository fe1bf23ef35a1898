import Artifacts
import Foundation
import XCTest

/// The tiny pipeline through the real Makefile and executables: `make all`,
/// incremental reruns, swapping a stage, and the nightly job's gate.
final class PipelineTests: XCTestCase {
    func make(_ arguments: [String]) throws -> Executables.Result {
        try Executables.shell("make", ["--no-print-directory", "PIPELINE=tiny"] + Executables.programOverrides() + arguments)
    }

    func testTinyMakeAllThenNoOpThenExactlyTheDependentsRerun() throws {
        let folder = try Executables.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let places = ["DATA=\(folder)/data", "RUN=\(folder)/run"]
        let first = try make(places + ["all"])
        XCTAssertEqual(first.status, 0, "make all failed:\n\(first.stdout)\n\(first.stderr.suffix(3000))")
        let report = try String(contentsOfFile: "\(folder)/run/report.md", encoding: .utf8)
        for method in ["GCML", "CDML", "Cluster", "Raw"] { XCTAssertTrue(report.contains(method), "report lacks \(method)") }
        for artifact in ["features.h5", "graph.h5", "tree.h5", "gcml/embeddings.h5", "raw/annotation.h5"] {
            XCTAssertEqual(try Executables.run("gcml-check", ["--quiet", "\(folder)/run/\(artifact)"]).status, 0, artifact)
        }

        let second = try make(places + ["-q", "all"])
        XCTAssertEqual(second.status, 0, "a second make all has work to do")

        // Touching the graph reruns tree, triplets, training and evaluation — not extract-pca.
        Thread.sleep(forTimeInterval: 1.1)
        XCTAssertTrue(FileManager.default.isWritableFile(atPath: "\(folder)/run/graph.h5"))
        _ = try Executables.shell("touch", ["\(folder)/run/graph.h5"])
        let plan = try make(places + ["-n", "all"]).stdout
        for stage in ["affinity-tree", "sample-triplets", "train-embed", "eval-map-ndcg", "gcml-report"] {
            XCTAssertTrue(plan.contains(stage), "\(stage) should rerun:\n\(plan)")
        }
        for stage in ["extract-pca", "build-graph", "gcml-synth"] {
            XCTAssertFalse(plan.contains("/\(stage) "), "\(stage) should not rerun:\n\(plan)")
        }

        // Swapping a stage: another program at AFFINITY_TREE is the one that runs.
        let marker = "\(folder)/other-tree-ran"
        let wrapper = "\(folder)/other-affinity-tree"
        try "#!/bin/sh\ntouch '\(marker)'\nexec '\(Executables.folder.path)/affinity-tree' \"$@\"\n".write(toFile: wrapper, atomically: true, encoding: .utf8)
        _ = try Executables.shell("chmod", ["+x", wrapper])
        let swapped = try make(places + ["AFFINITY_TREE=\(wrapper)", "tree"])
        XCTAssertEqual(swapped.status, 0, swapped.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: marker), "the overriding program did not run")
    }

    func testNightlyPublishesGatesRefusesConcurrencyAndSurvivesFailure() throws {
        let folder = try Executables.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let overrides = (Executables.programOverrides() + ["DATA=\(folder)/data"]).joined(separator: " ")
        let env = ["GCML_RUNS": "\(folder)/runs", "GCML_MAKE_ARGS": overrides, "GCML_CHECK": "\(Executables.folder.path)/gcml-check"]
        let published = "\(folder)/runs/tiny/published"

        let normal = try Executables.shell("pipelines/nightly.sh", ["tiny"], environment: env)
        XCTAssertEqual(normal.status, 0, normal.stderr)
        let firstTarget = try FileManager.default.destinationOfSymbolicLink(atPath: published)
        XCTAssertTrue(FileManager.default.fileExists(atPath: published + "/gcml/retrieval.h5"))

        // Raise the bar: the published run now claims a perfect MAP, so the next run is worse than it.
        let retrieval = try HDF5File.open(published + "/gcml/retrieval.h5", mode: .readWrite)
        try retrieval.root.setAttribute("map", .double(1.0))
        try retrieval.close()
        Thread.sleep(forTimeInterval: 1.1)   // a new UTC second: a new run folder
        let gated = try Executables.shell("pipelines/nightly.sh", ["tiny"], environment: env)
        XCTAssertEqual(gated.status, 3, gated.stderr)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: published), firstTarget)

        // A failing stage publishes nothing.
        Thread.sleep(forTimeInterval: 1.1)
        var failing = env
        failing["GCML_MAKE_ARGS"] = overrides + " BUILD_GRAPH=/bin/false"
        let failed = try Executables.shell("pipelines/nightly.sh", ["tiny"], environment: failing)
        XCTAssertEqual(failed.status, 1, failed.stderr)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: published), firstTarget)

        // A second start while one holds the lock is refused.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = ["\(folder)/runs/tiny/nightly/.lock", "sleep", "30"]
        try holder.run()
        defer { holder.terminate() }
        Thread.sleep(forTimeInterval: 0.5)
        let refused = try Executables.shell("pipelines/nightly.sh", ["tiny"], environment: env)
        XCTAssertEqual(refused.status, 4)
        XCTAssertTrue(refused.stderr.contains("in progress"), refused.stderr)
    }
}
