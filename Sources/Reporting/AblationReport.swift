import Artifacts
import Foundation
import Support

/// What `make ablation` ran: a tab-separated manifest, one record per line ('#' starts a comment).
///
///     run      EXPERIMENT  CONFIG  SERIES  X  SEED  FOLDER   one training run (FOLDER holds model.h5, retrieval.h5, retrieval-all.h5)
///     compare  EXPERIMENT  CONFIG_A  CONFIG_B                 a seed-paired comparison the summary must judge
///     note     TEXT                                           said in the report (e.g. what was shortened)
///     axis     EXPERIMENT  LABEL                              the label of the experiment's x axis in its plots
///
/// X is the configuration's value on the experiment's axis (a batch size, a tree level) or `-`.
public struct AblationManifest: Equatable, Sendable {
    public struct Run: Equatable, Sendable {
        public var experiment: String
        public var config: String
        public var series: String
        public var x: Double?
        public var seed: Int
        public var folder: String

        public init(experiment: String, config: String, series: String, x: Double?, seed: Int, folder: String) {
            (self.experiment, self.config, self.series, self.x, self.seed, self.folder) = (experiment, config, series, x, seed, folder)
        }
    }

    public struct Comparison: Equatable, Sendable {
        public var experiment: String
        public var a: String
        public var b: String

        public init(experiment: String, a: String, b: String) {
            (self.experiment, self.a, self.b) = (experiment, a, b)
        }
    }

    public var runs: [Run] = []
    public var comparisons: [Comparison] = []
    public var notes: [String] = []
    public var axes: [String: String] = [:]

    public init(runs: [Run] = [], comparisons: [Comparison] = [], notes: [String] = [], axes: [String: String] = [:]) {
        self.runs = runs
        self.comparisons = comparisons
        self.notes = notes
        self.axes = axes
    }

    /// Parses manifest text; relative folders are taken relative to `base`. Errors name the line.
    public static func parse(_ text: String, path: String, base: String) throws -> AblationManifest {
        var manifest = AblationManifest()
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            func fail(_ expected: String) -> GCMLError {
                GCMLError(file: path, object: "line \(index + 1)", expected: expected, found: "'\(line)'")
            }
            switch fields[0] {
            case "run":
                guard fields.count == 7, !fields[1].isEmpty, !fields[2].isEmpty, let seed = Int(fields[5]) else {
                    throw fail("run<TAB>experiment<TAB>config<TAB>series<TAB>x<TAB>seed (integer)<TAB>folder")
                }
                let x: Double?
                if fields[4] == "-" { x = nil } else if let value = Double(fields[4]) { x = value } else { throw fail("x: a number or -") }
                let folder = fields[6].hasPrefix("/") ? fields[6] : (base as NSString).appendingPathComponent(fields[6])
                manifest.runs.append(Run(experiment: fields[1], config: fields[2], series: fields[3], x: x, seed: seed, folder: folder))
            case "compare":
                guard fields.count == 4 else { throw fail("compare<TAB>experiment<TAB>config A<TAB>config B") }
                manifest.comparisons.append(Comparison(experiment: fields[1], a: fields[2], b: fields[3]))
            case "note":
                manifest.notes.append(fields.dropFirst().joined(separator: " "))
            case "axis":
                guard fields.count == 3 else { throw fail("axis<TAB>experiment<TAB>label") }
                manifest.axes[fields[1]] = fields[2]
            default:
                throw fail("a record starting with run, compare, note or axis")
            }
        }
        for c in manifest.comparisons {
            for config in [c.a, c.b] where !manifest.runs.contains(where: { $0.experiment == c.experiment && $0.config == config }) {
                throw GCMLError(file: path, object: "compare \(c.experiment) \(c.a) \(c.b)", expected: "configurations with run records",
                                found: "no run of '\(config)' in experiment '\(c.experiment)'")
            }
        }
        return manifest
    }

    public static func read(_ path: String) throws -> AblationManifest {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw GCMLError(file: path, expected: "an ablation manifest (text)", found: "unreadable: \(error.localizedDescription)")
        }
        return try parse(text, path: path, base: (path as NSString).deletingLastPathComponent)
    }
}

/// The ablation report: per experiment a table of every configuration over its seeds (mean ± standard
/// deviation), steps to a common target, mining statistics, seed-paired comparisons whose verdicts follow
/// from the spread across seeds, and plots against the experiment's axis.
public struct AblationReport {
    /// One run's measurements.
    public struct RunResult {
        public var run: AblationManifest.Run
        public var results: MethodResults

