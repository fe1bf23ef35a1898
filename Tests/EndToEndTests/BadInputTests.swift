import Foundation
import XCTest

/// Valid artifacts of every kind written once by the real stages on a tiny corpus, and
/// their damaged variants (tests/fixtures/make_bad_inputs.py), shared by the reliability tests.
enum ReliabilityFixture {
    struct Folders {
        let valid: String
        let bad: String
        let root: String
    }

    static let folders: Result<Folders, Error> = Result { try make() }

    static func get() throws -> Folders { try folders.get() }

    private static func make() throws -> Folders {
        let root = try Executables.temporaryFolder()
        let valid = root + "/valid", bad = root + "/bad"
        try FileManager.default.createDirectory(atPath: valid, withIntermediateDirectories: true)
        let steps: [(String, [String])] = [
            ("gcml-synth", ["--profile", "tiny", "--out", valid, "--videos", "80", "--sessions", "400", "--visual-dim", "8",
                            "--audio-dim", "4", "--genres", "2", "--subgenres-per-genre", "2", "--topics-per-subgenre", "2",
                            "--frames-median", "3", "--frames-max", "6", "--quantize", "float32", "--seed", "3", "--threads", "1"]),
            ("extract-pca", ["--frames", valid + "/frames.h5", "--out", valid + "/features.h5", "--save-pca", valid + "/pca.h5",
                             "--dim", "4", "--threads", "1"]),
            ("build-graph", ["--features", valid + "/features.h5", "--sessions", valid + "/sessions.tsv", "--out", valid + "/graph.h5",
                             "--holdout-edges", "0.2", "--threads", "1"]),
            ("affinity-tree", ["--graph", valid + "/graph.h5", "--out", valid + "/tree.h5", "--levels", "2", "--threads", "1"]),
            ("sample-triplets", ["--graph", valid + "/graph.h5", "--tree", valid + "/tree.h5", "--out", valid + "/triplets.h5",
                                 "--count", "200", "--threads", "1"]),
            ("train-embed", ["--features", valid + "/features.h5", "--triplets", valid + "/triplets.h5", "--out", valid + "/model.h5",
                             "--embeddings", valid + "/embeddings.h5"] + smallModel + ["--steps", "2"]),
        ]
        for (program, arguments) in steps {
            let result = try Executables.run(program, arguments)
            guard result.status == 0 else { throw FixtureError("\(program) failed: \(result.stderr)") }
        }
        let script = Executables.repository + "/tests/fixtures/make_bad_inputs.py"
        let made = try Executables.shell("python3", [script, valid, bad])
        guard made.status == 0 else { throw FixtureError("make_bad_inputs.py failed: \(made.stderr)") }
        return Folders(valid: valid, bad: bad, root: root)
    }

    static let smallModel = ["--hidden", "8", "--audio-hidden", "4", "--dim", "4", "--batch-size", "16", "--threads", "1"]

    struct FixtureError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Every name in `folder`, hidden ones included.
    static func contents(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    }
}

/// A refused input as a user meets it: the stage exits non-zero without crashing, says
/// which file and which dataset, line or option is wrong, and leaves no file behind.
struct RefusalCase {
    let program: String
    /// Arguments; "V/" is the valid fixture folder, "B/" the damaged one, "O/" this case's (empty) output folder.
    let arguments: [String]
    /// Each must appear in stderr (after the same substitution).
    let mentions: [String]

    init(_ program: String, _ arguments: [String], mentions: [String]) {
        self.program = program
        self.arguments = arguments
        self.mentions = mentions
    }

    static let crashMarkers = ["Fatal error", "Program crashed", "Backtrace", "Stack dump", "Illegal instruction", "Segmentation fault"]

