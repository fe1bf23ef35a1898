import Contracts
import Foundation
import Reporting
import Support
import XCTest

final class AblationStatisticsTests: XCTestCase {
    func testSpreadIsTheMeanAndSampleStandardDeviation() {
        let s = Spread([1, 2, 3])
        XCTAssertEqual(s.mean, 2)
        XCTAssertEqual(s.standardDeviation, 1)
        XCTAssertEqual(s.text(), "2.0000 ± 1.0000")
        XCTAssertEqual(Spread([0.5]).text(), "0.5000")
        XCTAssertNil(Spread([]).mean)
    }

    func testAConsistentPairedDifferenceIsCalled() {
        // d = 0.10, 0.10, 0.11: mean 0.10333, sd 0.005774, se 0.003333 → 31 standard errors.
        let c = PairedComparison(a: [1: 0.60, 2: 0.62, 3: 0.61], b: [1: 0.50, 2: 0.52, 3: 0.50])
        XCTAssertEqual(c.meanDifference!, 0.31 / 3, accuracy: 1e-12)
        XCTAssertEqual(c.standardError!, (1.0 / 3).squareRoot() * 0.01 / 3.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(c.verdict, .aBetter)
        XCTAssertEqual(PairedComparison(a: [1: 0.50, 2: 0.52, 3: 0.50], b: [1: 0.60, 2: 0.62, 3: 0.61]).verdict, .bBetter)
    }

    func testADifferenceWithinTheSeedSpreadIsNotCalled() {
        // d = 0.05, −0.04, 0.01: mean 0.0067, se 0.026.
        XCTAssertEqual(PairedComparison(a: [1: 0.55, 2: 0.56, 3: 0.61], b: [1: 0.50, 2: 0.60, 3: 0.60]).verdict, .noClearDifference)
        // Identical results: no difference at all.
        XCTAssertEqual(PairedComparison(a: [1: 0.5, 2: 0.6], b: [1: 0.5, 2: 0.6]).verdict, .noClearDifference)
        // Consistent but tiny (0.0005 ± 0.00001): real, yet not a difference worth calling.
        XCTAssertEqual(PairedComparison(a: [1: 0.5005, 2: 0.6005, 3: 0.7006], b: [1: 0.5, 2: 0.6, 3: 0.7]).verdict, .negligible)
        // Seeds are paired: only seed 2 ran both.
        let one = PairedComparison(a: [1: 0.9, 2: 0.8], b: [2: 0.1, 3: 0.2])
        XCTAssertEqual(one.pairs, 1)
        XCTAssertEqual(one.verdict, .tooFewSeeds)
    }
}

final class AblationReportTests: XCTestCase {
    static func run(_ experiment: String, _ config: String, _ series: String, _ x: Double?, _ seed: Int, map: Double?,
                    validation: [Double]? = nil, chosen: Double? = nil) -> AblationReport.RunResult {
        let r = AblationManifest.Run(experiment: experiment, config: config, series: series, x: x, seed: seed, folder: "/nowhere")
        var m = MethodResults(name: config, folder: "/nowhere")
        if let map { m.retrieval = RetrievalSummary(map: map, ndcg: map, k: 60, queries: 10) }
        if let validation {
            let steps = [0, 100, 200, 300]
            m.training = TrainingCurves(steps: 300, loss: LearningCurve(steps: [300], values: [0.1]),
                                       validationMAPFullCorpus: LearningCurve(steps: steps, values: validation),
                                       presampledNegativeChosen: chosen.map { LearningCurve(steps: [150, 300], values: [0.5, $0]) })
        }
        return AblationReport.RunResult(run: r, results: m)
    }

    /// Batch 32: GCML consistently ahead; batch 64: within noise. Steps: GCML reaches the target at 100, CDML never.
    func plantedReport() -> AblationReport {
        var results: [AblationReport.RunResult] = []
        let gcml32 = [0.61, 0.63, 0.62], cdml32 = [0.51, 0.53, 0.51], gcml64 = [0.55, 0.56, 0.61], cdml64 = [0.50, 0.60, 0.60]
        for seed in 1...3 {
            results.append(Self.run("batch", "GCML batch 32", "GCML", 32, seed, map: gcml32[seed - 1], validation: [0.1, 0.40, 0.41, 0.40], chosen: 0.12))
            results.append(Self.run("batch", "CDML batch 32", "CDML", 32, seed, map: cdml32[seed - 1], validation: [0.1, 0.2, 0.3, 0.30], chosen: 0.02))
            results.append(Self.run("batch", "GCML batch 64", "GCML", 64, seed, map: gcml64[seed - 1]))
            results.append(Self.run("batch", "CDML batch 64", "CDML", 64, seed, map: cdml64[seed - 1]))
        }
        let manifest = AblationManifest(comparisons: [.init(experiment: "batch", a: "GCML batch 32", b: "CDML batch 32"),
                                                      .init(experiment: "batch", a: "GCML batch 64", b: "CDML batch 64")],
                                        notes: ["Training shortened to 300 steps."], axes: ["batch": "batch size"])
        return AblationReport(title: "planted", manifest: manifest, results: results)
    }