        public init(run: AblationManifest.Run, results: MethodResults) {
            self.run = run
            self.results = results
        }
    }

    /// One configuration over its seeds.
    public struct ConfigSummary {
        public var experiment: String
        public var config: String
        public var series: String
        public var x: Double?
        public var runs: [RunResult]

        func values(_ value: (MethodResults) -> Double?) -> [Int: Double] {
            var byseed: [Int: Double] = [:]
            for r in runs { if let v = value(r.results), v.isFinite { byseed[r.run.seed] = v } }
            return byseed
        }
        func spread(_ value: (MethodResults) -> Double?) -> Spread { Spread(values(value).sorted { $0.key < $1.key }.map(\.value)) }
    }

    public enum Metric: String, CaseIterable, Sendable {
        case map = "MAP"
        case mapFullCorpus = "MAP (full corpus)"

        func value(_ m: MethodResults) -> Double? {
            switch self {
            case .map: return m.retrieval?.map
            case .mapFullCorpus: return m.retrievalAll?.map
            }
        }
        var key: String { self == .map ? "map" : "map_full_corpus" }
    }

    public var title: String
    public var manifest: AblationManifest
    public var configs: [ConfigSummary]
    public var targetFraction: Double
    /// Standard errors of the paired difference a difference must exceed to be called.
    public var threshold: Double
    /// The program named as the report's author (the stage sets its own name).
    public var generatedBy = "gcml"

    public init(title: String, manifest: AblationManifest, results: [RunResult], targetFraction: Double = LearningSpeed.defaultFraction,
                threshold: Double = 2) {
        self.title = title
        self.manifest = manifest
        self.targetFraction = targetFraction
        self.threshold = threshold
        var order: [String] = []
        var grouped: [String: ConfigSummary] = [:]
        for r in results {
            let key = r.run.experiment + "\u{1}" + r.run.config
            if grouped[key] == nil {
                order.append(key)
                grouped[key] = ConfigSummary(experiment: r.run.experiment, config: r.run.config, series: r.run.series, x: r.run.x, runs: [])
            }
            grouped[key]!.runs.append(r)
        }
        configs = order.map { grouped[$0]! }
    }

    /// Reads every run's artifacts (absent files are recorded as missing; invalid ones throw).
    public static func read(manifest: AblationManifest, title: String, targetFraction: Double = LearningSpeed.defaultFraction,
                            threshold: Double = 2) throws -> AblationReport {
        let results = try manifest.runs.map { RunResult(run: $0, results: try MethodResults.read(name: $0.config, folder: $0.folder)) }
        return AblationReport(title: title, manifest: manifest, results: results, targetFraction: targetFraction, threshold: threshold)
    }

    public var experiments: [String] {
        var seen: [String] = []
        for c in configs where !seen.contains(c.experiment) { seen.append(c.experiment) }
        return seen
    }

    func configs(of experiment: String) -> [ConfigSummary] { configs.filter { $0.experiment == experiment } }

    // MARK: steps to target

    /// The validation measure an experiment's learning speed is read on: full corpus when logged (it does not saturate).
    public func measure(of experiment: String) -> ValidationMeasure? {
        let runs = configs(of: experiment).flatMap(\.runs)
        for measure in [ValidationMeasure.fullCorpus, .sampled] where runs.contains(where: { $0.results.training?.validation(measure) != nil }) {
            return measure
        }
        return nil
    }

    /// fraction × the best configuration's mean final validation MAP, within the experiment.
    public func target(of experiment: String) -> Double? {
        guard let measure = measure(of: experiment) else { return nil }
        let means = configs(of: experiment).compactMap { $0.spread { $0.training?.validation(measure)?.finalValue }.mean }
        return means.max().map { targetFraction * $0 }
    }

    public func stepsToTarget(_ run: RunResult) -> StepsToReach {
        guard let measure = measure(of: run.run.experiment) else { return .unknown }
        return StepsToReach.compute(run.results.training?.validation(measure), target: target(of: run.run.experiment))
    }

    /// Steps to target over the seeds that reached it, and how many did.
    func steps(_ config: ConfigSummary) -> (spread: Spread, reached: Int, runs: Int) {
        let reaches = config.runs.map(stepsToTarget)
        let steps = reaches.compactMap { $0.step.map(Double.init) }
        let known = reaches.filter { $0 != .unknown }.count
        return (Spread(steps), steps.count, known)
    }