    /// The problems found (empty when the refusal is as promised).
    func check(_ folders: ReliabilityFixture.Folders, output: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        // A placeholder only where a path starts (not inside a folder name such as ".../gcml-e2e-…B/").
        func resolve(_ text: String) -> String {
            var resolved = text
            for (placeholder, folder) in [("V", folders.valid), ("B", folders.bad), ("O", output)] {
                let pattern = try! NSRegularExpression(pattern: "(?<![A-Za-z0-9_./-])\(placeholder)/")
                resolved = pattern.stringByReplacingMatches(in: resolved, range: NSRange(resolved.startIndex..., in: resolved),
                                                            withTemplate: NSRegularExpression.escapedTemplate(for: folder + "/"))
            }
            return resolved
        }
        let validBefore = ReliabilityFixture.contents(folders.valid)
        let result = try Executables.run(program, arguments.map(resolve))
        var problems: [String] = []
        if result.status == 0 { problems.append("exit status 0") }
        if result.signalled { problems.append("killed by signal \(result.status)") }
        for marker in Self.crashMarkers where result.stderr.contains(marker) { problems.append("crash marker '\(marker)'") }
        for mention in mentions.map(resolve) where !result.stderr.contains(mention) { problems.append("message lacks '\(mention)'") }
        let left = ReliabilityFixture.contents(output)
        if !left.isEmpty { problems.append("left behind in the output folder: \(left)") }
        let validAfter = ReliabilityFixture.contents(folders.valid)
        if validAfter != validBefore { problems.append("the input folder changed: \(validBefore) -> \(validAfter)") }
        let badLeft = ReliabilityFixture.contents(folders.bad).filter { $0.contains(".tmp-") || $0.hasSuffix(".lock") }
        if !badLeft.isEmpty { problems.append("left behind beside the inputs: \(badLeft)") }
        if !problems.isEmpty {
            problems.append("command: \(program) \(arguments.joined(separator: " "))\nstderr: \(result.stderr.prefix(600))")
        }
        return problems
    }
}

/// The bad-input suite: every executable, one damaged input or out-of-range option per case.
final class BadInputTests: XCTestCase {
    private func refuse(_ cases: [RefusalCase], file: StaticString = #filePath, line: UInt = #line) throws {
        let folders = try ReliabilityFixture.get()
        for (index, refusal) in cases.enumerated() {
            let output = folders.root + "/out/\(refusal.program)-\(index)-\(UUID().uuidString.prefix(8))"
            let problems = try refusal.check(folders, output: output)
            XCTAssertTrue(problems.isEmpty, problems.joined(separator: "; "), file: file, line: line)
        }
    }

    func testExtractPCARefusesBadFramesAndOptions() throws {
        func frames(_ name: String, _ mentions: [String], _ extra: [String] = []) -> RefusalCase {
            RefusalCase("extract-pca", ["--frames", "B/\(name)", "--out", "O/features.h5", "--save-pca", "O/pca.h5", "--threads", "1"] + extra,
                        mentions: ["B/\(name)"] + mentions)
        }
        try refuse([
            RefusalCase("extract-pca", ["--frames", "B/missing.h5", "--out", "O/f.h5"], mentions: ["B/missing.h5"]),
            frames("not-hdf5.h5", ["not HDF5"]),
            frames("frames-no-visual.h5", ["/visual"]),
            frames("frames-offsets-short.h5", ["/frame_offsets"]),
            frames("frames-offsets-decreasing.h5", ["/frame_offsets"]),
            frames("frames-huge-value.h5", ["/visual", "2^64"]),
            frames("frames-nan.h5", ["/visual", "nan"]),
            frames("frames-empty-id.h5", ["/video_id", "empty"]),
            frames("frames-duplicate-id.h5", ["/video_id"]),
            frames("frames-invalid-utf8.h5", ["/video_id", "UTF-8"]),
            frames("frames-visual-rank1.h5", ["/visual", "rank"]),
            frames("frames-visual-huge.h5", ["/visual"]),
            frames("frames-uint8-no-range.h5", ["/visual", "quantize_min"]),
            frames("frames-label-out-of-range.h5", ["/labels/indices"]),
            frames("frames-num-classes-huge.h5", ["num_classes"]),
            frames("frames-corrupt-chunk.h5", ["/visual"]),
            frames("frames-damaged-heap.h5", ["global heap"]),
            RefusalCase("extract-pca", ["--frames", "V/frames.h5", "--out", "V/frames.h5"], mentions: ["--out", "--frames"]),
            RefusalCase("extract-pca", ["--frames", "V/frames.h5", "--out", "O/f.h5", "--save-pca", "O/f.h5"], mentions: ["--out", "--save-pca"]),
            RefusalCase("extract-pca", ["--frames", "V/frames.h5", "--out", "O/f.h5", "--pca", "V/graph.h5"], mentions: ["V/graph.h5", "schema"]),
            RefusalCase("extract-pca", ["--frames", "V/frames.h5", "--out", "O/f.h5", "--pca", "B/pca-wrong-dimension.h5"],
                        mentions: ["B/pca-wrong-dimension.h5", "/visual"]),
            RefusalCase("extract-pca", ["--frames", "V/frames.h5", "--out", "O/f.h5", "--dim", "0"], mentions: ["--dim"]),
            RefusalCase("extract-pca", ["--frames", "V/frames.h5", "--out", "O/f.h5", "--audio-dim", "-1"], mentions: ["--audio-dim"]),
            RefusalCase("extract-pca", ["--frames", "V/frames.h5", "--out", "O/f.h5", "--fit-frames", "0"], mentions: ["--fit-frames"]),
            RefusalCase("extract-pca", ["--out", "O/f.h5"], mentions: ["--frames"]),
            RefusalCase("extract-pca", ["--tfrecord", "B/garbage.tfrecord", "--out", "O/f.h5"], mentions: ["B/garbage.tfrecord"]),
            RefusalCase("extract-pca", ["--frames", "V/frames.h5", "--out", "O/."], mentions: ["--out"]),
        ])
    }

