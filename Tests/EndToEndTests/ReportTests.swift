import Artifacts
import Contracts
import Foundation
import XCTest

/// gcml-report on a hand-made run folder: small artifacts written with the Artifacts API.
final class ReportTests: XCTestCase {
    func writeRetrieval(_ path: String, map: Double, ndcg: Double, eligibleQueries: Int? = nil) throws {
        try Artifact.write(path, schema: .retrieval, createdBy: "test") { file in
            let root = file.root
            try root.write(DatasetPath.Retrieval.query, [Int32(0), 1])
            try root.write(DatasetPath.Retrieval.candidatesIndptr, [Int64(0), 2, 3])
            try root.write(DatasetPath.Retrieval.candidatesIndex, [Int32(1), 2, 0])
            try root.write(DatasetPath.Retrieval.candidatesScore, [Float(0.9), 0.5, 0.7])
            try root.write(DatasetPath.Retrieval.candidatesRelevance, [Float(1), 0, 1])
            try root.write(DatasetPath.Retrieval.ap, [1.0, 1.0])
            try root.write(DatasetPath.Retrieval.ndcg, [1.0, 1.0])
            try root.setAttribute("map", .double(map))
            try root.setAttribute("ndcg_at_k", .double(ndcg))
            try root.setAttribute("k", .int(60))
            if let eligibleQueries { try root.setAttribute("eligible_queries", .int(Int64(eligibleQueries))) }
        }
    }

    func writeAnnotation(_ path: String, gap: Double, map: Double, hit1: Double, hit5: Double) throws {
        try Artifact.write(path, schema: .annotation, createdBy: "test") { file in
            let root = file.root
            try root.write(DatasetPath.Annotation.testRows, [Int32(0), 1])
            try root.write(DatasetPath.Annotation.topClass, [Int32](repeating: 0, count: 40), shape: [2, 20])
            try root.write(DatasetPath.Annotation.topScore, [Float](repeating: 0.5, count: 40), shape: [2, 20])
            for (name, value) in [("gap", gap), ("map", map), ("hit_at_1", hit1), ("hit_at_5", hit5), ("perr", 0.5)] {
                try root.setAttribute(name, .double(value))
            }
        }
    }

    func writeModel(_ path: String, steps: [Int64], loss: [Double], validation: (steps: [Int64], map: [Double])?,
                    wallSeconds: Double?, fullCorpus: [Double]? = nil, mining: (chosen: [Double], active: [Double], distance: [Double])? = nil) throws {
        try Artifact.write(path, schema: .model, createdBy: "test") { file in
            let root = file.root
            try root.write("layer1/weight", [Float](repeating: 0.1, count: 6), shape: [2, 3])
            try root.write("layer1/bias", [Float](repeating: 0, count: 2))
            try root.write(DatasetPath.Model.historyStep, steps)
            try root.write(DatasetPath.Model.historyLoss, loss)
            if let validation {
                try root.write(DatasetPath.Model.historyValidationStep, validation.steps)
                try root.write(DatasetPath.Model.historyValidationMAP, validation.map)
            }
            if let fullCorpus { try root.write(DatasetPath.Model.historyValidationMAPFullCorpus, fullCorpus) }
            if let mining {
                try root.write(DatasetPath.Model.historyPresampledNegativeChosen, mining.chosen)
                try root.write(DatasetPath.Model.historyActiveFraction, mining.active)
                try root.write(DatasetPath.Model.historyAnchorNegativeDistance, mining.distance)
            }
            try root.setAttribute("steps", .int(steps.last ?? 0))
            if let wallSeconds { try root.setAttribute("wall_seconds", .double(wallSeconds)) }
        }
    }

    func writeTreeAndTruth(_ folder: String) throws {
        let tree = ClusterTree(levels: [ClusterLevel(assignment: [0, 0, 1, 1, 2, 2, 3, 3], size: [2, 2, 2, 2], parent: [0, 0, 1, 1]),
                                        ClusterLevel(assignment: [0, 0, 0, 0, 1, 1, 1, 1], size: [4, 4], parent: nil)])
        try Artifact.write(folder + "/tree.h5", schema: .tree, createdBy: "test") { try tree.write(to: $0) }
        try Artifact.write(folder + "/truth.h5", schema: .truth, createdBy: "test") { file in
            let root = file.root
            try root.write(DatasetPath.videoID, strings: (0..<8).map { "v\($0)" })
            try root.write(DatasetPath.Truth.genre, [Int32(0), 0, 0, 0, 1, 1, 1, 1])
            try root.write(DatasetPath.Truth.subgenre, [Int32(0), 0, 1, 1, 2, 2, 3, 3])
            try root.write(DatasetPath.Truth.topic, [Int32(0), 0, 1, 1, 2, 3, 3, 3])
        }
    }

