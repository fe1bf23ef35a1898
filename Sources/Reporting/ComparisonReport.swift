import Artifacts
import Contracts
import Foundation
import Support

/// The comparison report of a run: the methods' metrics, their learning speed
/// against the baseline, the tree's statistics, and a summary written from the
/// numbers. Renders Markdown, JSON and SVG charts; `write` puts them on disk.
public struct ComparisonReport {
    public var title: String
    public var runDirectory: String
    public var methods: [MethodResults]
    /// The method whose final validation MAP the others must reach (CDML).
    public var baselineName: String
    /// The no-training method that learned methods are compared with.
    public var rawName: String
    /// Per-level tree statistics; nil when no tree was given.
    public var tree: [TreeLevelStatistics]?
    public var treePath: String?
    public var truthPath: String?
    /// The program named as the report's author (the stage sets its own name).
    public var generatedBy = "gcml"

    public init(title: String, runDirectory: String, methods: [MethodResults], baselineName: String = "cdml", rawName: String = "raw",
                tree: [TreeLevelStatistics]? = nil, treePath: String? = nil, truthPath: String? = nil) {
        self.title = title
        self.runDirectory = runDirectory
        self.methods = methods
        self.baselineName = baselineName
        self.rawName = rawName
        self.tree = tree
        self.treePath = treePath
        self.truthPath = truthPath
    }

    /// A Markdown table rule cell of a right-aligned (number) column.
    static let numberColumnRule = String(repeating: "-", count: 3) + ":|"

    public static let learningCurvesFile = "learning_curves.svg"
    public static let lossCurvesFile = "training_loss.svg"
    public static let levelSizesFile = "level_sizes.svg"

    var baseline: MethodResults? { methods.first { $0.name == baselineName } }
    var raw: MethodResults? { methods.first { $0.name == rawName } }
    var trained: [MethodResults] { methods.filter { $0.training != nil } }
    var hasTruth: Bool { tree?.contains { !$0.nmi.isEmpty } ?? false }

    /// Steps each method needed to reach the baseline's final validation MAP.
    public func stepsToReach(_ method: MethodResults) -> StepsToReach {
        StepsToReach.compute(method.training?.validationMAP, baseline: baseline?.training?.validationMAP)
    }

    // MARK: formatting

    static let dash = "—"
    static func metric(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? dash }
    static func integer(_ value: Int?) -> String { value.map(String.init) ?? dash }
    static func duration(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite, seconds >= 0 else { return dash }
        if seconds < 60 { return String(format: "%.1f s", seconds) }
        let whole = Int(seconds.rounded())
        if whole < 3600 { return String(format: "%d min %02d s", whole / 60, whole % 60) }
        return String(format: "%d h %02d min", whole / 3600, (whole % 3600) / 60)
    }
    static func median(_ value: Double?) -> String {
        guard let value else { return dash }
        return value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }
    static func difference(_ value: Double, over other: Double) -> String {
        var text = String(format: "%+.4f", value - other)
        if other > 0 { text += String(format: " (%+.1f %%)", (value - other) / other * 100) }
        return text
    }
    static func steps(_ reach: StepsToReach) -> String {
        switch reach {
        case .reached(let step): return String(step)
        case .notReached: return "not reached"
        case .unknown: return dash
        }
    }
    var ndcgK: String {
        let k = methods.compactMap { $0.retrieval?.k ?? $0.retrievalAll?.k }.first
        return k.map(String.init) ?? "k"
    }

    // MARK: summary

    /// A few sentences that state what the numbers show, built from the numbers.
    public func summary() -> String {
        var sentences: [String] = []
        sentences += comparisonSentences(metric: "retrieval MAP", context: "related-video retrieval (held-out co-watch edges, sampled candidates)") { $0.retrieval?.map }
        sentences += comparisonSentences(metric: "MAP", context: "full-corpus retrieval") { $0.retrievalAll?.map }
        sentences += comparisonSentences(metric: "GAP", context: "video annotation") { $0.annotation?.gap }
        sentences += learningSpeedSentences()
        sentences += treeSentences()
        let missing = methods.compactMap { method -> String? in
            let files = method.missing.filter { $0 != MethodResults.modelFile }
            return files.isEmpty ? nil : "\(method.label) (\(files.joined(separator: ", ")))"
        }
        if !missing.isEmpty { sentences.append("Missing results, shown as \(Self.dash): \(missing.joined(separator: "; ")).") }
        return sentences.joined(separator: " ")
    }