    func stepsText(_ config: ConfigSummary) -> String {
        let s = steps(config)
        guard s.runs > 0 else { return "—" }
        if s.reached == 0 { return "not reached (0/\(s.runs))" }
        return (s.spread.count == 1 ? String(format: "%.0f", s.spread.mean!) : s.spread.text(decimals: 0)) + " (\(s.reached)/\(s.runs))"
    }

    // MARK: comparisons

    public struct ComparisonResult {
        public var comparison: AblationManifest.Comparison
        public var metric: Metric
        public var paired: PairedComparison
    }

    public func comparisons() -> [ComparisonResult] {
        manifest.comparisons.flatMap { c -> [ComparisonResult] in
            guard let a = configs.first(where: { $0.experiment == c.experiment && $0.config == c.a }),
                  let b = configs.first(where: { $0.experiment == c.experiment && $0.config == c.b }) else { return [] }
            return Metric.allCases.compactMap { metric in
                let paired = PairedComparison(a: a.values(metric.value), b: b.values(metric.value), threshold: threshold)
                return paired.pairs == 0 ? nil : ComparisonResult(comparison: c, metric: metric, paired: paired)
            }
        }
    }

    public static func verdictText(_ r: ComparisonResult) -> String {
        switch r.paired.verdict {
        case .aBetter: return "\(r.comparison.a) better"
        case .bBetter: return "\(r.comparison.b) better"
        case .noClearDifference: return "no clear difference"
        case .negligible: return String(format: "negligible (< %g)", r.paired.negligible)
        case .tooFewSeeds: return "too few seeds to judge"
        }
    }

    // MARK: summary

    public func summary() -> String { summarySentences().joined(separator: " ") }

    /// The summary, one statement per called comparison, then what was not called.
    public func summarySentences() -> [String] {
        var sentences: [String] = []
        let results = comparisons()
        let criterion = String(format: "%g", threshold)
        let called = results.filter { $0.paired.verdict == .aBetter || $0.paired.verdict == .bBetter }
        let unclear = results.filter { $0.paired.verdict == .noClearDifference }
        for r in called {
            let (winner, loser) = r.paired.verdict == .aBetter ? (r.comparison.a, r.comparison.b) : (r.comparison.b, r.comparison.a)
            let d = abs(r.paired.meanDifference ?? 0)
            sentences.append(String(format: "%@: %@ has the higher %@ than %@, by %.4f on average over %d seeds (standard error %.4f).",
                                    r.comparison.experiment, winner, r.metric.rawValue, loser, d, r.paired.pairs, r.paired.standardError ?? 0))
        }
        if !unclear.isEmpty {
            let list = unclear.map { "\($0.comparison.a) vs \($0.comparison.b) (\($0.metric.rawValue))" }
            sentences.append("No clear difference (mean paired difference within \(criterion) standard errors) for: " + list.joined(separator: "; ") + ".")
        }
        let tiny = results.filter { $0.paired.verdict == .negligible }
        if !tiny.isEmpty {
            let list = tiny.map { "\($0.comparison.a) vs \($0.comparison.b) (\($0.metric.rawValue), \(String(format: "%+.4f", $0.paired.meanDifference ?? 0)))" }
            sentences.append(String(format: "Consistent across seeds but smaller than %g, so not called: ", tiny[0].paired.negligible) + list.joined(separator: "; ") + ".")
        }
        let few = results.filter { $0.paired.verdict == .tooFewSeeds }
        if !few.isEmpty { sentences.append("\(few.count) comparison\(few.count == 1 ? "" : "s") had fewer than two seeds in common and are not judged.") }
        if results.isEmpty { sentences.append("No comparison had results on both sides.") }
        sentences.append("A configuration is called better only when its mean seed-paired difference exceeds \(criterion) standard errors of those differences and \(String(format: "%g", PairedComparison.defaultNegligible)) in size; with 3 seeds this is a lenient screen, not a significance test.")
        let missing = configs.flatMap(\.runs).filter { $0.results.retrieval == nil }
        if !missing.isEmpty { sentences.append("\(missing.count) run\(missing.count == 1 ? "" : "s") had no retrieval.h5 (shown as —): " + missing.map { "\($0.run.config) seed \($0.run.seed)" }.joined(separator: ", ") + ".") }
        return sentences
    }

    // MARK: Markdown

    static func mean(_ c: LearningCurve?) -> Double? { c.flatMap { $0.values.isEmpty ? nil : $0.values.reduce(0, +) / Double($0.values.count) } }
    static func percent(_ s: Spread) -> String {
        guard let mean = s.mean else { return "—" }
        guard let sd = s.standardDeviation else { return String(format: "%.1f %%", mean * 100) }
        return String(format: "%.1f ± %.1f %%", mean * 100, sd * 100)
    }