    /// A run with every piece for gcml, partial results for the others.
    func makeRun() throws -> String {
        let run = try Executables.temporaryFolder()
        try writeRetrieval(run + "/gcml/retrieval.h5", map: 0.4123, ndcg: 0.5321)
        try writeRetrieval(run + "/gcml/retrieval-all.h5", map: 0.2468, ndcg: 0.3579, eligibleQueries: 9)
        try writeAnnotation(run + "/gcml/annotation.h5", gap: 0.7012, map: 0.6034, hit1: 0.8056, hit5: 0.9078)
        try writeModel(run + "/gcml/model.h5", steps: [0, 100, 200, 300], loss: [0.9, 0.5, 0.3, 0.2],
                       validation: ([100, 200, 300], [0.20, 0.40, 0.41]), wallSeconds: 12.5, fullCorpus: [0.05, 0.10, 0.12],
                       mining: ([1, 0.5, 0.25, 0.125], [1, 0.8, 0.6, 0.4], [1.2, 1.0, 0.9, 0.8]))
        try writeRetrieval(run + "/cdml/retrieval.h5", map: 0.3723, ndcg: 0.4444)
        try writeModel(run + "/cdml/model.h5", steps: [0, 100, 200, 300], loss: [0.9, 0.7, 0.6, 0.5],
                       validation: ([100, 200, 300], [0.10, 0.20, 0.40]), wallSeconds: nil, fullCorpus: [0.05, 0.10, 0.12])
        try writeModel(run + "/cluster/model.h5", steps: [0, 150], loss: [4.0, 3.0], validation: nil, wallSeconds: 3)
        try writeRetrieval(run + "/raw/retrieval.h5", map: 0.3111, ndcg: 0.4000)
        try writeAnnotation(run + "/raw/annotation.h5", gap: 0.5011, map: 0.4022, hit1: 0.6033, hit5: 0.7044)
        try writeTreeAndTruth(run)
        return run
    }