    func comparisonSentences(metric: String, context: String, _ value: (MethodResults) -> Double?) -> [String] {
        let scored = methods.compactMap { m in value(m).map { (m, $0) } }
        guard let best = scored.max(by: { $0.1 < $1.1 }) else { return [] }
        if scored.count == 1 { return ["Only \(best.0.label) has \(context) results (\(metric) \(Self.metric(best.1)))."] }
        var text = "On \(context), \(best.0.label) has the best \(metric), \(Self.metric(best.1))"
        var comparisons: [String] = []
        for reference in [raw, baseline].compactMap({ $0 }) where reference.name != best.0.name {
            if let other = value(reference) {
                comparisons.append("\(Self.difference(best.1, over: other)) over \(reference.label) (\(Self.metric(other)))")
            }
        }
        if comparisons.isEmpty, let runnerUp = scored.filter({ $0.0.name != best.0.name }).max(by: { $0.1 < $1.1 }) {
            comparisons.append("\(Self.difference(best.1, over: runnerUp.1)) over \(runnerUp.0.label) (\(Self.metric(runnerUp.1)))")
        }
        text += comparisons.isEmpty ? "." : ": " + comparisons.joined(separator: " and ") + "."
        if best.0.name == rawName { text += " No trained method beats the raw features here." }
        return [text]
    }

    func learningSpeedSentences() -> [String] {
        guard let baseline else { return [] }
        guard let curve = baseline.training?.validationMAP, let target = curve.finalValue, let last = curve.finalStep else {
            return trained.isEmpty ? [] : ["\(baseline.label) has no validation curve, so the steps to reach its final validation MAP are unknown."]
        }
        var sentences: [String] = []
        for method in trained where method.name != baseline.name {
            switch stepsToReach(method) {
            case .reached(let step):
                let ratio = step > 0 ? String(format: ", %.1f× fewer", Double(last) / Double(step)) : ""
                sentences.append("\(method.label) reached \(baseline.label)'s final validation MAP (\(Self.metric(target)) at step \(last)) after \(step) steps\(step <= last ? ratio : "").")
            case .notReached(let lastStep):
                let final = Self.metric(method.training?.validationMAP?.finalValue)
                sentences.append("\(method.label) did not reach \(baseline.label)'s final validation MAP (\(Self.metric(target))) within its \(lastStep) logged steps (its final validation MAP: \(final)).")
            case .unknown:
                sentences.append("\(method.label) has no validation curve to compare with \(baseline.label)'s.")
            }
        }
        return sentences
    }

    func treeSentences() -> [String] {
        guard let tree, let first = tree.first, let last = tree.last else { return [] }
        var text = "The tree has \(tree.count) level\(tree.count == 1 ? "" : "s"): \(first.clusters) clusters (median size \(Self.median(first.medianSize)), largest \(Self.integer(first.maximumSize))) at level 1"
        if tree.count > 1 { text += " down to \(last.clusters) at level \(last.level) (largest \(Self.integer(last.maximumSize)))" }
        text += "."
        var sentences = [text]
        if hasTruth {
            let matches = TreeStatistics.truthKinds.compactMap { kind -> String? in
                guard let best = tree.max(by: { ($0.nmi[kind] ?? -1) < ($1.nmi[kind] ?? -1) }), let nmi = best.nmi[kind] else { return nil }
                return "the latent \(kind) best at level \(best.level) (NMI \(String(format: "%.3f", nmi)), ARI \(String(format: "%.3f", best.ari[kind] ?? .nan)))"
            }
            if !matches.isEmpty { sentences.append("Against the truth, the tree matches " + matches.joined(separator: ", ") + ".") }
        }
        return sentences
    }

    // MARK: Markdown

