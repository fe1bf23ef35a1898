import Artifacts
import Foundation
import Support
import XCTest

/// build-graph under 3 ranks (mpirun) against one process on inputs whose byte ranges cut
/// awkwardly: every dataset of graph.h5 must be equal, value for value and type for type.
final class DistributedGraphTests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws { folder = try Executables.temporaryFolder() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    /// features.h5 of `videos` videos ("v0"…) with 6-d visual features in three loose directions.
    func writeFeatures(videos: Int) throws -> String {
        let path = folder + "/features.h5"
        var random = SeededGenerator(seed: 3)
        try Artifact.write(path, schema: .features, createdBy: "test") { file in
            try file.root.write("video_id", strings: (0..<videos).map { "v\($0)" })
            let visual = (0..<(videos * 6)).map { i -> Float in (i / 6) % 3 == (i % 6) / 2 ? 1 + Float(random.normal()) * 0.3 : Float(random.normal()) * 0.3 }
            try file.root.write("visual", visual, shape: [videos, 6])
            try file.root.write("frame_count", [Int32](repeating: 1, count: videos))
        }
        return path
    }

    /// Sessions with what byte ranges must survive: CRLF and LF, comments, blank and malformed lines,
    /// malformed lines (skipped), unknown ids, re-watches, a session id met again later, one line longer than a third of the
    /// file (so a rank's share holds no line start), no final newline.
    func sessionText(videos: Int, sessions: Int, seed: UInt64) -> String {
        var random = SeededGenerator(seed: seed)
        var lines: [String] = ["# sessions"]
        for s in 0..<sessions {
            let id = random.below(10) == 0 ? "s\(max(0, s - 3))" : "s\(s)"
            var last = random.below(videos)
            for _ in 0..<(1 + random.below(9)) {
                let video = random.below(4) == 0 ? last : (last + 1 + random.below(12)) % videos
                last = video
                lines.append("\(id)\t\(random.below(25) == 0 ? "unknown\(video)" : "v\(video)")\t\(s)")
            }
            if s % 17 == 0 { lines.append("") }
            if s % 23 == 0 { lines.append("broken line \(s)") }
            if s == sessions / 2 { lines.append("\(id)\tv\(last)\t" + String(repeating: "9", count: sessions * 40)) }
        }
        var text = ""
        for (n, line) in lines.enumerated() { text += line + (n % 3 == 0 ? "\r\n" : "\n") }
        return String(text.dropLast(2))
    }

    func write(_ text: String, _ name: String) throws -> String {
        let path = folder + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Every dataset of two graph files, equal in type, shape and every value; `ranks` as given.
    func assertSameDatasets(_ one: String, _ many: String, ranks: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let a = try Artifact.open(one, as: .graph), b = try Artifact.open(many, as: .graph)
        defer { try? a.close(); try? b.close() }
        let paths = try a.root.datasetPaths().sorted()
        XCTAssertEqual(paths, try b.root.datasetPaths().sorted(), file: file, line: line)
        XCTAssertEqual(paths.count, 8, file: file, line: line)
        for path in paths {
            let x = try a.root.dataset(path), y = try b.root.dataset(path)
            XCTAssertEqual(x.elementType, y.elementType, path, file: file, line: line)
            XCTAssertEqual(x.shape, y.shape, path, file: file, line: line)
            switch x.elementType {
            case .string: XCTAssertEqual(try x.readStrings(), try y.readStrings(), path, file: file, line: line)
            case .int32: XCTAssertEqual(try x.read() as [Int32], try y.read() as [Int32], path, file: file, line: line)
            case .int64: XCTAssertEqual(try x.read() as [Int64], try y.read() as [Int64], path, file: file, line: line)
            case .float32:
                // Bit patterns: equal floats are not enough.
                XCTAssertEqual((try x.read() as [Float]).map(\.bitPattern), (try y.read() as [Float]).map(\.bitPattern), path, file: file, line: line)
            default: XCTFail("\(path): unexpected type \(x.elementType)", file: file, line: line)
            }
        }
        for name in GraphStatisticsNames.all {
            XCTAssertEqual(try a.root.attribute(name)?.description, try b.root.attribute(name)?.description, name, file: file, line: line)
        }
        XCTAssertEqual(try a.root.intAttribute("ranks"), 1, file: file, line: line)
        XCTAssertEqual(try b.root.intAttribute("ranks"), Int64(ranks), file: file, line: line)
        XCTAssertGreaterThan(try a.root.dataset("train/indices").rows, 0, file: file, line: line)
    }

    /// Runs build-graph as one process and on 3 ranks with the same options; compares the outputs.
    func compare(_ name: String, _ arguments: [String], features: String) throws {
        let args = ["--features", features, "--threads", "1", "--skip-malformed"] + arguments
        try Executables.succeed("build-graph", args + ["--out", folder + "/\(name)-one.h5"])
        let three = try Launch.run(Launch.mpirun(3, "build-graph", args + ["--out", folder + "/\(name)-three.h5"]))
        XCTAssertEqual(three.status, 0, "\(name): \(three.stderr)")
        // One summary (rank 0's); every rank reports what it sent.
        XCTAssertEqual(three.stdout.components(separatedBy: "largest_component").count, 2, three.stdout)
        XCTAssertEqual(three.stderr.components(separatedBy: "bytes to other ranks").count, 4, three.stderr)
        if arguments.contains("--sessions") {
            // Small inputs fit one block of the default budget: one round on every rank.
            XCTAssertEqual(three.stderr.components(separatedBy: "in 1 round(s)").count, 4, three.stderr)
        }
        try assertSameDatasets(folder + "/\(name)-one.h5", folder + "/\(name)-three.h5", ranks: 3)
        let parts = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains(".part-") }
        XCTAssertEqual(parts, [], "parts left behind")
    }

