import ArgumentParser
import Foundation
import Reporting
import Support

@main
struct AblationReportCommand: ParsableCommand {
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

    func run() throws {
        guard targetFraction > 0, targetFraction <= 1 else {
            throw GCMLError(file: "--target-fraction", expected: "a fraction in (0, 1]", found: String(targetFraction))
        }
        let parsed = try AblationManifest.read(manifest)
        let report = try AblationReport.read(manifest: parsed, title: title, targetFraction: targetFraction, threshold: threshold)
        let path = out ?? ((manifest as NSString).deletingLastPathComponent as NSString).appendingPathComponent("report.md")
        try report.write(to: path)
        print("gcml-ablation-report: wrote \(path)")
        print(report.summary())
    }
}