    public func markdown(learningCurves: Bool, lossCurves: Bool, levelSizes: Bool) -> String {
        var out: [String] = []
        out.append("# \(title)")
        out.append("")
        out.append("Run `\(runDirectory)`, generated by \(generatedBy) (gcml \(Artifact.version)) at \(Provenance.timestamp()).")
        out.append("")
        out.append("## Summary")
        out.append("")
        let summary = summary()
        out.append(summary.isEmpty ? "No results were found in this run." : summary)
        out.append("")
        out.append("## Comparison")
        out.append("")
        let k = ndcgK
        out.append("| Method | MAP | NDCG@\(k) | MAP (full corpus) | NDCG@\(k) (full corpus) | GAP | MAP (annotation) | Hit@1 | Hit@5 | Training steps | Wall time |")
        out.append("|---|" + String(repeating: Self.numberColumnRule, count: 10))
        for m in methods {
            let cells = [m.label, Self.metric(m.retrieval?.map), Self.metric(m.retrieval?.ndcg), Self.metric(m.retrievalAll?.map),
                         Self.metric(m.retrievalAll?.ndcg), Self.metric(m.annotation?.gap), Self.metric(m.annotation?.map),
                         Self.metric(m.annotation?.hitAt1), Self.metric(m.annotation?.hitAt5),
                         Self.integer(m.training?.steps), Self.duration(m.training?.wallSeconds)]
            out.append("| " + cells.joined(separator: " | ") + " |")
        }
        out.append("")
        out.append("MAP and NDCG@\(k): related-video retrieval of held-out co-watch edges among sampled candidates, or among the whole corpus (full corpus). GAP, MAP (annotation), Hit@1 and Hit@5: video annotation with a classifier on the embeddings. \(Self.dash): not available.")
        out.append("")
        out.append("## Learning speed")
        out.append("")
        let target = Self.metric(baseline?.training?.validationMAP?.finalValue)
        out.append("| Method | Validation MAP (final) | Last validated step | Steps to reach \(baseline?.label ?? baselineName)'s final validation MAP (\(target)) |")
        out.append("|---|---:|---:|---:|")
        for m in methods where m.training != nil {
            let curve = m.training?.validationMAP
            out.append("| \(m.label) | \(Self.metric(curve?.finalValue)) | \(Self.integer(curve?.finalStep)) | \(Self.steps(stepsToReach(m))) |")
        }
        if trained.isEmpty { out.append("| \(Self.dash) | \(Self.dash) | \(Self.dash) | \(Self.dash) |") }
        out.append("")
        out.append("Steps are read at the validation checkpoints (the first checkpoint at or above the target).")
        out.append("")
        out.append(learningCurves ? "![learning curves](\(Self.learningCurvesFile))" : "No validation curves were logged (train with validation to get them).")
        out.append("")
        if lossCurves { out.append("![training loss](\(Self.lossCurvesFile))"); out.append("") }
        out.append("## Cluster tree")
        out.append("")
        if let tree {
            var header = "| Level | Clusters | Min size | Median size | Max size |"
            var rule = "|---:|---:|---:|---:|---:|"
            if hasTruth {
                for kind in TreeStatistics.truthKinds { header += " NMI \(kind) |"; rule += Self.numberColumnRule }
                for kind in TreeStatistics.truthKinds { header += " ARI \(kind) |"; rule += Self.numberColumnRule }
            }
            out.append(header)
            out.append(rule)
            for level in tree {
                var row = "| \(level.level) | \(level.clusters) | \(Self.integer(level.minimumSize)) | \(Self.median(level.medianSize)) | \(Self.integer(level.maximumSize)) |"
                if hasTruth {
                    for kind in TreeStatistics.truthKinds { row += " \(level.nmi[kind].map { String(format: "%.3f", $0) } ?? Self.dash) |" }
                    for kind in TreeStatistics.truthKinds { row += " \(level.ari[kind].map { String(format: "%.3f", $0) } ?? Self.dash) |" }
                }
                out.append(row)
            }
            out.append("")
            out.append(hasTruth ? "NMI (arithmetic normalisation) and ARI of each level's clusters against the latent truth of `\(truthPath ?? "truth.h5")`."
                                : "No truth.h5: NMI and ARI against the latent truth are \(Self.dash).")
            out.append("")
            if levelSizes { out.append("![level sizes](\(Self.levelSizesFile))"); out.append("") }
        } else {
            out.append("No tree.h5 in this run: tree statistics are \(Self.dash).")
            out.append("")
        }
        return out.joined(separator: "\n")
    }

    // MARK: charts

    func curveSeries(_ curve: (TrainingCurves) -> LearningCurve?) -> [SVGChart.Series] {
        trained.map { m in
            let c = m.training.flatMap(curve)
            return SVGChart.Series(name: m.label, points: c.map { zip($0.steps, $0.values).map { (Double($0), $1) } } ?? [])
        }
    }

    /// Validation MAP against step, one polyline per trained method; nil when no method logged validation.
    public func learningCurvesSVG() -> String? {
        let series = curveSeries { $0.validationMAP }
        guard series.contains(where: { !$0.points.isEmpty }) else { return nil }
        return SVGChart.lineChart(title: "Validation MAP", xLabel: "training step", yLabel: "MAP", series: series)
    }

    /// Training loss against step, one polyline per trained method.
    public func lossCurvesSVG() -> String? {
        let series = curveSeries { $0.loss }
        guard series.contains(where: { !$0.points.isEmpty }) else { return nil }
        return SVGChart.lineChart(title: "Training loss", xLabel: "training step", yLabel: "loss", series: series)
    }