    func row(_ text: String, _ label: String) -> [String] {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("| \(label) |") }) else { return [] }
        return line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func testTablesShowMeanAndStandardDeviationAndStepsToACommonTarget() {
        let report = plantedReport()
        // Target: 0.95 × the best mean final full-corpus validation MAP (GCML batch 32: 0.40) = 0.38.
        XCTAssertEqual(report.target(of: "batch")!, 0.38, accuracy: 1e-12)
        let text = report.markdown(charts: [:])
        // GCML batch 32: MAP 0.62 ± 0.01; final validation 0.40 ± 0; reached at step 100 by all three seeds.
        XCTAssertEqual(row(text, "GCML batch 32"), ["GCML batch 32", "3", "0.6200 ± 0.0100", "—", "0.4000 ± 0.0000", "100 ± 0 (3/3)", "—"])
        XCTAssertEqual(row(text, "CDML batch 32")[5], "not reached (0/3)")
        XCTAssertEqual(row(text, "GCML batch 64")[5], "—", "no validation curve")
        // Mining table: last-window share 12 % for GCML.
        let mining = text.components(separatedBy: "Own negative chosen (last window)")[1]
        XCTAssertEqual(row(mining, "GCML batch 32")[1], "12.0 ± 0.0 %")
        XCTAssertTrue(text.contains("Training shortened to 300 steps."))
    }

    func testTheSummaryCallsOnlyDifferencesBeyondTheSeedSpread() {
        let report = plantedReport()
        let summary = report.summary()
        XCTAssertTrue(summary.contains("batch: GCML batch 32 has the higher MAP than CDML batch 32, by 0.1033"), summary)
        XCTAssertTrue(summary.contains("No clear difference"), summary)
        XCTAssertTrue(summary.contains("GCML batch 64 vs CDML batch 64 (MAP)"), summary)
        XCTAssertFalse(summary.contains("GCML batch 64 has"), summary)
        let verdicts = report.comparisons().map { AblationReport.verdictText($0) }
        XCTAssertEqual(verdicts, ["GCML batch 32 better", "no clear difference"])
    }

    func testChartsPlotEachSeriesAgainstTheAxis() {
        let charts = plantedReport().charts(of: "batch", axis: "batch size")
        XCTAssertEqual(charts.map(\.0), ["batch_map.svg", "batch_steps_to_target.svg"])
        let map = SVGCollector.parse(charts[0].1)
        XCTAssertEqual(map.elements.filter { $0.name == "polyline" }.map { $0.attributes["data-series"] }, ["GCML", "CDML"])
        XCTAssertTrue(map.texts.joined().contains("batch size"))
        // Steps: only GCML batch 32 reached the target on every seed: one point.
        let steps = SVGCollector.parse(charts[1].1)
        XCTAssertEqual(steps.elements.filter { $0.name == "circle" }.count, 1)
    }

    func testManifestParsingAndErrorsNameTheLine() throws {
        let text = "# comment\nnote\tshort runs\naxis\tbatch\tbatch size\nrun\tbatch\tGCML batch 32\tGCML\t32\t1\truns/a\nrun\tbatch\tCDML batch 32\tCDML\t-\t1\t/abs/b\ncompare\tbatch\tGCML batch 32\tCDML batch 32\n"
        let m = try AblationManifest.parse(text, path: "m.tsv", base: "/base")
        XCTAssertEqual(m.runs.map(\.folder), ["/base/runs/a", "/abs/b"])
        XCTAssertEqual(m.runs.map(\.x), [32, nil])
        XCTAssertEqual(m.notes, ["short runs"])
        XCTAssertEqual(m.axes, ["batch": "batch size"])
        XCTAssertEqual(m.comparisons.count, 1)
        XCTAssertThrowsError(try AblationManifest.parse("run\tbatch\tA\tA\t32\tone\tf\n", path: "m.tsv", base: ".")) { error in
            XCTAssertTrue("\(error)".contains("line 1"), "\(error)")
        }
        XCTAssertThrowsError(try AblationManifest.parse("run\tbatch\tA\tA\t32\t1\tf\ncompare\tbatch\tA\tB\n", path: "m.tsv", base: ".")) { error in
            XCTAssertTrue("\(error)".contains("'B'"), "\(error)")
        }
    }
}

