import ArgumentParser
import Artifacts
import Contracts
import Distributed
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
        Writes gcml.graph/1. --sessions and --pairs take a file or a comma-separated list of files and globs (a \
        session ends with its file). Under mpirun or srun the ranks split the input and write the one-process graph.h5. \
        See docs/build-graph.md and docs/cluster.md.
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
    @Option(help: "Under several ranks, how the video id -> row map is held: replicated on every rank, partitioned over ranks by a hash of the id (a round trip per batch of input lines), or auto (partitioned from \(VideoRowMap.partitionFrom) videos on).")
    var idMap: VideoRowMap.Mode = .auto
    @OptionGroup var seed: SeedOption<SeedZero>
    @OptionGroup var threads: ThreadsOption
    @Flag(help: "Count and skip malformed lines instead of stopping at the first.") var skipMalformed = false
    @Option(name: .customLong("top-k"), help: .hidden) var oldTopEdges: Int?
    /// Test knob: records a rank sends per round of an all-to-all (session adds counted before a round, CSR entries per
    /// round, input lines whose ids a partitioned id map resolves at once); tests force many rounds.
    @Option(name: .customLong("exchange-block"), help: .hidden) var exchangeBlock: Int?

    static let parameterOptions = ["topK": "top-edges"]

    mutating func validate() throws {
        try OldSpelling.fold(oldTopEdges, "--top-k", into: &topEdges, "--top-edges")
        let sources = [sessions != nil, pairs != nil, knn != nil].filter { $0 }.count
        guard sources == 1 else { throw ValidationError("give exactly one of --sessions, --pairs, --knn") }
        if let exchangeBlock, exchangeBlock < 1 { throw ValidationError("--exchange-block must be at least 1 (found \(exchangeBlock))") }
        guard window >= 2 else { throw ValidationError("--window must be at least 2 (found \(window))") }
        if let knn, knn < 1 { throw ValidationError("--knn must be at least 1") }
        if let topEdges, topEdges < 1 { throw ValidationError("--top-edges must be at least 1") }
        guard minWeight.isFinite else { throw ValidationError("--min-weight must be finite") }
        guard (0...1).contains(holdoutNodes), (0...1).contains(holdoutEdges) else {
            throw ValidationError("--holdout-nodes and --holdout-edges are fractions in [0, 1]")
        }
    }

    func execute() throws {
        let world = Communicator.world
        try onEveryRank(world) { try execute(world) }
    }

    /// One process, or one rank of a launched job: then each rank reads a share of the input and owns shares of the pairs and CSR rows.
    func execute(_ world: Communicator) throws {
        let files = try (sessions ?? pairs).map(InputSplit.paths) ?? []
        let named: [(String, String?)] = [("--features", features)] + files.map { (sessions != nil ? "--sessions" : "--pairs", $0) }
        let publication = try publication(on: world, outputs: [("--out", out)], inputs: named)
        defer { publication?.close() }
        let videos: VideoIDShare, report: InteractionReport, sent: Int
        var edges: UndirectedEdges
        if let knn {
            let table = try FeatureTable.read(features, audio: false)
            (videos, report) = (VideoIDShare(all: table.videoIDs), InteractionReport())
            (edges, sent) = world.isLaunched ? try ContentKNN.ownedGraph(table, k: knn, threads: threads.threads, communicator: world, progress: progress)
                                             : (ContentKNN.graph(table, k: knn, threads: threads.threads, progress: progress), 0)
        } else {
            let input: InteractionInput = sessions.map { .sessions(path: $0, window: window) } ?? .pairs(path: pairs ?? "")
            let map = try VideoRowMap.load(features: features, mode: idMap, communicator: world)
            videos = map.isPartitioned ? VideoIDShare(count: map.count, rows: map.share, ids: map.shareIDs) { [features] in
                try FeatureTable.readVideoIDs(features, rows: $0)
            } : VideoIDShare(all: map.shareIDs)
            let counted = try input.count(map: map, features: features, skipMalformed: skipMalformed, communicator: world,
                                          exchangeBlock: exchangeBlock ?? PairRouting.defaultBlockAdds,
                                          batchLines: exchangeBlock ?? Interactions.defaultBatchLines, progress: progress)
            edges = UndirectedEdges.from(counted.pairs, nodes: map.count, weighting: weighting, communicator: world)
            (report, sent) = (counted.report, counted.bytesSent)
        }
        let source = knn == nil ? sessions ?? pairs ?? "" : features
        let assembly = GraphAssembly(minWeight: minWeight, topK: topEdges,
                                     holdOut: HoldOut(nodeFraction: holdoutNodes, edgeFraction: holdoutEdges, seed: seed.seed))
        let writer = publication?.writer ?? self.writer, inputs = [features] + (knn == nil ? files : [])
        let statistics: GraphStatistics
        if world.isLaunched {
            let part = try assembly.assemble(owned: &edges, videos: videos, report: report, source: source,
                                             entriesPerRound: exchangeBlock ?? GraphAssembly.defaultEntriesPerRound, communicator: world)
            note("\(world.label): sent \(sent + part.bytesSent) bytes to other ranks in all-to-alls")
            try writer.write(out, schema: .graph, inputs: inputs, layout: RelationalGraph.partLayout, communicator: world) { try part.write(to: $0) }
            statistics = part.statistics
        } else {
            let (graph, whole) = try assembly.assemble(edges, videoIDs: videos.ids, report: report, source: source)
            try writer.write(out, schema: .graph, inputs: inputs) { try graph.write(to: $0); try whole.write(to: $0) }
            statistics = whole
        }
        guard let publication else { return }
        try publication.commit()
        print(statistics.table)
    }
}