    /// Log-binned cluster sizes, one bar series per level.
    public func levelSizesSVG() -> String? {
        guard let tree, !tree.isEmpty else { return nil }
        let histograms = tree.map { $0.sizeHistogram() }
        let bins = histograms.map(\.count).max() ?? 0
        guard bins > 0 else { return nil }
        return SVGChart.barChart(title: "Cluster sizes per level", xLabel: "cluster size (videos; bin b holds sizes 2^b to 2^(b+1)−1)", yLabel: "clusters (log scale)",
                                 categories: (0..<bins).map(TreeLevelStatistics.binLabel),
                                 seriesNames: tree.map { "level \($0.level)" },
                                 values: histograms.map { h in (0..<bins).map { $0 < h.count ? Double(h[$0]) : 0 } }, logScale: true)
    }

    // MARK: JSON

    public func json() -> [String: Any] {
        func value(_ x: Double?) -> Any { x.map { $0.isFinite ? $0 as Any : NSNull() } ?? NSNull() }
        func value(_ x: Int?) -> Any { x.map { $0 as Any } ?? NSNull() }
        let methodObjects: [[String: Any]] = methods.map { m in
            func retrieval(_ r: RetrievalSummary?) -> Any {
                guard let r else { return NSNull() }
                return ["map": r.map, "ndcg": r.ndcg, "k": value(r.k), "queries": r.queries]
            }
            var object: [String: Any] = ["name": m.name, "label": m.label, "folder": m.folder, "missing": m.missing,
                                         "retrieval": retrieval(m.retrieval), "retrieval_full_corpus": retrieval(m.retrievalAll)]
            if let a = m.annotation {
                object["annotation"] = ["gap": a.gap, "map": a.map, "hit_at_1": a.hitAt1, "hit_at_5": a.hitAt5, "perr": a.perr]
            } else {
                object["annotation"] = NSNull()
            }
            if let t = m.training {
                let reach = stepsToReach(m)
                var reachValue: Any = NSNull()
                if case .reached(let s) = reach { reachValue = s } else if case .notReached = reach { reachValue = "not reached" }
                object["training"] = ["steps": value(t.steps), "wall_seconds": value(t.wallSeconds),
                                      "final_loss": value(t.loss.finalValue),
                                      "final_validation_map": value(t.validationMAP?.finalValue),
                                      "validation_steps": t.validationMAP?.steps ?? [], "validation_map": t.validationMAP?.values ?? [],
                                      "steps_to_baseline_final_validation_map": reachValue]
            } else {
                object["training"] = NSNull()
            }
            return object
        }
        var result: [String: Any] = ["title": title, "run_dir": runDirectory, "baseline": baselineName,
                                     "baseline_final_validation_map": value(baseline?.training?.validationMAP?.finalValue),
                                     "methods": methodObjects, "summary": summary(), "created_by": "\(generatedBy) (gcml \(Artifact.version))"]
        if let tree {
            result["tree"] = tree.map { level -> [String: Any] in
                ["level": level.level, "clusters": level.clusters, "size_min": value(level.minimumSize),
                 "size_median": value(level.medianSize), "size_max": value(level.maximumSize),
                 "size_histogram_log2": level.sizeHistogram(), "nmi": level.nmi, "ari": level.ari]
            }
        } else {
            result["tree"] = NSNull()
        }
        return result
    }

    // MARK: writing

    /// Writes the Markdown report to `path`, and next to it `<name>.json` and the SVG charts; each file atomically.
    public func write(to path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        let directory = folder.isEmpty ? "." : folder
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func save(_ text: String, _ name: String) throws {
            let target = (directory as NSString).appendingPathComponent(name)
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: target), options: .atomic)
            } catch {
                throw GCMLError("\(target): could not write: \(error.localizedDescription)")
            }
        }
        let learning = learningCurvesSVG(), loss = lossCurvesSVG(), sizes = levelSizesSVG()
        if let learning { try save(learning, Self.learningCurvesFile) }
        if let loss { try save(loss, Self.lossCurvesFile) }
        if let sizes { try save(sizes, Self.levelSizesFile) }
        let jsonPath = ((path as NSString).deletingPathExtension) + ".json"
        do { try JSON.write(json(), to: jsonPath) } catch { throw GCMLError("\(jsonPath): could not write: \(error.localizedDescription)") }
        try save(markdown(learningCurves: learning != nil, lossCurves: loss != nil, levelSizes: sizes != nil),
                 (path as NSString).lastPathComponent)
    }
}