extension ReportTests {
    /// gcml-ablation-report on a planted folder: a manifest and two configurations × two seeds of real artifacts.
    func testAblationReportExecutableWritesTablesJSONAndPlots() throws {
        let folder = try Executables.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var manifest = "note\tplanted runs\naxis\tbatch\tbatch size\n"
        for (config, series, maps) in [("GCML batch 32", "GCML", [0.61, 0.63]), ("CDML batch 32", "CDML", [0.41, 0.42])] {
            for (seed, map) in zip([1, 2], maps) {
                let run = "runs/\(series)-\(seed)"
                try writeRetrieval("\(folder)/\(run)/retrieval.h5", map: map, ndcg: map)
                try writeModel("\(folder)/\(run)/model.h5", steps: [100, 200], loss: [0.5, 0.4], validation: ([0, 100, 200], [0.1, 0.3, map / 2]),
                               wallSeconds: 1)
                manifest += "run\tbatch\t\(config)\t\(series)\t32\t\(seed)\t\(run)\n"
            }
        }
        manifest += "compare\tbatch\tGCML batch 32\tCDML batch 32\n"
        try manifest.write(toFile: folder + "/manifest.tsv", atomically: true, encoding: .utf8)
        _ = try Executables.succeed("gcml-ablation-report", ["--manifest", folder + "/manifest.tsv"])
        let report = try String(contentsOfFile: folder + "/report.md", encoding: .utf8)
        XCTAssertEqual(row(report, "GCML batch 32")[2], "0.6200 ± 0.0141")
        XCTAssertTrue(report.contains("planted runs"))
        XCTAssertTrue(report.contains("](batch_map.svg)"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/batch_map.svg"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/report.json"))) as? [String: Any]
        let comparisons = json?["comparisons"] as? [[String: Any]] ?? []
        XCTAssertEqual(comparisons.first?["verdict"] as? String, "GCML batch 32 better")
        // A manifest naming a configuration without runs is an error naming the file.
        try "compare\tbatch\tA\tB\n".write(toFile: folder + "/bad.tsv", atomically: true, encoding: .utf8)
        let failure = try Executables.run("gcml-ablation-report", ["--manifest", folder + "/bad.tsv"])
        XCTAssertNotEqual(failure.status, 0)
        XCTAssertTrue(failure.stderr.contains("bad.tsv"), failure.stderr)
    }
}

final class ComparisonMeasuresTests: XCTestCase {
    func testFullCorpusSectionIsLeftOutWhenItEqualsTheSampledOneUpToRounding() {
        func method(_ name: String, _ values: [Double], offset: Double) -> MethodResults {
            var m = MethodResults(name: name, folder: "/nowhere")
            m.training = TrainingCurves(steps: 200, loss: LearningCurve(steps: [200], values: [0.1]),
                                       validationMAP: LearningCurve(steps: [0, 100, 200], values: values),
                                       validationMAPFullCorpus: LearningCurve(steps: [0, 100, 200], values: values.map { $0 + offset }))
            return m
        }
        let close = ComparisonReport(title: "t", runDirectory: "/r", methods: [method("gcml", [0.1, 0.2, 0.3], offset: 1e-6),
                                                                               method("cdml", [0.1, 0.2, 0.25], offset: -1e-6)])
        let text = close.markdown(learningCurves: true, lossCurves: false, levelSizes: false)
        XCTAssertTrue(text.contains("equals the sampled one"), text)
        XCTAssertFalse(text.contains("### Validation MAP (full corpus)"), text)
        let apart = ComparisonReport(title: "t", runDirectory: "/r", methods: [method("gcml", [0.1, 0.2, 0.3], offset: -0.05),
                                                                               method("cdml", [0.1, 0.2, 0.25], offset: -0.05)])
        XCTAssertTrue(apart.markdown(learningCurves: true, lossCurves: false, levelSizes: false).contains("### Validation MAP (full corpus)"))
    }
}