    func testBuildGraphRefusesBadInteractionsFeaturesAndOptions() throws {
        func graph(_ extra: [String], _ mentions: [String]) -> RefusalCase {
            RefusalCase("build-graph", ["--features", "V/features.h5", "--out", "O/graph.h5", "--threads", "1"] + extra, mentions: mentions)
        }
        try refuse([
            graph(["--sessions", "B/missing.tsv"], ["B/missing.tsv"]),
            graph(["--sessions", "B/sessions-malformed.tsv"], ["B/sessions-malformed.tsv", "line 3"]),
            graph(["--sessions", "B/sessions-unknown-ids.tsv"], ["B/sessions-unknown-ids.tsv"]),
            graph(["--sessions", "B/sessions-corrupt.gz"], ["B/sessions-corrupt.gz"]),
            graph(["--pairs", "B/pairs-weight-overflow.tsv"], ["B/pairs-weight-overflow.tsv", "line 2"]),
            graph(["--pairs", "B/pairs-weight-nan.tsv"], ["B/pairs-weight-nan.tsv", "line 2"]),
            graph(["--pairs", "B/pairs-weight-negative.tsv"], ["B/pairs-weight-negative.tsv", "line 2"]),
            RefusalCase("build-graph", ["--features", "B/features-no-video-id.h5", "--sessions", "V/sessions.tsv", "--out", "O/g.h5"],
                        mentions: ["B/features-no-video-id.h5", "/video_id"]),
            RefusalCase("build-graph", ["--features", "B/features-visual-huge.h5", "--knn", "3", "--out", "O/g.h5", "--threads", "1"],
                        mentions: ["B/features-visual-huge.h5", "/visual"]),
            RefusalCase("build-graph", ["--features", "B/features-nan.h5", "--knn", "3", "--out", "O/g.h5", "--threads", "1"],
                        mentions: ["B/features-nan.h5", "/visual"]),
            graph(["--knn", "0"], ["--knn"]),
            graph(["--sessions", "V/sessions.tsv", "--window", "0"], ["--window"]),
            graph(["--sessions", "V/sessions.tsv", "--holdout-nodes", "1.5"], ["--holdout-nodes"]),
            graph(["--sessions", "V/sessions.tsv", "--holdout-edges", "-0.1"], ["--holdout-edges"]),
            graph(["--sessions", "V/sessions.tsv", "--min-weight", "nan"], ["--min-weight"]),
            graph(["--sessions", "V/sessions.tsv", "--top-edges", "0"], ["--top-edges"]),
            graph(["--sessions", "V/sessions.tsv", "--pairs", "V/sessions.tsv"], ["--sessions", "--pairs"]),
            graph(["--sessions", "V/sessions.tsv", "--threads", "0"], ["--threads"]),
            RefusalCase("build-graph", ["--features", "V/features.h5", "--sessions", "V/sessions.tsv", "--out", "V/features.h5"],
                        mentions: ["--out", "--features"]),
            RefusalCase("build-graph", ["--features", "V/features.h5", "--sessions", "V/sessions.tsv", "--out", "V/sessions.tsv"],
                        mentions: ["--out", "--sessions"]),
        ])
    }