    func row(_ report: String, _ label: String) -> [String] {
        guard let line = report.split(separator: "\n").first(where: { $0.hasPrefix("| \(label) |") }) else { return [] }
        return line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func testReportShowsTheTableLearningSpeedTreeAndCharts() throws {
        let run = try makeRun()
        defer { try? FileManager.default.removeItem(atPath: run) }
        try Executables.succeed("gcml-report", ["--run-dir", run, "--out", run + "/report.md", "--title", "Tiny run"])
        let report = try String(contentsOfFile: run + "/report.md", encoding: .utf8)
        XCTAssertTrue(report.hasPrefix("# Tiny run\n"))
        XCTAssertTrue(report.contains("NDCG@60"))
        XCTAssertEqual(row(report, "GCML (smart triplets)"),
                       ["GCML (smart triplets)", "0.4123", "0.5321", "0.2468", "0.3579", "0.7012", "0.6034", "0.8056", "0.9078", "300", "12.5 s"])
        XCTAssertEqual(row(report, "CDML (random triplets)"),
                       ["CDML (random triplets)", "0.3723", "0.4444", "—", "—", "—", "—", "—", "—", "300", "—"])
        XCTAssertEqual(row(report, "Cluster classification"),
                       ["Cluster classification", "—", "—", "—", "—", "—", "—", "—", "—", "150", "3.0 s"])
        XCTAssertEqual(row(report, "Raw features (untrained)"),
                       ["Raw features (untrained)", "0.3111", "0.4000", "—", "—", "0.5011", "0.4022", "0.6033", "0.7044", "—", "—"])

        // Query counts, and that the full-corpus evaluation was a sample (--max-queries) of 9 eligible queries.
        XCTAssertTrue(report.contains("Queries per retrieval evaluation — sampled candidates: 2 queries; full corpus: 2 of 9 queries (a seeded uniform sample of the eligible queries)."), report)

        // Learning speed, sampled candidates: target 0.95 × max(0.41, 0.40) = 0.3895; GCML first at or above it
        // at step 200, CDML at 300 → 1.5×. Full corpus: identical curves → no speed-up.
        let speed = report.components(separatedBy: "## Learning speed")[1].components(separatedBy: "## Mining statistics")[0]
        let sampled = speed.components(separatedBy: "### ")[1], full = speed.components(separatedBy: "### ")[2]
        XCTAssertTrue(sampled.contains("= 0.3895"), sampled)
        XCTAssertEqual(row(sampled, "GCML (smart triplets)"), ["GCML (smart triplets)", "0.4100", "300", "200"])
        XCTAssertEqual(row(sampled, "CDML (random triplets)"), ["CDML (random triplets)", "0.4000", "300", "300"])
        XCTAssertEqual(row(sampled, "Cluster classification"), ["Cluster classification", "—", "—", "—"])
        XCTAssertTrue(sampled.contains("1.5× fewer steps"), sampled)
        XCTAssertTrue(full.contains("no speed-up"), full)
        XCTAssertFalse(full.contains("×"), full)
        // Mining statistics: last window and mean of the logged windows.
        let mining = report.components(separatedBy: "## Mining statistics")[1]
        XCTAssertEqual(row(mining, "GCML (smart triplets)"),
                       ["GCML (smart triplets)", "12.5 %", "46.9 %", "40.0 %", "70.0 %", "0.8000", "0.9750"])

        // Tree: level 1 equals subgenre (NMI 1), level 2 equals genre.
        let tree = report.components(separatedBy: "## Cluster tree")[1]
        let level1 = row(tree, "1"), level2 = row(tree, "2")
        XCTAssertEqual(Array(level1.prefix(5)), ["1", "4", "2", "2", "2"])
        XCTAssertEqual(level1[6], "1.000", "NMI subgenre at level 1")
        XCTAssertEqual(Array(level2.prefix(5)), ["2", "2", "4", "4", "4"])
        XCTAssertEqual(level2[7], "1.000", "NMI genre at level 2")
        XCTAssertEqual(level2[10], "1.000", "ARI genre at level 2")

        // The summary is written from the numbers.
        XCTAssertTrue(report.contains("GCML (smart triplets) has the best retrieval MAP, 0.4123: +0.1012 (+32.5 %) over Raw features (untrained) (0.3111) and +0.0400 (+10.7 %) over CDML"), report)
        XCTAssertTrue(report.contains("GCML (smart triplets) needed 1.5× fewer steps than CDML (random triplets)"), report)

        for image in ["learning_curves.svg", "learning_curves_full_corpus.svg", "training_loss.svg", "level_sizes.svg", "mining.svg"] {
            XCTAssertTrue(report.contains("](\(image))"), image)
            let svg = try String(contentsOfFile: run + "/" + image, encoding: .utf8)
            let parsed = SVGCollector.parse(svg)
            let polylines = parsed.elements.filter { $0.name == "polyline" }.count
            switch image {
            case "learning_curves.svg", "learning_curves_full_corpus.svg": XCTAssertEqual(polylines, 2, "gcml and cdml have validation curves")
            case "mining.svg": XCTAssertEqual(polylines, 1, "only gcml logged mining statistics")
            case "training_loss.svg": XCTAssertEqual(polylines, 3, "one per trained method")
            default: XCTAssertEqual(polylines, 0)
            }
        }

        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/report.json"))) as? [String: Any]
        let methods = json?["methods"] as? [[String: Any]] ?? []
        XCTAssertEqual(methods.map { $0["name"] as? String }, ["gcml", "cdml", "cluster", "raw"])
        XCTAssertEqual((methods.first?["retrieval"] as? [String: Any])?["map"] as? Double, 0.4123)
        XCTAssertTrue(methods[1]["annotation"] is NSNull)
        XCTAssertEqual((methods[0]["training"] as? [String: Any])?["steps_to_target"] as? Int, 200)
        let learning = (json?["learning_speed"] as? [String: Any])?["sampled"] as? [String: Any]
        XCTAssertEqual(learning?["speed_up"] as? Double ?? 0, 1.5, accuracy: 1e-12)
        XCTAssertEqual(learning?["contender_steps"] as? Int, 200)
        XCTAssertEqual(learning?["baseline_steps"] as? Int, 300)
        XCTAssertEqual((json?["tree"] as? [[String: Any]])?.count, 2)
    }

    func testEmptyRunGivesDashesWithoutFailing() throws {
        let run = try Executables.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: run) }
        try Executables.succeed("gcml-report", ["--run-dir", run])
        let report = try String(contentsOfFile: run + "/report.md", encoding: .utf8)
        XCTAssertEqual(row(report, "GCML (smart triplets)"), ["GCML (smart triplets)"] + [String](repeating: "—", count: 10))
        XCTAssertTrue(report.contains("No tree.h5"))
        XCTAssertFalse(report.contains(".svg)"), "no charts without data")
        XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/report.json"))
    }

    func testExplicitMethodsAndAnInvalidFileIsAnError() throws {
        let run = try makeRun()
        defer { try? FileManager.default.removeItem(atPath: run) }
        try Executables.succeed("gcml-report", ["--run-dir", run, "--out", run + "/two.md", "--method", "mine=\(run)/gcml", "--method", "cdml=\(run)/cdml"])
        let report = try String(contentsOfFile: run + "/two.md", encoding: .utf8)
        XCTAssertEqual(row(report, "mine").dropFirst().first, "0.4123")
        XCTAssertTrue(row(report, "Raw features (untrained)").isEmpty)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/two.json"))

        try Data("not hdf5".utf8).write(to: URL(fileURLWithPath: run + "/raw/annotation.h5"))
        let failed = try Executables.run("gcml-report", ["--run-dir", run])
        XCTAssertNotEqual(failed.status, 0)
        XCTAssertTrue(failed.stderr.contains("raw/annotation.h5"), failed.stderr)
    }
}
