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
    /// The baseline triplet method (CDML): speed-ups are its steps over the contender's.
    public var baselineName: String
    /// The triplet method measured against the baseline (GCML).
    public var contenderName: String
    /// Learning speed is measured to this fraction of the better final validation MAP of contender and baseline.
    public var targetFraction: Double
    /// The no-training method that learned methods are compared with.
    public var rawName: String
    /// Per-level tree statistics; nil when no tree was given.
    public var tree: [TreeLevelStatistics]?
    public var treePath: String?
    public var truthPath: String?
    /// The program named as the report's author (the stage sets its own name).
    public var generatedBy = "gcml"

    public init(title: String, runDirectory: String, methods: [MethodResults], baselineName: String = "cdml", contenderName: String = "gcml",
                targetFraction: Double = LearningSpeed.defaultFraction, rawName: String = "raw",
                tree: [TreeLevelStatistics]? = nil, treePath: String? = nil, truthPath: String? = nil) {
        self.title = title
        self.runDirectory = runDirectory
        self.methods = methods
        self.baselineName = baselineName
        self.contenderName = contenderName
        self.targetFraction = targetFraction
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
    public static let fullCorpusCurvesFile = "learning_curves_full_corpus.svg"
    public static let miningFile = "mining.svg"

    var baseline: MethodResults? { methods.first { $0.name == baselineName } }
    var contender: MethodResults? { methods.first { $0.name == contenderName } }
    var raw: MethodResults? { methods.first { $0.name == rawName } }
    var trained: [MethodResults] { methods.filter { $0.training != nil } }
    var hasTruth: Bool { tree?.contains { !$0.nmi.isEmpty } ?? false }

    /// Contender against baseline on one validation measure, to their common target.
    public func learningSpeed(_ measure: ValidationMeasure) -> LearningSpeed {
        LearningSpeed(method: contender?.training?.validation(measure), baseline: baseline?.training?.validation(measure),
                      fraction: targetFraction)
    }

    /// Steps a method needed to reach the common target of `measure` (any trained method, cluster included).
    public func stepsToTarget(_ method: MethodResults, _ measure: ValidationMeasure) -> StepsToReach {
        StepsToReach.compute(method.training?.validation(measure), target: learningSpeed(measure).target)
    }

    /// The validation measures some trained method logged; the full-corpus one is left out when it equals the
    /// sampled one for every method (small corpora, where the sampled candidates are already the whole corpus).
    var measures: [ValidationMeasure] {
        let logged = ValidationMeasure.allCases.filter { measure in trained.contains { $0.training?.validation(measure) != nil } }
        return measuresCoincide ? logged.filter { $0 != .fullCorpus } : logged
    }

    /// Equal up to float rounding (the two measures sum in different orders: 1e-6 apart on the tiny corpus).
    var measuresCoincide: Bool {
        func same(_ a: LearningCurve?, _ b: LearningCurve?) -> Bool {
            guard let a, let b else { return a == nil && b == nil }
            return a.steps == b.steps && zip(a.values, b.values).allSatisfy { abs($0 - $1) <= 1e-4 }
        }
        return trained.contains { $0.training?.validationMAPFullCorpus != nil }
            && trained.allSatisfy { same($0.training?.validationMAPFullCorpus, $0.training?.validationMAP) }
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
    static func percent(_ value: Double?) -> String { value.map { String(format: "%.1f %%", $0 * 100) } ?? dash }
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
        if methods.filter({ $0.retrieval != nil || $0.annotation != nil }).count > 1 {
            sentences.append("These are one seed's numbers: differences of a few thousandths may be seed noise (`make ablation` repeats the training over seeds and tests them).")
        }
        sentences += learningSpeedSentences()
        sentences += miningSentences()
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
        guard let contender, let baseline, contender.training != nil || baseline.training != nil else { return [] }
        let logged = measures
        if logged.isEmpty { return ["No validation curves were logged, so learning speed is not compared."] }
        return logged.map { measure in
            learningSpeed(measure).sentence(method: contender.label, baseline: baseline.label, measure: measure.label)
        }
    }

    /// Mining statistics of the triplet methods over the last logged window.
    func miningSentences() -> [String] {
        let rows = trained.compactMap { m -> String? in
            guard let t = m.training, let chosen = t.presampledNegativeChosen?.finalValue, let active = t.activeFraction?.finalValue else { return nil }
            return String(format: "%@ %.1f %% (active triplets %.1f %%)", m.label, chosen * 100, active * 100)
        }
        guard !rows.isEmpty else { return [] }
        return ["In the last logged window, in-batch mining kept each triplet's own pre-sampled negative for " + rows.joined(separator: "; ") + "."]
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

    public func markdown(learningCurves: Bool, lossCurves: Bool, levelSizes: Bool, fullCorpusCurves: Bool = false, miningChart: Bool = false) -> String {
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
        if let queries = queriesSentence() {
            out.append(queries)
            out.append("")
        }
        out.append("## Learning speed")
        out.append("")
        if measures.isEmpty {
            out.append("No validation curves were logged (train with validation to get them).")
            out.append("")
        }
        if measuresCoincide {
            out.append("The full-corpus validation equals the sampled one here: on a corpus of at most 3000 videos the validation already ranks the whole corpus.")
            out.append("")
        }
        for measure in measures {
            let speed = learningSpeed(measure)
            let percent = String(format: "%.0f %%", targetFraction * 100)
            out.append("### \(measure.label.prefix(1).uppercased() + measure.label.dropFirst())")
            out.append("")
            out.append("Target: \(percent) of the better final value of \(contender?.label ?? contenderName) and \(baseline?.label ?? baselineName) = \(Self.metric(speed.target)).")
            out.append("")
            out.append("| Method | Final | Last validated step | Steps to target |")
            out.append("|---|---:|---:|---:|")
            for m in trained {
                let curve = m.training?.validation(measure)
                out.append("| \(m.label) | \(Self.metric(curve?.finalValue)) | \(Self.integer(curve?.finalStep)) | \(Self.steps(stepsToTarget(m, measure))) |")
            }
            out.append("")
            out.append(speed.sentence(method: contender?.label ?? contenderName, baseline: baseline?.label ?? baselineName, measure: measure.label))
            out.append("")
        }
        out.append("Steps are read at the validation checkpoints (the first checkpoint at or above the target); speed-up = \(baseline?.label ?? baselineName)'s steps / \(contender?.label ?? contenderName)'s steps.")
        out.append("")
        if learningCurves { out.append("![validation MAP, sampled candidates](\(Self.learningCurvesFile))"); out.append("") }
        if fullCorpusCurves { out.append("![validation MAP, full corpus](\(Self.fullCorpusCurvesFile))"); out.append("") }
        if lossCurves { out.append("![training loss](\(Self.lossCurvesFile))"); out.append("") }
        out += miningMarkdown(chart: miningChart)
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

    /// The mining statistics table: last window and mean over the run, per triplet method.
    func miningMarkdown(chart: Bool) -> [String] {
        let mined = trained.filter { $0.training?.presampledNegativeChosen != nil }
        guard !mined.isEmpty else { return [] }
        var out = ["## Mining statistics", ""]
        out.append("| Method | Own negative chosen (last window) | (mean over run) | Active triplets (last window) | (mean over run) | Anchor–negative distance (last window) | (mean over run) |")
        out.append("|---|---:|---:|---:|---:|---:|---:|")
        func mean(_ c: LearningCurve?) -> Double? { c.flatMap { $0.values.isEmpty ? nil : $0.values.reduce(0, +) / Double($0.values.count) } }
        for m in mined {
            let t = m.training!
            out.append("| \(m.label) | \(Self.percent(t.presampledNegativeChosen?.finalValue)) | \(Self.percent(mean(t.presampledNegativeChosen))) | \(Self.percent(t.activeFraction?.finalValue)) | \(Self.percent(mean(t.activeFraction))) | \(Self.metric(t.anchorNegativeDistance?.finalValue)) | \(Self.metric(mean(t.anchorNegativeDistance))) |")
        }
        out.append("")
        out.append("Own negative chosen: share of triplets for which in-batch mining kept the triplet's own pre-sampled negative (with mining off, or when no batch video qualifies, that is every triplet). Active: share of triplets with a non-zero hinge loss. Distance: mean Euclidean distance between anchor and chosen negative embeddings (unit vectors, 0 to 2). Means over each logged window of training steps.")
        out.append("")
        if chart { out.append("![mining statistics](\(Self.miningFile))"); out.append("") }
        return out
    }

    // MARK: charts

    func curveSeries(_ curve: (TrainingCurves) -> LearningCurve?) -> [SVGChart.Series] {
        trained.map { m in
            let c = m.training.flatMap(curve)
            return SVGChart.Series(name: m.label, points: c.map { zip($0.steps, $0.values).map { (Double($0), $1) } } ?? [])
        }
    }

    /// Validation MAP against step, one polyline per trained method; nil when no method logged validation.
    public func learningCurvesSVG(_ measure: ValidationMeasure = .sampled) -> String? {
        let series = curveSeries { $0.validation(measure) }
        guard series.contains(where: { !$0.points.isEmpty }) else { return nil }
        let title = measure == .sampled ? "Validation MAP, held-out queries, sampled candidates" : "Validation MAP, held-out queries ranked against the full corpus"
        return SVGChart.lineChart(title: title, xLabel: "training step", yLabel: measure.label, series: series)
    }

    /// Share of triplets whose own pre-sampled negative mining kept, against step.
    public func miningSVG() -> String? {
        let series = curveSeries { $0.presampledNegativeChosen }.filter { !$0.points.isEmpty }
        guard !series.isEmpty else { return nil }
        return SVGChart.lineChart(title: "In-batch mining: own pre-sampled negative chosen", xLabel: "training step",
                                  yLabel: "share of triplets (0–1, per logged window)", series: series)
    }

    /// Training loss against step, one polyline per trained method.
    public func lossCurvesSVG() -> String? {
        let series = curveSeries { $0.loss }
        guard series.contains(where: { !$0.points.isEmpty }) else { return nil }
        return SVGChart.lineChart(title: "Training loss", xLabel: "training step", yLabel: "mean loss per logged window", series: series)
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

    /// How many queries each retrieval evaluation used, saying when they were a seeded sample.
    func queriesSentence() -> String? {
        func describe(_ scores: [RetrievalSummary], _ what: String) -> String? {
            guard !scores.isEmpty else { return nil }
            let sampled = scores.filter { ($0.eligibleQueries ?? $0.queries) > $0.queries }
            let counts = Set(scores.map { score in
                score.eligibleQueries.map { $0 > score.queries ? "\(score.queries) of \($0)" : "\(score.queries)" } ?? "\(score.queries)"
            })
            return "\(what): \(counts.sorted().joined(separator: ", ")) queries"
                + (sampled.isEmpty ? "" : " (a seeded uniform sample of the eligible queries)")
        }
        let parts = [describe(methods.compactMap(\.retrieval), "sampled candidates"),
                     describe(methods.compactMap(\.retrievalAll), "full corpus")].compactMap { $0 }
        return parts.isEmpty ? nil : "Queries per retrieval evaluation — " + parts.joined(separator: "; ") + "."
    }

    // MARK: JSON

    public func json() -> [String: Any] {
        func value(_ x: Double?) -> Any { x.map { $0.isFinite ? $0 as Any : NSNull() } ?? NSNull() }
        func value(_ x: Int?) -> Any { x.map { $0 as Any } ?? NSNull() }
        let methodObjects: [[String: Any]] = methods.map { m in
            func retrieval(_ r: RetrievalSummary?) -> Any {
                guard let r else { return NSNull() }
                return ["map": r.map, "ndcg": r.ndcg, "k": value(r.k), "queries": r.queries, "eligible_queries": value(r.eligibleQueries)]
            }
            var object: [String: Any] = ["name": m.name, "label": m.label, "folder": m.folder, "missing": m.missing,
                                         "retrieval": retrieval(m.retrieval), "retrieval_full_corpus": retrieval(m.retrievalAll)]
            if let a = m.annotation {
                object["annotation"] = ["gap": a.gap, "map": a.map, "hit_at_1": a.hitAt1, "hit_at_5": a.hitAt5, "perr": a.perr]
            } else {
                object["annotation"] = NSNull()
            }
            if let t = m.training {
                func reach(_ measure: ValidationMeasure) -> Any {
                    switch stepsToTarget(m, measure) {
                    case .reached(let s): return s
                    case .notReached: return "not reached"
                    case .unknown: return NSNull()
                    }
                }
                func curve(_ c: LearningCurve?) -> Any { c.map { ["steps": $0.steps, "values": $0.values] as [String: Any] } ?? NSNull() }
                object["training"] = ["steps": value(t.steps), "wall_seconds": value(t.wallSeconds),
                                      "final_loss": value(t.loss.finalValue),
                                      "final_validation_map": value(t.validationMAP?.finalValue),
                                      "final_validation_map_full_corpus": value(t.validationMAPFullCorpus?.finalValue),
                                      "validation_steps": t.validationMAP?.steps ?? [], "validation_map": t.validationMAP?.values ?? [],
                                      "validation_map_full_corpus": t.validationMAPFullCorpus?.values ?? [],
                                      "steps_to_target": reach(.sampled), "steps_to_target_full_corpus": reach(.fullCorpus),
                                      "presampled_negative_chosen": curve(t.presampledNegativeChosen),
                                      "active_fraction": curve(t.activeFraction),
                                      "anchor_negative_distance": curve(t.anchorNegativeDistance)]
            } else {
                object["training"] = NSNull()
            }
            return object
        }
        func speed(_ measure: ValidationMeasure) -> Any {
            let s = learningSpeed(measure)
            func steps(_ r: StepsToReach) -> Any {
                switch r { case .reached(let x): return x; case .notReached: return "not reached"; case .unknown: return NSNull() }
            }
            return ["target": value(s.target), "fraction": s.fraction, "contender_steps": steps(s.method), "baseline_steps": steps(s.baseline),
                    "speed_up": value(s.speedUp)] as [String: Any]
        }
        var result: [String: Any] = ["title": title, "run_dir": runDirectory, "baseline": baselineName, "contender": contenderName,
                                     "learning_speed": ["sampled": speed(.sampled), "full_corpus": speed(.fullCorpus)],
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
        let files = try ReportFiles(reportPath: path)
        let save = files.save
        let learning = learningCurvesSVG(), loss = lossCurvesSVG(), sizes = levelSizesSVG()
        let full = measuresCoincide ? nil : learningCurvesSVG(.fullCorpus), mining = miningSVG()
        if let learning { try save(learning, Self.learningCurvesFile) }
        if let full { try save(full, Self.fullCorpusCurvesFile) }
        if let mining { try save(mining, Self.miningFile) }
        if let loss { try save(loss, Self.lossCurvesFile) }
        if let sizes { try save(sizes, Self.levelSizesFile) }
        try files.saveJSON(json())
        try save(markdown(learningCurves: learning != nil, lossCurves: loss != nil, levelSizes: sizes != nil,
                          fullCorpusCurves: full != nil, miningChart: mining != nil), files.reportName)
    }
}