    func testAffinityTreeRefusesGraphsBreakingTheContract() throws {
        func tree(_ graph: String, _ mentions: [String], _ extra: [String] = []) -> RefusalCase {
            RefusalCase("affinity-tree", ["--graph", graph, "--out", "O/tree.h5", "--threads", "1"] + extra, mentions: mentions)
        }
        try refuse([
            tree("B/missing.h5", ["B/missing.h5"]),
            tree("B/graph-asymmetric.h5", ["B/graph-asymmetric.h5", "/train", "symmetric"]),
            tree("B/graph-self-loop.h5", ["B/graph-self-loop.h5", "/train/indices", "self loop"]),
            tree("B/graph-unsorted.h5", ["B/graph-unsorted.h5", "/train/indices"]),
            tree("B/graph-index-out-of-range.h5", ["B/graph-index-out-of-range.h5", "/train/indices"]),
            tree("B/graph-indptr-decreasing.h5", ["B/graph-indptr-decreasing.h5", "/train/indptr"]),
            tree("B/graph-nan-weight.h5", ["B/graph-nan-weight.h5", "/train/weights"]),
            tree("B/graph-heldout-nodes-out-of-range.h5", ["B/graph-heldout-nodes-out-of-range.h5", "/heldout_nodes"]),
            tree("B/graph-wrong-schema.h5", ["B/graph-wrong-schema.h5", "schema"]),
            tree("B/not-hdf5.h5", ["B/not-hdf5.h5"]),
            tree("V/graph.h5", ["--levels"], ["--levels", "0"]),
            tree("V/graph.h5", ["--levels"], ["--levels", "1000000"]),
            tree("V/graph.h5", ["--max-cluster-size"], ["--max-cluster-size", "0"]),
            RefusalCase("affinity-tree", ["--graph", "V/graph.h5", "--out", "V/graph.h5"], mentions: ["--out", "--graph"]),
        ])
    }

    func testSampleTripletsRefusesInconsistentTreesAndOptions() throws {
        func sample(_ tree: String, _ mentions: [String], _ extra: [String] = []) -> RefusalCase {
            RefusalCase("sample-triplets", ["--graph", "V/graph.h5", "--tree", tree, "--out", "O/t.h5", "--count", "50", "--threads", "1"] + extra,
                        mentions: mentions)
        }
        try refuse([
            sample("B/tree-size-mismatch.h5", ["B/tree-size-mismatch.h5", "/level_1/size"]),
            sample("B/tree-parent-out-of-range.h5", ["B/tree-parent-out-of-range.h5", "/level_1/parent"]),
            sample("B/tree-assignment-out-of-range.h5", ["B/tree-assignment-out-of-range.h5", "/level_1/assignment"]),
            sample("B/tree-short-assignment.h5", ["B/tree-short-assignment.h5", "/level_1/assignment"]),
            sample("B/tree-parent-inconsistent.h5", ["B/tree-parent-inconsistent.h5", "/level_1/parent"]),
            sample("V/tree.h5", ["--count"], ["--count", "0"]),
            sample("V/tree.h5", ["--count"], ["--count", "-5"]),
            sample("V/tree.h5", ["--level"], ["--level", "9"]),
            sample("V/tree.h5", ["--level-mix"], ["--level-mix", "a,b"]),
            RefusalCase("sample-triplets", ["--graph", "V/graph.h5", "--out", "O/t.h5"], mentions: ["--tree"]),
            RefusalCase("sample-triplets", ["--graph", "B/graph-unsorted.h5", "--tree", "V/tree.h5", "--out", "O/t.h5"],
                        mentions: ["B/graph-unsorted.h5", "/train/indices"]),
            RefusalCase("sample-triplets", ["--graph", "V/graph.h5", "--tree", "V/tree.h5", "--out", "V/tree.h5"], mentions: ["--out", "--tree"]),
        ])
    }