    public func markdown(charts: [String: [String]]) -> String {
        var out = ["# \(title)", "", "Generated by \(generatedBy) (gcml \(Artifact.version)) at \(Provenance.timestamp()).", ""]
        out += ["## Summary", ""] + summarySentences().map { "- " + $0 } + [""]
        if !manifest.notes.isEmpty {
            out += ["## Set-up", ""]
            out += manifest.notes.map { "- " + $0 }
            out.append("")
        }
        for experiment in experiments {
            let list = configs(of: experiment)
            out += ["## \(experiment)", ""]
            let measure = measure(of: experiment)
            let target = target(of: experiment)
            out.append("| Configuration | Seeds | MAP | MAP (full corpus) | Final \(measure?.label ?? "validation MAP") | Steps to target (reached/seeds) | Wall time (s) |")
            out.append("|---|---:|---:|---:|---:|---:|---:|")
            for c in list {
                let cells = [c.config, String(c.runs.count), c.spread(Metric.map.value).text(), c.spread(Metric.mapFullCorpus.value).text(),
                             measure.map { m in c.spread { $0.training?.validation(m)?.finalValue }.text() } ?? "—",
                             stepsText(c), c.spread { $0.training?.wallSeconds }.text(decimals: 1)]
                out.append("| " + cells.joined(separator: " | ") + " |")
            }
            out.append("")
            var caption = "Mean ± standard deviation over seeds. MAP: held-out co-watch retrieval among sampled candidates; full corpus: against every video."
            if let measure, let target {
                caption += String(format: " Target: %.0f %% of the best configuration's mean final %@ = %.4f; steps are the first validation checkpoint at or above it, averaged over the seeds that reached it.",
                                  targetFraction * 100, measure.label, target)
            }
            out += [caption, ""]
            let mined = list.filter { c in c.runs.contains { $0.results.training?.presampledNegativeChosen != nil } }
            if !mined.isEmpty {
                out.append("| Configuration | Own negative chosen (last window) | Own negative chosen (run mean) | Active triplets (last window) | Anchor–negative distance (last window) |")
                out.append("|---|---:|---:|---:|---:|")
                for c in mined {
                    let cells = [c.config, Self.percent(c.spread { $0.training?.presampledNegativeChosen?.finalValue }),
                                 Self.percent(c.spread { Self.mean($0.training?.presampledNegativeChosen) }),
                                 Self.percent(c.spread { $0.training?.activeFraction?.finalValue }),
                                 c.spread { $0.training?.anchorNegativeDistance?.finalValue }.text()]
                    out.append("| " + cells.joined(separator: " | ") + " |")
                }
                out += ["", "Mining statistics (triplet runs): share of triplets whose own pre-sampled negative in-batch mining kept, share with a non-zero loss, mean anchor–negative embedding distance (0–2); mean ± standard deviation over seeds.", ""]
            }
            let rows = comparisons().filter { $0.comparison.experiment == experiment }
            if !rows.isEmpty {
                out.append("| A | B | Metric | Mean A − B | Standard error | Seeds | Verdict |")
                out.append("|---|---|---|---:|---:|---:|---|")
                for r in rows {
                    let cells = [r.comparison.a, r.comparison.b, r.metric.rawValue, r.paired.meanDifference.map { String(format: "%+.4f", $0) } ?? "—",
                                 r.paired.standardError.map { String(format: "%.4f", $0) } ?? "—", String(r.paired.pairs), Self.verdictText(r)]
                    out.append("| " + cells.joined(separator: " | ") + " |")
                }
                out.append("")
            }
            for file in charts[experiment] ?? [] { out += ["![\(experiment)](\(file))", ""] }
        }
        return out.joined(separator: "\n")
    }

    // MARK: charts

    /// Experiments whose configurations have a numeric axis: one polyline per series.
    func axisSeries(_ experiment: String, _ value: (ConfigSummary) -> Double?) -> [SVGChart.Series] {
        let list = configs(of: experiment).filter { $0.x != nil }
        var names: [String] = []
        for c in list where !names.contains(c.series) { names.append(c.series) }
        return names.map { name in
            SVGChart.Series(name: name, points: list.filter { $0.series == name }.compactMap { c in value(c).map { (c.x!, $0) } }.sorted { $0.x < $1.x })
        }
    }

