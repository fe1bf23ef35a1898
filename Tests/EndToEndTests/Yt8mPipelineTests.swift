import Artifacts
import Foundation
import XCTest

/// `make all PIPELINE=yt8m` on a folder of YouTube-8M-format shards: gcml-synth's tiny corpus
/// (uint8 frames, rgb 1024 + audio 128) written as frame- and video-level TFRecord shards plus
/// sessions/pairs by the independent Python writer tests/fixtures/corpus_to_tfrecords.py. The
/// pipeline reads only the shards (the data folder holds no frames.h5).
final class Yt8mPipelineTests: XCTestCase {
    var folder: String!

    /// The writer's record of what it wrote.
    struct Expected {
        var numClasses: Int
        var ids: [String]
        var labels: [String: Set<Int32>]
        var frames: [String: Int32]
    }

    override func setUpWithError() throws { folder = try Executables.temporaryFolder() }

    override func tearDownWithError() throws { if let folder { try? FileManager.default.removeItem(atPath: folder) } }

    /// Writes `folder/shards` (or skips the test without the writer's Python packages).
    private func writeShards() throws {
        let check = "import h5py, hdf5plugin, numpy, google.protobuf\ntry:\n    import crc32c\nexcept ImportError:\n    import google_crc32c"
        if try python(["-c", check]).status != 0 {
            _ = try? python(["-m", "pip", "install", "-q", "--disable-pip-version-check", "--root-user-action=ignore",
                             "h5py", "hdf5plugin", "numpy", "protobuf", "crc32c"])
            if try python(["-c", check]).status != 0 {
                let reason = "python3 with the PyPI packages h5py, hdf5plugin, numpy, protobuf and crc32c is needed to write TFRecord shards"
                if ProcessInfo.processInfo.environment["GCML_REQUIRE_PYTHON"] != nil { XCTFail(reason) }
                throw XCTSkip(reason)
            }
        }
        // The tiny corpus at YouTube-8M's sizes, then its shards; the corpus itself is removed.
        try Executables.succeed("gcml-synth", ["--profile", "tiny", "--visual-dim", "1024", "--audio-dim", "128",
                                               "--quantize", "uint8", "--seed", "3", "--out", folder + "/corpus"])
        let script = Executables.repository + "/tests/fixtures/corpus_to_tfrecords.py"
        let written = try python([script, folder + "/corpus/frames.h5", folder + "/corpus/sessions.tsv", folder + "/shards",
                                  "--shards", "4", "--video-level", "--pairs"])
        XCTAssertEqual(written.status, 0, written.stderr)
        try FileManager.default.removeItem(atPath: folder + "/corpus")
    }

    // MARK: helpers

    private func python(_ arguments: [String]) throws -> Executables.Result { try Executables.shell("python3", arguments) }

    /// The yt8m pipeline with small counts (the corpus has 2 000 videos and 100 classes).
    private func make(_ arguments: [String]) throws -> Executables.Result {
        try Executables.shell("make", ["--no-print-directory", "PIPELINE=yt8m", "DATA=\(folder!)/shards", "YT8M_CLASSES=100", "TRIPLET_COUNT=20000",
                         "TRAIN_ARGS=--hidden 128 --audio-hidden 32 --dim 32 --batch-size 64 --steps 300 --validate-every 50 --log-every 25",
                         "CLASSIFY_ARGS=--hidden 128 --audio-hidden 32 --dim 32 --batch-size 128 --steps 300 --sampled 64 --validate-every 50 --log-every 25"]
                    + Executables.programOverrides() + arguments)
    }

    private func expected() throws -> Expected {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/shards/expected.json"))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let videos = try XCTUnwrap(json["videos"] as? [[String: Any]])
        var result = Expected(numClasses: try XCTUnwrap(json["num_classes"] as? Int), ids: [], labels: [:], frames: [:])
        for video in videos {
            let id = try XCTUnwrap(video["id"] as? String)
            result.ids.append(id)
            result.labels[id] = Set(try XCTUnwrap(video["labels"] as? [Int]).map(Int32.init))
            result.frames[id] = Int32(try XCTUnwrap(video["frames"] as? Int))
        }
        return result
    }