    func testTrainEmbedRefusesBadOptionsAndInputs() throws {
        func train(_ extra: [String], _ mentions: [String], triplets: String = "V/triplets.h5", features: String = "V/features.h5") -> RefusalCase {
            RefusalCase("train-embed", ["--features", features, "--triplets", triplets, "--out", "O/model.h5", "--embeddings", "O/e.h5",
                                        "--steps", "1"] + ReliabilityFixture.smallModel + extra, mentions: mentions)
        }
        try refuse([
            train(["--dim", "0"], ["--dim"]),
            train(["--hidden", "0"], ["--hidden"]),
            train(["--steps", "-1"], ["--steps"]),
            train(["--learning-rate", "-0.1"], ["--learning-rate"]),
            train(["--lr", "nan"], ["--learning-rate"]),
            train(["--margin", "-1"], ["--margin"]),
            train(["--clip", "-1"], ["--clip"]),
            train(["--beta1", "1.5"], ["--beta1"]),
            train(["--checkpoint-every", "-1"], ["--checkpoint-every"]),
            train([], ["B/triplets-short-anchor.h5", "/anchor"], triplets: "B/triplets-short-anchor.h5"),
            train([], ["B/triplets-negative-out-of-range.h5", "/negative"], triplets: "B/triplets-negative-out-of-range.h5"),
            train([], ["B/features-nan.h5", "/visual"], features: "B/features-nan.h5"),
            train([], ["B/features-visual-huge.h5", "/visual"], features: "B/features-visual-huge.h5"),
            train(["--validate", "B/graph-reordered.h5"], ["B/graph-reordered.h5", "/video_id"]),
            RefusalCase("train-embed", ["--features", "V/features.h5", "--triplets", "V/triplets.h5", "--out", "V/features.h5"],
                        mentions: ["--out", "--features"]),
            RefusalCase("train-embed", ["--features", "V/features.h5", "--triplets", "V/triplets.h5", "--out", "O/m.h5", "--embeddings", "O/m.h5"],
                        mentions: ["--out", "--embeddings"]),
            RefusalCase("train-embed", ["--features", "V/features.h5", "--out", "O/m.h5"], mentions: ["--triplets", "--tree"]),
            RefusalCase("train-embed", ["--features", "V/features.h5", "--tree", "V/tree.h5", "--classify-level", "0", "--out", "O/m.h5"],
                        mentions: ["--classify-level"]),
            RefusalCase("train-embed", ["--features", "V/features.h5", "--tree", "B/tree-short-assignment.h5", "--classify-level", "1",
                                        "--out", "O/m.h5"] + ReliabilityFixture.smallModel,
                        mentions: ["B/tree-short-assignment.h5", "/level_1/assignment"]),
        ])
    }

