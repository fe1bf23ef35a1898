import ArgumentParser
import Foundation
import Reporting
import StageKit
import Support

@main
struct AblationReportCommand: Stage {
    static let configuration = CommandConfiguration(
        commandName: "gcml-ablation-report",
        abstract: "Aggregate repeated training runs (seeds) into the ablation report: mean ± std tables, paired comparisons, plots.",
        discussion: """
            Reads the manifest `make ablation` writes (run / compare / note / axis records, tab-separated; see docs/ablation.md) \
            and each run's model.h5, retrieval.h5 and retrieval-all.h5. Writes --out (Markdown), the same name with .json, \
            and SVG plots next to it.
            """)

    @Option(help: "Ablation manifest (tab-separated run/compare/note/axis records).") var manifest: String
    @Option(help: "Report to write (default: report.md beside the manifest).") var out: String?
    @Option(help: "Report title.") var title = "gcml ablation report"
    @Option(help: "Steps to target: the first validation at or above this fraction of the best configuration's mean final validation MAP.")
    var targetFraction = LearningSpeed.defaultFraction
    @Option(help: "Call a configuration better only when the mean seed-paired difference exceeds this many standard errors.")
    var threshold = 2.0

    func validate() throws {
        guard targetFraction > 0, targetFraction <= 1 else { throw ValidationError("--target-fraction must be in (0, 1], found \(targetFraction)") }
    }

    func execute() throws {
        let parsed = try AblationManifest.read(manifest)
        var report = try AblationReport.read(manifest: parsed, title: title, targetFraction: targetFraction, threshold: threshold)
        report.generatedBy = Self.stageName
        let path = out ?? ((manifest as NSString).deletingLastPathComponent as NSString).appendingPathComponent("report.md")
        try report.write(to: path)
        print("\(Self.stageName): wrote \(path)")
        print(report.summary())
    }
}