    private func report(_ run: String) throws -> [String: [String: Any]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: run + "/report.json"))
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let methods = try XCTUnwrap(json["methods"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: methods.map { ($0["name"] as? String ?? "", $0) })
    }

    private func metric(_ methods: [String: [String: Any]], _ method: String, _ section: String, _ name: String) throws -> Double {
        let values = try XCTUnwrap(methods[method]?[section] as? [String: Any], "\(method) has no \(section)")
        return try XCTUnwrap(values[name] as? Double, "\(method) \(section) has no \(name)")
    }

    /// Expected AP of a uniformly random ranking of n candidates, r of them relevant:
    /// (1/n)·((r−1)/(n−1)·(n − H_n) + H_n), H_n the n-th harmonic number.
    static func randomRankingAP(n: Int, r: Int) -> Double {
        guard n > 1 else { return 1 }
        let h = (1...n).reduce(0.0) { $0 + 1 / Double($1) }
        return (Double(r - 1) / Double(n - 1) * (Double(n) - h) + h) / Double(n)
    }

    /// MAP a random ranking would get on the candidate lists stored in `retrieval` (the chance level).
    private func chanceMAP(_ retrieval: String) throws -> Double {
        let file = try HDF5File.open(retrieval)
        defer { try? file.close() }
        let indptr = try file.root.read(DatasetPath.Retrieval.candidatesIndptr, as: Int64.self)
        let relevance = try file.root.read(DatasetPath.Retrieval.candidatesRelevance, as: Float.self)
        var total = 0.0
        for q in 0..<(indptr.count - 1) {
            let list = relevance[Int(indptr[q])..<Int(indptr[q + 1])]
            total += Self.randomRankingAP(n: list.count, r: list.filter { $0 > 0 }.count)
        }
        return total / Double(indptr.count - 1)
    }

    /// ids, per-video labels and frame counts of features.h5 against the writer's.
    private func checkFeatures(_ path: String, _ expected: Expected, frameCounts: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        let features = try Artifact.open(path, as: .features)
        defer { try? features.close() }
        let ids = try features.root.readStrings(DatasetPath.videoID)
        XCTAssertEqual(ids, expected.ids, "video ids in shard order", file: file, line: line)
        XCTAssertEqual(try features.root.group("labels").intAttribute("num_classes"), Int64(expected.numClasses), file: file, line: line)
        let indptr = try features.root.read(DatasetPath.Labels.indptr, as: Int64.self)
        let indices = try features.root.read(DatasetPath.Labels.indices, as: Int32.self)
        XCTAssertEqual(indptr.count, ids.count + 1, file: file, line: line)
        var mismatched: [String] = []
        for (row, id) in ids.enumerated() where row + 1 < indptr.count {
            if Set(indices[Int(indptr[row])..<Int(indptr[row + 1])]) != expected.labels[id] { mismatched.append(id) }
        }
        XCTAssertEqual(mismatched, [], "videos whose labels differ from the writer's", file: file, line: line)
        if frameCounts {
            let counts = try features.root.read(DatasetPath.Features.frameCount, as: Int32.self)
            XCTAssertEqual(counts, ids.map { expected.frames[$0] ?? -1 }, "frame counts", file: file, line: line)
        }
    }

    /// Retrieval and annotation well above chance: the structure of the corpus came through the shards.
    private func checkLearned(_ run: String, _ expected: Expected, file: StaticString = #filePath, line: UInt = #line) throws {
        let methods = try report(run)
        XCTAssertEqual(Set(methods.keys), ["gcml", "cdml", "cluster", "raw"], file: file, line: line)
        let gcml = try metric(methods, "gcml", "retrieval", "map"), raw = try metric(methods, "raw", "retrieval", "map")
        let chance = try chanceMAP(run + "/gcml/retrieval.h5")
        // ~1 900 queries: a MAP's standard error is about 0.005, so these margins are tens of standard errors.
        XCTAssertGreaterThan(gcml, chance + 0.3, "GCML retrieval MAP vs a random ranking", file: file, line: line)
        XCTAssertGreaterThan(gcml, raw + 0.08, "GCML retrieval MAP vs the raw features", file: file, line: line)
        XCTAssertGreaterThan(try metric(methods, "gcml", "retrieval_full_corpus", "map"),
                             try metric(methods, "raw", "retrieval_full_corpus", "map") + 0.04, "full-corpus MAP", file: file, line: line)
        // Annotation: the best constant guess (the most common label) is right for this share of videos.
        var videosWith: [Int32: Int] = [:]
        for labels in expected.labels.values { for label in labels { videosWith[label, default: 0] += 1 } }
        let constant = Double(videosWith.values.max() ?? 0) / Double(expected.ids.count)
        for method in ["gcml", "raw"] {
            XCTAssertGreaterThan(try metric(methods, method, "annotation", "hit_at_1"), constant + 0.3,
                                 "\(method) Hit@1 vs always guessing the most common label", file: file, line: line)
        }
    }

    // MARK: tests

    func testChanceAPFormulaAgainstEveryRanking() {
        // Brute force over all orderings of n candidates with r relevant (as positions of the relevant ones).
        func positions(_ n: Int, _ r: Int, _ start: Int = 0) -> [[Int]] {
            if r == 0 { return [[]] }
            return (start..<n).flatMap { p in positions(n, r - 1, p + 1).map { [p] + $0 } }
        }
        for n in 1...7 {
            for r in 1...n {
                let all = positions(n, r)
                let mean = all.map { ranks in
                    ranks.enumerated().reduce(0.0) { $0 + Double($1.offset + 1) / Double($1.element + 1) } / Double(r)
                }.reduce(0, +) / Double(all.count)
                XCTAssertEqual(Self.randomRankingAP(n: n, r: r), mean, accuracy: 1e-12, "n \(n), r \(r)")
            }
        }
    }

    func testFrameLevelShardsAndSessionsThroughMakeAll() throws {
        try writeShards()
        let run = folder + "/run"
        let first = try make(["RUN=\(run)", "PCA_ARGS=--dim 64", "all"])
        XCTAssertEqual(first.status, 0, "make all failed:\n\(first.stdout.suffix(3000))\n\(first.stderr.suffix(3000))")
        guard first.status == 0 else { return }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/shards/frames.h5"))
        XCTAssertTrue(first.stdout.contains("extract-pca --tfrecord '\(folder!)/shards/frame/train*.tfrecord' --layout frame --num-classes 100"),
                      first.stdout)
        XCTAssertTrue(first.stdout.contains("--sessions \(folder!)/shards/sessions.tsv"))
        let report = try String(contentsOfFile: run + "/report.md", encoding: .utf8)
        for method in ["GCML", "CDML", "Cluster", "Raw"] { XCTAssertTrue(report.contains(method), "report lacks \(method)") }
        for artifact in ["features.h5", "pca.h5", "graph.h5", "tree.h5", "gcml/embeddings.h5", "gcml/retrieval.h5", "raw/annotation.h5"] {
            XCTAssertEqual(try Executables.run("gcml-check", ["--quiet", "\(run)/\(artifact)"]).status, 0, artifact)
        }

        let expected = try expected()
        try checkFeatures(run + "/features.h5", expected, frameCounts: true)
        let features = try Artifact.open(run + "/features.h5", as: .features)
        XCTAssertEqual(try features.root.dataset(DatasetPath.visual).shape, [expected.ids.count, 64])
        XCTAssertEqual(try features.root.dataset(DatasetPath.audio).shape, [expected.ids.count, 128])
        let inputs = try XCTUnwrap(try features.root.stringAttribute("inputs"))
        try features.close()
        let shards = (0..<4).map { "\(folder!)/shards/frame/train000\($0).tfrecord" }
        for shard in shards { XCTAssertTrue(inputs.contains("\"\(shard)\""), "provenance lacks \(shard): \(inputs)") }
        try checkLearned(run, expected)

        // Up to date; a changed shard makes the features (and so everything after them) out of date.
        XCTAssertEqual(try make(["RUN=\(run)", "PCA_ARGS=--dim 64", "-q", "all"]).status, 0, "a second make all has work to do")
        Thread.sleep(forTimeInterval: 1.1)
        XCTAssertEqual(try Executables.shell("touch", [shards[2]]).status, 0)
        XCTAssertNotEqual(try make(["RUN=\(run)", "PCA_ARGS=--dim 64", "-q", "all"]).status, 0, "a changed shard left make all up to date")
        let plan = try make(["RUN=\(run)", "PCA_ARGS=--dim 64", "-n", "features"]).stdout
        XCTAssertTrue(plan.contains("extract-pca --tfrecord"), "extract-pca should rerun:\n\(plan)")
    }

    func testVideoLevelShardsAndPairsThroughMakeAll() throws {
        try writeShards()
        let run = folder + "/run-video"
        let result = try make(["RUN=\(run)", "YT8M_LEVEL=video", "PAIRS=\(folder!)/shards/pairs.tsv", "all"])
        XCTAssertEqual(result.status, 0, "make all failed:\n\(result.stdout.suffix(3000))\n\(result.stderr.suffix(3000))")
        guard result.status == 0 else { return }
        XCTAssertTrue(result.stdout.contains("extract-pca --tfrecord '\(folder!)/shards/video/train*.tfrecord' --layout video"), result.stdout)
        XCTAssertTrue(result.stdout.contains("--pairs \(folder!)/shards/pairs.tsv"), result.stdout)
        XCTAssertFalse(result.stdout.contains("--save-pca"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/pca.h5"))
        let expected = try expected()
        try checkFeatures(run + "/features.h5", expected, frameCounts: false)
        let features = try Artifact.open(run + "/features.h5", as: .features)
        XCTAssertEqual(try features.root.dataset(DatasetPath.visual).shape, [expected.ids.count, 1024])   // mean_rgb as it is
        try features.close()
        try checkLearned(run, expected)
        XCTAssertEqual(try make(["RUN=\(run)", "YT8M_LEVEL=video", "PAIRS=\(folder!)/shards/pairs.tsv", "-q", "all"]).status, 0,
                       "a second make all has work to do")
    }
}