    func testEvaluationStagesRefuseBadVectorsGraphsLabelsAndOptions() throws {
        func retrieval(_ vectors: String, _ graph: String, _ mentions: [String], _ extra: [String] = []) -> RefusalCase {
            RefusalCase("eval-map-ndcg", ["--vectors", vectors, "--graph", graph, "--out", "O/r.h5", "--threads", "1"] + extra, mentions: mentions)
        }
        func annotation(_ vectors: String, _ labels: String, _ mentions: [String], _ extra: [String] = []) -> RefusalCase {
            RefusalCase("eval-gap", ["--vectors", vectors, "--labels", labels, "--out", "O/a.h5", "--threads", "1"] + extra, mentions: mentions)
        }
        try refuse([
            retrieval("V/embeddings.h5:/missing", "V/graph.h5", ["V/embeddings.h5", "/missing"]),
            retrieval("B/embeddings-nan.h5", "V/graph.h5", ["B/embeddings-nan.h5", "/embedding"]),
            retrieval("B/embeddings-reordered.h5", "V/graph.h5", ["B/embeddings-reordered.h5", "/video_id"]),
            retrieval("V/embeddings.h5", "B/graph-heldout-nodes-out-of-range.h5", ["B/graph-heldout-nodes-out-of-range.h5", "/heldout_nodes"]),
            retrieval("V/embeddings.h5", "B/graph-no-heldout.h5", ["B/graph-no-heldout.h5", "/heldout"]),
            retrieval("V/embeddings.h5", "V/graph.h5", ["--k"], ["--k", "0"]),
            retrieval("V/embeddings.h5", "V/graph.h5", ["--negatives"], ["--negatives", "-1"]),
            retrieval("V/embeddings.h5", "V/graph.h5", ["--out", "--json"], ["--json", "O/r.h5"]),
            RefusalCase("eval-map-ndcg", ["--vectors", "V/embeddings.h5", "--graph", "V/graph.h5", "--out", "V/graph.h5"], mentions: ["--out", "--graph"]),
            annotation("V/embeddings.h5", "V/features.h5", ["--learning-rate"], ["--learning-rate", "nan"]),
            annotation("V/embeddings.h5", "V/features.h5", ["--batch-size"], ["--batch-size", "0"]),
            annotation("V/embeddings.h5", "V/features.h5", ["--l2"], ["--l2", "-1"]),
            annotation("V/embeddings.h5", "V/features.h5", ["--test-fraction"], ["--test-fraction", "1.5"]),
            annotation("V/embeddings.h5", "V/features.h5", ["--top-k"], ["--top-k", "0"]),
            annotation("V/embeddings.h5", "B/features-no-labels.h5", ["B/features-no-labels.h5", "/labels"]),
            annotation("V/embeddings.h5", "B/features-num-classes-huge.h5", ["B/features-num-classes-huge.h5", "num_classes"]),
            annotation("V/embeddings.h5", "V/features.h5", ["--out", "--json"], ["--json", "O/a.h5"]),
            annotation("B/features-visual-huge.h5:/visual", "V/features.h5", ["B/features-visual-huge.h5", "/visual"]),
            retrieval("B/features-visual-huge.h5:/visual", "V/graph.h5", ["B/features-visual-huge.h5", "/visual"]),
            RefusalCase("eval-gap", ["--vectors", "V/embeddings.h5", "--labels", "V/features.h5", "--out", "V/embeddings.h5"],
                        mentions: ["--out", "--vectors"]),
        ])
    }

    func testImportSynthCheckAndReportRefuseBadInputs() throws {
        try refuse([
            RefusalCase("gcml-import", ["--tfrecord", "B/garbage.tfrecord", "--out", "O/frames.h5"], mentions: ["B/garbage.tfrecord"]),
            RefusalCase("gcml-import", ["--tfrecord", "B/truncated.tfrecord", "--out", "O/frames.h5"], mentions: ["B/truncated.tfrecord"]),
            RefusalCase("gcml-import", ["--tfrecord", "B/missing.tfrecord", "--out", "O/frames.h5"], mentions: ["B/missing.tfrecord"]),
            RefusalCase("gcml-import", ["--tfrecord", "B/garbage.tfrecord", "--out", "B/garbage.tfrecord"], mentions: ["--out", "--tfrecord"]),
            RefusalCase("gcml-synth", ["--profile", "tiny", "--out", "V/frames.h5"], mentions: ["--out", "V/frames.h5"]),
            RefusalCase("gcml-synth", ["--profile", "tiny", "--out", "O/corpus", "--videos", "0"], mentions: ["--videos"]),
            RefusalCase("gcml-synth", ["--profile", "tiny", "--out", "B/synth-blocked", "--videos", "50"],
                        mentions: ["--out", "B/synth-blocked/truth.h5", "folder"]),
            RefusalCase("gcml-check", ["B/frames-damaged-heap.h5"], mentions: ["B/frames-damaged-heap.h5", "global heap"]),
            RefusalCase("gcml-check", ["B/not-hdf5.h5"], mentions: ["B/not-hdf5.h5"]),
            RefusalCase("gcml-check", ["B/missing.h5"], mentions: ["B/missing.h5"]),
            RefusalCase("gcml-check", ["B/graph-asymmetric.h5"], mentions: ["B/graph-asymmetric.h5", "/train"]),
            RefusalCase("gcml-check", ["B/tree-size-mismatch.h5"], mentions: ["B/tree-size-mismatch.h5", "/level_1/size"]),
            RefusalCase("gcml-check", ["B/frames-invalid-utf8.h5"], mentions: ["B/frames-invalid-utf8.h5", "/video_id"]),
            RefusalCase("gcml-report", ["--run-dir", "B/missing-run", "--out", "O/report.md"], mentions: ["B/missing-run"]),
        ])
    }
}
