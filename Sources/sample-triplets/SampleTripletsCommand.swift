import ArgumentParser
import Artifacts
import Contracts
import Sampling
import StageKit
import Support

@main
struct SampleTripletsCommand: Stage {
    static let configuration = CommandConfiguration(
        commandName: "sample-triplets",
        abstract: "Draw training triplets: smart negatives from sibling clusters (GCML) or random ones (CDML).",
        discussion: """
            Reads gcml.graph/1 and gcml.tree/1, writes gcml.triplets/1. Anchor: uniform over videos with train \
            edges; positive: a train neighbour; negative: a video of a sibling cluster of the anchor's cluster at \
            the chosen level (smart) or any video (random), never the anchor, the positive or a train neighbour. \
            See docs/sample-triplets.md.
            """)

    @Option(help: "Relational graph (gcml.graph/1).") var graph: String
    @Option(help: "Cluster tree (gcml.tree/1); needed for --strategy smart.") var tree: String?
    @Option(help: "Output triplets (gcml.triplets/1).") var out: String
    @Option(help: "smart (sibling clusters) or random negatives.") var strategy = TripletSampler.Strategy.smart
    @Option(help: "Tree level of the sibling clusters (1 = finest; default 1).") var level: Int?
    @Option(help: "Comma-separated weights of levels 1, 2, …: the level is drawn per triplet.") var levelMix: LevelChoice?
    @Option(help: "Number of triplets.") var count = 1_000_000
    @Option(help: "Positive drawn in proportion to edge weight (weighted) or uniformly.") var positive = NeighbourSampler.Mode.weighted
    @OptionGroup var seed: SeedOption<SeedZero>
    @OptionGroup var threads: ThreadsOption

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1, found \(count)") }
        if level != nil && levelMix != nil { throw ValidationError("give --level or --level-mix, not both") }
        if let level, level < 1 { throw ValidationError("--level must be at least 1, found \(level)") }
        if strategy == .smart && tree == nil { throw ValidationError("--strategy smart needs --tree") }
        if strategy == .random && (level != nil || levelMix != nil) {
            throw ValidationError("--level and --level-mix apply to --strategy smart only")
        }
    }

    func execute() throws {
        let publication = try publication(outputs: [("--out", out)], inputs: [("--graph", graph), ("--tree", tree)])
        defer { publication.close() }
        let inputs = try TripletInputs.read(graph: graph, tree: strategy == .smart ? tree : nil, levels: levelMix ?? .level(level ?? 1))
        let sampler = TripletSampler(graph: inputs.train, tree: inputs.tree, strategy: strategy, levelWeights: inputs.levelWeights,
                                     positive: positive, seed: seed.seed, threads: threads.threads)
        if sampler.anchors.isEmpty && count > 0 {
            throw GCMLError(file: graph, object: "/train", expected: "a video with a train edge and a possible negative", found: "none")
        }
        var statistics = TripletStatistics(levels: 0)
        try publication.writer.write(out, schema: .triplets, inputs: inputs.paths) { file in
            let triplets = try TripletWriter(file: file)
            statistics = try sampler.sample(count: count, progress: progress.progress(total: count, unit: "triplets"), sink: triplets.append)
            try statistics.write(to: file)
            try file.root.setAttribute("strategy", .string(strategy.rawValue))
            try file.root.setAttribute("anchors", .int(Int64(sampler.anchors.count)))
        }
        try publication.commit()
        print(statistics.table())
    }
}
