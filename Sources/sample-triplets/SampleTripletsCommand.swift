import ArgumentParser
import Artifacts
import Contracts
import Distributed
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
            See docs/sample-triplets.md. Under mpirun or srun the ranks draw consecutive blocks of triplets (each \
            block its own seeded stream) and write one file: the same triplets as one process. See docs/cluster.md.
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
        let world = Communicator.world
        try onEveryRank(world) { try execute(world) }
    }

    func execute(_ world: Communicator) throws {
        // Only rank 0 locks and publishes the output, after every rank's part is complete.
        let publication = try publication(on: world, outputs: [("--out", out)], inputs: [("--graph", graph), ("--tree", tree)])
        defer { publication?.close() }
        let inputs = try TripletInputs.read(graph: graph, tree: strategy == .smart ? tree : nil, levels: levelMix ?? .level(level ?? 1))
        let sampler = TripletSampler(graph: inputs.train, tree: inputs.tree, strategy: strategy, levelWeights: inputs.levelWeights,
                                     positive: positive, seed: seed.seed, threads: threads.threads)
        if sampler.anchors.isEmpty && count > 0 {
            throw GCMLError(file: graph, object: "/train", expected: "a video with a train edge and a possible negative", found: "none")
        }
        // Each rank draws a contiguous run of blocks, so the parts join in the one-process order.
        let blocks = world.share(of: sampler.blockCount(for: count))
        let progress = world.isRoot ? progress.progress(total: count, unit: "triplets") : nil
        let statistics = try (publication?.writer ?? writer).write(out, schema: .triplets, inputs: inputs.paths,
                                                                   layout: TripletWriter.partLayout, communicator: world) { file in
            let triplets = try TripletWriter(file: file)
            let statistics = try sampler.sample(count: count, blocks: blocks, progress: progress, sink: triplets.append).summed(over: world)
            try statistics.write(to: file)
            try file.root.setAttribute("strategy", .string(strategy.rawValue))
            try file.root.setAttribute("anchors", .int(Int64(sampler.anchors.count)))
            return statistics
        }
        guard let publication else { return }
        try publication.commit()
        print(statistics.table())
    }
}
