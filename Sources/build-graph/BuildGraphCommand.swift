import ArgumentParser
import Artifacts
import Contracts
import Foundation
import Graphs
import Support

extension EdgeWeighting: ExpressibleByArgument {}

@main
struct BuildGraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build-graph",
        abstract: "Build the relational graph (videos, co-watch edges) with held-out edges and cold-start videos.",
        discussion: """
        Reads gcml.features/1 (for the video rows) and one source of edges: co-watch sessions, \
        weighted pairs, or an exact cosine kNN over the features. Inputs may be plain, gzip or zstd. \
        Writes gcml.graph/1. See docs/build-graph.md.
        """)

    @Option(help: "Features (gcml.features/1): /video_id defines the rows; /visual is used by --knn.") var features: String
    @Option(help: "Sessions: session_id<TAB>video_id[<TAB>timestamp] per line, in watch order.") var sessions: String?
    @Option(help: "Pairs: a<TAB>b[<TAB>weight] per line.") var pairs: String?
    @Option(help: "Content graph: the K most cosine-similar videos of each video (no interaction data).") var knn: Int?
    @Option(help: "Output graph (gcml.graph/1).") var out: String
    @Option(help: "Co-watch window: videos within this many consecutive watches of a session are paired.") var window = 5
    @Option(help: "Edge weight from summed counts: count, log1p or pmi (positive PMI).") var weighting: EdgeWeighting = .count
    @Option(help: "Drop edges lighter than this (after weighting).") var minWeight: Float = 0
    @Option(help: "Keep an edge only if it is among the K heaviest of one of its endpoints.") var topK: Int?
    @Option(help: "Fraction of videos held out as cold-start queries (stable hash of the id).") var holdoutNodes = 0.1
    @Option(help: "Fraction of the remaining edges held out for evaluation (stable hash of the two ids).") var holdoutEdges = 0.0
    @Option(help: "Salt of the hold-out hashes.") var seed: UInt64 = 0
    @Option(help: "Worker threads (kNN).") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Count and skip malformed lines instead of stopping at the first.") var skipMalformed = false

    func validate() throws {
        let sources = [sessions != nil, pairs != nil, knn != nil].filter { $0 }.count
        guard sources == 1 else { throw ValidationError("give exactly one of --sessions, --pairs, --knn") }
        guard window >= 2 else { throw ValidationError("--window must be at least 2 (found \(window))") }
        if let knn, knn < 1 { throw ValidationError("--knn must be at least 1") }
        if let topK, topK < 1 { throw ValidationError("--top-k must be at least 1") }
        guard minWeight.isFinite else { throw ValidationError("--min-weight must be finite") }
        guard (0...1).contains(holdoutNodes), (0...1).contains(holdoutEdges) else {
            throw ValidationError("--holdout-nodes and --holdout-edges are fractions in [0, 1]")
        }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let rows = knn != nil ? try FeatureTable.read(features, audio: false)
            : FeatureTable(videoIDs: try FeatureTable.readVideoIDs(features), visual: [], visualWidth: 0, audio: nil, audioWidth: 0)
        let edges: UndirectedEdges, report: InteractionReport, source: String
        if let knn {
            (edges, report, source) = (ContentKNN.graph(rows, k: knn, threads: threads), InteractionReport(), features)
        } else {
            let index = try VideoIndex(ids: rows.videoIDs, source: features)
            source = sessions ?? pairs!
            let counted = try sessions.map { try Interactions.countSessions(path: $0, index: index, window: window, skipMalformed: skipMalformed) }
                ?? Interactions.countPairs(path: source, index: index, skipMalformed: skipMalformed)
            report = counted.report
            if let warning = report.unmappedWarning { note(warning) }
            if report.malformedLines > 0 {
                note("warning: skipped \(report.malformedLines) malformed line(s), the first at line \(report.firstMalformedLine ?? 0)")
            }
            guard report.idsMapped > 0 else {
                throw GCMLError(file: source, expected: "video ids found in \(features)",
                                found: "none of \(report.idsUnmapped) id occurrence(s) (e.g. \(report.unmappedExamples.joined(separator: ", ")))")
            }
            edges = UndirectedEdges.from(counted.pairs, nodes: rows.videoIDs.count, weighting: weighting)
        }
        let assembly = GraphAssembly(minWeight: minWeight, topK: topK,
                                     holdOut: HoldOut(nodeFraction: holdoutNodes, edgeFraction: holdoutEdges, seed: seed))
        let (graph, statistics) = try assembly.assemble(edges, videoIDs: rows.videoIDs, report: report, source: source)
        try Artifact.write(out, schema: .graph, createdBy: "build-graph", parameters: self, inputs: [features, source].uniqued()) { file in
            try graph.write(to: file)
            try statistics.write(to: file)
        }
        print(statistics.table)
    }
}

extension Array where Element == String {
    fileprivate func uniqued() -> [String] { reduce(into: []) { if !$0.contains($1) { $0.append($1) } } }
}