    func testSessionsWithAwkwardByteRangesGiveTheOneProcessGraph() throws {
        let features = try writeFeatures(videos: 120)
        let sessions = try write(sessionText(videos: 120, sessions: 150, seed: 1), "sessions.tsv")
        try compare("sessions", ["--sessions", sessions, "--window", "3", "--holdout-edges", "0.2", "--holdout-nodes", "0.1"], features: features)
        try compare("pruned", ["--sessions", sessions, "--top-edges", "2", "--weighting", "pmi", "--holdout-edges", "0.3"], features: features)
    }

    /// The rounds each rank reports sending session counts in (one number per rank, in stderr order).
    func rounds(_ stderr: String) -> [Int] {
        stderr.split(separator: "\n").compactMap { line -> Int? in
            guard let end = line.range(of: " round(s)") else { return nil }
            return Int(line[..<end.lowerBound].split(separator: " ").last ?? "")
        }
    }

    func testSessionCountsSentInManySmallRoundsGiveTheOneProcessGraph() throws {
        let features = try writeFeatures(videos: 120)
        let first = try write(sessionText(videos: 120, sessions: 150, seed: 5), "a.tsv")
        let second = try write(sessionText(videos: 120, sessions: 60, seed: 6), "b.tsv")
        let args = ["--features", features, "--threads", "1", "--skip-malformed", "--sessions", "\(first),\(second)", "--window", "4",
                    "--holdout-edges", "0.2"]
        try Executables.succeed("build-graph", args + ["--out", folder + "/one.h5"])
        for ranks in 1...3 {
            let out = folder + "/ranks-\(ranks).h5"
            // A block of 7 adds (the hidden test knob): each rank's share of about a thousand pair adds takes many rounds,
            // and ranks whose share ends first send empty rounds until all are done.
            let run = try Launch.run(Launch.mpirun(ranks, "build-graph", args + ["--exchange-block", "7", "--out", out]))
            XCTAssertEqual(run.status, 0, "\(ranks) rank(s): \(run.stderr)")
            try assertSameDatasets(folder + "/one.h5", out, ranks: ranks)
            guard ranks > 1 else { continue }
            let counts = rounds(run.stderr)
            XCTAssertEqual(counts.count, ranks, run.stderr)
            XCTAssertEqual(Set(counts).count, 1, "every rank takes part in every round: \(counts)")
            XCTAssertGreaterThan(counts.first ?? 0, 10, run.stderr)
        }
    }

    func testSeveralFilesWithGzipGiveTheOneProcessGraph() throws {
        let features = try writeFeatures(videos: 120)
        let first = try write(sessionText(videos: 120, sessions: 80, seed: 2), "a.tsv")
        let second = try write(sessionText(videos: 120, sessions: 90, seed: 3), "b.tsv")
        let third = try write(sessionText(videos: 120, sessions: 70, seed: 4), "c.tsv")
        XCTAssertEqual(try Executables.shell("gzip", ["-f", second]).status, 0)
        try compare("files", ["--sessions", "\(first),\(folder!)/b.tsv.gz,\(third)", "--weighting", "log1p", "--holdout-edges", "0.25"],
                    features: features)
        try compare("glob", ["--sessions", folder + "/[ab].tsv*"], features: features)
    }