    /// (file name, SVG) per chart of an experiment: final MAP and steps to target against its axis.
    public func charts(of experiment: String, axis: String) -> [(String, String)] {
        guard configs(of: experiment).contains(where: { $0.x != nil }) else { return [] }
        var charts: [(String, String)] = []
        for metric in Metric.allCases {
            let series = axisSeries(experiment) { $0.spread(metric.value).mean }
            guard series.contains(where: { !$0.points.isEmpty }) else { continue }
            charts.append(("\(experiment)_\(metric.key).svg",
                           SVGChart.lineChart(title: "\(experiment): final \(metric.rawValue) (mean over seeds)", xLabel: axis,
                                              yLabel: "retrieval \(metric.rawValue)", series: series)))
        }
        // Only configurations where every seed reached the target, so the mean is not biased by the ones that did not.
        let steps = axisSeries(experiment) { c in
            let s = self.steps(c)
            return s.runs > 0 && s.reached == s.runs ? s.spread.mean : nil
        }
        if steps.contains(where: { !$0.points.isEmpty }), let measure = measure(of: experiment) {
            charts.append(("\(experiment)_steps_to_target.svg",
                           SVGChart.lineChart(title: "\(experiment): steps to \(Int((targetFraction * 100).rounded())) % of the best final \(measure.label)",
                                              xLabel: axis, yLabel: "training steps (mean over seeds; all seeds reached)", series: steps)))
        }
        return charts
    }

    // MARK: JSON

    public func json() -> [String: Any] {
        func value(_ x: Double?) -> Any { x.map { $0.isFinite ? $0 as Any : NSNull() } ?? NSNull() }
        func spread(_ s: Spread) -> [String: Any] { ["mean": value(s.mean), "std": value(s.standardDeviation), "values": s.values] }
        let experimentObjects: [[String: Any]] = experiments.map { experiment in
            let list = configs(of: experiment).map { c -> [String: Any] in
                let measure = measure(of: experiment)
                let s = steps(c)
                return ["config": c.config, "series": c.series, "x": value(c.x), "seeds": c.runs.map(\.run.seed),
                        "map": spread(c.spread(Metric.map.value)), "map_full_corpus": spread(c.spread(Metric.mapFullCorpus.value)),
                        "final_validation_map": spread(c.spread { r in measure.flatMap { r.training?.validation($0)?.finalValue } }),
                        "steps_to_target": spread(s.spread), "reached_target": s.reached, "runs_with_validation": s.runs,
                        "presampled_negative_chosen_last": spread(c.spread { $0.training?.presampledNegativeChosen?.finalValue }),
                        "presampled_negative_chosen_mean": spread(c.spread { Self.mean($0.training?.presampledNegativeChosen) }),
                        "active_fraction_last": spread(c.spread { $0.training?.activeFraction?.finalValue }),
                        "anchor_negative_distance_last": spread(c.spread { $0.training?.anchorNegativeDistance?.finalValue }),
                        "wall_seconds": spread(c.spread { $0.training?.wallSeconds })]
            }
            return ["name": experiment, "measure": measure(of: experiment)?.rawValue ?? NSNull(), "target": value(target(of: experiment)),
                    "configs": list]
        }
        let comparisonObjects: [[String: Any]] = comparisons().map { r in
            ["experiment": r.comparison.experiment, "a": r.comparison.a, "b": r.comparison.b, "metric": r.metric.key,
             "mean_difference": value(r.paired.meanDifference), "standard_error": value(r.paired.standardError),
             "pairs": r.paired.pairs, "differences": r.paired.differences, "verdict": Self.verdictText(r)]
        }
        return ["title": title, "target_fraction": targetFraction, "threshold_standard_errors": threshold, "notes": manifest.notes,
                "experiments": experimentObjects, "comparisons": comparisonObjects, "summary": summary(),
                "created_by": "\(generatedBy) (gcml \(Artifact.version))"]
    }

    // MARK: writing

    /// Writes report.md at `path`, `<name>.json` and the SVG charts next to it, each atomically.
    public func write(to path: String) throws {
        let files = try ReportFiles(reportPath: path)
        var charts: [String: [String]] = [:]
        for experiment in experiments {
            for (name, svg) in self.charts(of: experiment, axis: manifest.axes[experiment] ?? experiment) {
                try files.save(svg, name)
                charts[experiment, default: []].append(name)
            }
        }
        try files.saveJSON(json())
        try files.save(markdown(charts: charts), files.reportName)
    }
}
