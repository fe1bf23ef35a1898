import ArgumentParser
import Artifacts
import Contracts
import Graphs
import Interactions
import StageKit
import Support

@main
struct BuildGraphCommand: Stage {
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
    @Option(help: "Keep an edge only if it is among the K heaviest edges of one of its endpoints.") var topEdges: Int?
    @Option(help: "Fraction of videos held out as cold-start queries (stable hash of the id).") var holdoutNodes = 0.1
    @Option(help: "Fraction of the remaining edges held out for evaluation (stable hash of the two ids).") var holdoutEdges = 0.0
    @OptionGroup var seed: SeedOption<SeedZero>
    @OptionGroup var threads: ThreadsOption
    @Flag(help: "Count and skip malformed lines instead of stopping at the first.") var skipMalformed = false
    @Option(name: .customLong("top-k"), help: .hidden) var oldTopEdges: Int?

    static let parameterOptions = ["topK": "top-edges"]

    mutating func validate() throws {
        try OldSpelling.fold(oldTopEdges, "--top-k", into: &topEdges, "--top-edges")
        let sources = [sessions != nil, pairs != nil, knn != nil].filter { $0 }.count
        guard sources == 1 else { throw ValidationError("give exactly one of --sessions, --pairs, --knn") }
        guard window >= 2 else { throw ValidationError("--window must be at least 2 (found \(window))") }
        if let knn, knn < 1 { throw ValidationError("--knn must be at least 1") }
        if let topEdges, topEdges < 1 { throw ValidationError("--top-edges must be at least 1") }
        guard minWeight.isFinite else { throw ValidationError("--min-weight must be finite") }
        guard (0...1).contains(holdoutNodes), (0...1).contains(holdoutEdges) else {
            throw ValidationError("--holdout-nodes and --holdout-edges are fractions in [0, 1]")
        }
    }

    func execute() throws {
        let videoIDs: [String], edges: UndirectedEdges, report: InteractionReport, source: String
        if let knn {
            let table = try FeatureTable.read(features, audio: false)
            (videoIDs, source, report) = (table.videoIDs, features, InteractionReport())
            edges = ContentKNN.graph(table, k: knn, threads: threads.threads, progress: progress)
        } else {
            let input: InteractionInput = sessions.map { .sessions(path: $0, window: window) } ?? .pairs(path: pairs ?? "")
            (videoIDs, source) = (try FeatureTable.readVideoIDs(features), input.path)
            let counted = try input.count(videoIDs: videoIDs, features: features, skipMalformed: skipMalformed, progress: progress)
            (edges, report) = (UndirectedEdges.from(counted.pairs, nodes: videoIDs.count, weighting: weighting), counted.report)
        }
        let assembly = GraphAssembly(minWeight: minWeight, topK: topEdges,
                                     holdOut: HoldOut(nodeFraction: holdoutNodes, edgeFraction: holdoutEdges, seed: seed.seed))
        let (graph, statistics) = try assembly.assemble(edges, videoIDs: videoIDs, report: report, source: source)
        try writer.write(out, schema: .graph, inputs: source == features ? [features] : [features, source]) { file in
            try graph.write(to: file)
            try statistics.write(to: file)
        }
        print(statistics.table)
    }
}