    func testPairsWithFractionalWeightsAndKNNGiveTheOneProcessGraph() throws {
        let features = try writeFeatures(videos: 120)
        var random = SeededGenerator(seed: 9)
        // Repeated pairs in both directions with fractional weights: sums depend on the order of the adds.
        var lines = (0..<900).map { _ in "v\(random.below(60))\tv\(random.below(60))\t\(Double(random.below(1000)) / 7)" }
        lines += ["v1\tunknown", "v2\tv2", "v3\tv4"]
        let pairs = try write(lines.joined(separator: "\r\n"), "pairs.tsv")
        try compare("pairs", ["--pairs", pairs, "--min-weight", "20", "--holdout-edges", "0.2"], features: features)
        try compare("pairs-top", ["--pairs", pairs, "--top-edges", "3"], features: features)
        try compare("knn", ["--knn", "4", "--holdout-edges", "0.1"], features: features)
    }

    /// The id map partitioned over the ranks (forced at this size): every rank indexes only the ids
    /// it owns and asks the owners for the rows of each batch's ids. Unknown ids, gzip, several files,
    /// fractional pair weights, and batches of 7 lines (many request rounds, ranks finishing apart).
    func testPartitionedIDMapGivesTheOneProcessGraph() throws {
        let features = try writeFeatures(videos: 120)
        let sessions = try write(sessionText(videos: 120, sessions: 150, seed: 7), "sessions.tsv")
        let second = try write(sessionText(videos: 120, sessions: 90, seed: 8), "b.tsv")
        XCTAssertEqual(try Executables.shell("gzip", ["-f", second]).status, 0)
        try compare("partitioned", ["--sessions", sessions, "--id-map", "partitioned", "--window", "3", "--holdout-edges", "0.2",
                                    "--top-edges", "3"], features: features)
        var random = SeededGenerator(seed: 4)
        var lines = (0..<600).map { _ in "v\(random.below(80))\tv\(random.below(80))\t\(Double(random.below(1000)) / 7)" }
        lines += ["v1\tunknown", "unknown2\tv5", "v2\tv2", "v3\tv4"]
        let pairs = try write(lines.joined(separator: "\n"), "pairs.tsv")
        let args = ["--features", features, "--threads", "1", "--skip-malformed", "--id-map", "partitioned", "--holdout-edges", "0.2"]
        for (name, input) in [("sessions-gzip", ["--sessions", "\(sessions),\(folder!)/b.tsv.gz", "--weighting", "pmi"]), ("pairs", ["--pairs", pairs])] {
            try Executables.succeed("build-graph", args + input + ["--out", folder + "/\(name)-one.h5"])
            let run = try Launch.run(Launch.mpirun(3, "build-graph", args + input + ["--exchange-block", "7", "--out", folder + "/\(name)-three.h5"]))
            XCTAssertEqual(run.status, 0, "\(name): \(run.stderr)")
            try assertSameDatasets(folder + "/\(name)-one.h5", folder + "/\(name)-three.h5", ranks: 3)
            let one = try Artifact.open(folder + "/\(name)-one.h5", as: .graph)
            defer { try? one.close() }
            XCTAssertGreaterThan(try one.root.intAttribute("ids_unmapped") ?? 0, 0, name)
        }
    }

    func testAKilledRankPublishesNothingAndLeavesTheGraphAsItWas() throws {
        let features = try writeFeatures(videos: 2000)
        let out = folder + "/graph.h5"
        let small = try write("s1\tv1\ns1\tv2\n", "small.tsv")
        try Executables.succeed("build-graph", ["--features", features, "--sessions", small, "--out", out, "--holdout-nodes", "0"])
        // Enough sessions that the ranks are still reading when they are stopped.
        var text = ""
        text.reserveCapacity(60_000_000)
        for s in 0..<600_000 { for j in 0..<6 { text += "s\(s)\tv\((s * 7 + j * 13) % 2000)\n" } }
        let big = try write(text, "big.tsv")
        text = ""
        try Launch.killRankOneExpectingNothingPublished("build-graph", ["--features", features, "--sessions", big, "--out", out,
                                                                        "--threads", "1"], out: out)
        let parts = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains(".part-") }
        XCTAssertEqual(parts, [], "parts of a run that published nothing")
    }
}

/// The statistics build-graph stamps on graph.h5 (docs/build-graph.md).
enum GraphStatisticsNames {
    static let all = ["nodes", "edges", "heldout_edges", "heldout_node_count", "isolated_nodes", "degree_min", "degree_median",
                      "degree_max", "components", "largest_component", "ids_unmapped", "malformed_lines"]
}
