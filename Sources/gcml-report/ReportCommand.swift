import ArgumentParser
import Foundation
import Reporting
import StageKit
import Support

@main
struct ReportCommand: Stage {
    static let configuration = CommandConfiguration(
        commandName: "gcml-report",
        abstract: "Write the comparison report of a run: metrics table, learning speed, tree statistics, SVG charts.",
        discussion: """
            Each method is a folder holding some of retrieval.h5 (gcml.eval.retrieval/1), retrieval-all.h5, \
            annotation.h5 (gcml.eval.annotation/1) and model.h5 (gcml.model/1); by default the folders gcml, \
            cdml, cluster and raw of --run-dir. Reads gcml.tree/1 and gcml.truth/1 when present. Missing files \
            show as — in the report. Writes --out (Markdown), the same name with .json, and learning_curves.svg, \
            learning_curves_full_corpus.svg, training_loss.svg, mining.svg and level_sizes.svg next to it. See docs/report.md.
            """)

    /// `--method NAME=DIR`.
    struct Method: ExpressibleByArgument {
        var name: String, folder: String
        init?(argument: String) {
            guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex,
                  argument.index(after: equals) != argument.endIndex else { return nil }
            (name, folder) = (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
        }
        init(name: String, folder: String) { (self.name, self.folder) = (name, folder) }
    }

    @Option(help: "Run folder holding one subfolder per method (and tree.h5, truth.h5 by default).") var runDir: String
    @Option(help: "Report to write (default: <run-dir>/report.md).") var out: String?
    @Option(name: .customLong("method"), parsing: .singleValue,
            help: "NAME=DIR: a method and its folder (repeatable; replaces the default gcml, cdml, cluster, raw).")
    var methods: [Method] = []
    @Option(help: "Cluster tree (gcml.tree/1); default <run-dir>/tree.h5 when present.") var tree: String?
    @Option(help: "Latent truth (gcml.truth/1) for NMI/ARI; default <run-dir>/truth.h5 when present.") var truth: String?
    @Option(help: "Report title.") var title = "gcml comparison report"
    @Option(help: "Baseline triplet method: speed-up = its steps to the target / the contender's.") var baseline = "cdml"
    @Option(help: "Triplet method measured against the baseline.") var contender = "gcml"
    @Option(help: "Learning-speed target: this fraction of the better final validation MAP of contender and baseline.")
    var targetFraction = LearningSpeed.defaultFraction
    @Option(help: "Untrained method the others are compared with.") var raw = "raw"

    static let defaultMethods = ["gcml", "cdml", "cluster", "raw"]

    func validate() throws {
        guard targetFraction > 0, targetFraction <= 1 else { throw ValidationError("--target-fraction must be in (0, 1], found \(targetFraction)") }
    }

    func execute() throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: runDir, isDirectory: &isFolder), isFolder.boolValue else {
            throw GCMLError(file: runDir, expected: "a run folder", found: "no such folder")
        }
        let chosen = methods.isEmpty ? Self.defaultMethods.map { Method(name: $0, folder: runDir + "/" + $0) } : methods
        let results = try chosen.map { try MethodResults.read(name: $0.name, folder: $0.folder) }
        let treePath = tree ?? existing(runDir + "/tree.h5")
        let truthPath = truth ?? existing(runDir + "/truth.h5")
        if truthPath != nil && treePath == nil { note("truth given but no tree: NMI/ARI skipped") }
        let levels = try treePath.map { try TreeStatistics.read(treePath: $0, truthPath: truthPath) }
        var report = ComparisonReport(title: title, runDirectory: runDir, methods: results, baselineName: baseline, contenderName: contender,
                                      targetFraction: targetFraction, rawName: raw,
                                      tree: levels, treePath: treePath, truthPath: truthPath)
        report.generatedBy = Self.stageName
        let path = out ?? runDir + "/report.md"
        try report.write(to: path)
        print("\(Self.stageName): wrote \(path)")
        print(report.summary())
    }

    func existing(_ path: String) -> String? { FileManager.default.fileExists(atPath: path) ? path : nil }
}
