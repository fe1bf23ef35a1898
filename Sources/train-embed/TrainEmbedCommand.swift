import ArgumentParser
import Contracts
import Distributed
import Embedding
import Artifacts
import StageKit

@main
struct TrainEmbedCommand: Stage {
    static let configuration = CommandConfiguration(
        commandName: "train-embed",
        abstract: "Train the two-tower audio-visual embedding with triplets or cluster pseudo-labels.",
        discussion: """
            Reads gcml.features/1 and gcml.triplets/1 (triplet loss with in-batch mining) or gcml.tree/1 \
            (classification of each video's cluster at --classify-level, sampled softmax with --sampled K); \
            --validate and --graph read gcml.graph/1. Writes gcml.model/1 (weights, Adam state, history; \
            rewritten atomically at checkpoints) and, with --embeddings, gcml.embeddings/1 for every video. \
            Under mpirun or srun the global --batch-size is split over the ranks (synchronous data parallelism, \
            mining over the whole batch); see docs/train-embed.md and docs/cluster.md.
            """)

    enum Defaults: OptimiserDefaults {
        static let learningRate = 1e-3, batchSize = 256, epochs: Double? = nil
    }

    @Option(help: "Video features (gcml.features/1).") var features: String
    @Option(help: "Training triplets (gcml.triplets/1).") var triplets: String?
    @Option(help: "Cluster tree (gcml.tree/1) for classification.") var tree: String?
    @Option(help: "Tree level whose clusters are the classes (1 = finest).") var classifyLevel: Int?
    @Option(help: "Clusters smaller than this get no class; their videos are not trained on.") var minClusterSize = 2
    @Option(help: "Output model (gcml.model/1).") var out: String
    @Option(help: "Also write embeddings of all videos (gcml.embeddings/1).") var embeddings: String?
    @Option(help: "Visual tower hidden width.") var hidden = 1024
    @Option(help: "Audio tower hidden width.") var audioHidden = 256
    @Option(help: "Embedding dimension.") var dim = 256
    @OptionGroup var optimiser: OptimiserOptions<Defaults>
    @Option(help: "Training steps in total (resumed ones included; instead of --epochs).") var steps: Int?
    @OptionGroup var adam: AdamOptions
    @Option(help: "Clip the global gradient norm to this value.") var clip: Double?
    @Option(help: "Gradient blocks per batch, computed separately and summed in float64: the unit split over ranks, so up to this many ranks give one process's numbers (default: 4, or the number of ranks if larger; 1 is faster for a run that stays on one process).")
    var gradientBlocks: Int?
    @Option(help: "Triplet margin.") var margin = 0.2
    @Option(help: "Negative mining in the batch.") var mining = Mining.semihard
    @Option(help: "Sampled softmax with K candidate classes (default: full softmax).") var sampled: Int?
    @Option(help: "Sampled-softmax proposal (log-uniform: classes ranked by size).") var proposal = Proposal.uniform
    @Option(help: "Relational graph (gcml.graph/1) whose train edges are never mined as negatives (default: the --validate graph).") var graph: String?
    @OptionGroup var validation: ValidationOptions
    @Option(help: "Log the mean loss every N steps.") var logEvery = 10
    @Option(help: "Rewrite model.h5 every N steps (0 = only at the end).") var checkpointEvery = 0
    @Flag(help: "Continue from --out (weights, optimiser, step, generator, history); the training options must be those it was made with.") var resume = false
    @Flag(help: "With --resume: continue even if training options or input files changed since --out was written.") var forceResume = false
    @OptionGroup var threads: ThreadsOption
    @OptionGroup var seed: SeedOption<SeedOne>

    static let parameterOptions = ["batch": "batch-size", "visualHidden": "hidden", "clipNorm": "clip",
                                   "minimumClusterSize": "min-cluster-size", "graph": "graph (or --validate)"]

    func validate() throws {
        guard (triplets == nil) != (tree == nil) else { throw ValidationError("give exactly one of --triplets or --tree") }
        if tree != nil && classifyLevel == nil { throw ValidationError("--tree needs --classify-level L") }
        if steps != nil && optimiser.epochs != nil { throw ValidationError("give --steps or --epochs, not both") }
        for (name, value, least) in [("--steps", steps ?? 1, 1), ("--classify-level", classifyLevel ?? 1, 1), ("--hidden", hidden, 1),
                                     ("--audio-hidden", audioHidden, 0), ("--dim", dim, 1),
                                     ("--sampled", sampled ?? 1, 1), ("--log-every", logEvery, 0),
                                     ("--checkpoint-every", checkpointEvery, 0), ("--min-cluster-size", minClusterSize, 1),
                                     ("--gradient-blocks", gradientBlocks ?? 1, 1)]
        where value < least { throw ValidationError("\(name) must be at least \(least), found \(value)") }
        guard margin >= 0, margin.isFinite else { throw ValidationError("--margin must be a finite number >= 0, found \(margin)") }
        if let clip, !(clip > 0 && clip.isFinite) { throw ValidationError("--clip must be a positive number, found \(clip)") }
    }

    func execute() throws {
        let world = Communicator.world
        let summary = try onEveryRank(world) { try execute(world) }
        if world.isRoot { print("\(Self.stageName): " + summary) }
    }

    func execute(_ world: Communicator) throws -> String {
        // Only rank 0 locks and publishes the outputs; the others compute and write parts.
        let publication = try publication(on: world, outputs: [("--out", out), ("--embeddings", embeddings)],
                                                         inputs: [("--features", features), ("--triplets", triplets), ("--tree", tree),
                                                                  ("--graph", graph), ("--validate", validation.validationGraph)])
        defer { publication?.close() }
        var session = TrainingSession(featuresPath: features, modelPath: out)
        (session.tripletsPath, session.treePath, session.classifyLevel, session.minimumClusterSize) = (triplets, tree, classifyLevel, minClusterSize)
        session.graphPath = graph
        (session.steps, session.epochs, session.resume, session.embeddingsPath) = (steps, optimiser.epochs, resume, embeddings)
        var options = TrainingOptions()
        (options.visualHidden, options.audioHidden, options.dim, options.batch, options.threads) = (hidden, audioHidden, dim, optimiser.batchSize, threads.threads)
        options.adam = adam.settings(learningRate: optimiser.learningRate)
        (options.clipNorm, options.margin, options.mining, options.proposal, options.sampled) = (clip, margin, mining, proposal, sampled)
        options.gradientBlocks = gradientBlocks
        (options.logEvery, options.checkpointEvery, options.seed) = (logEvery, checkpointEvery, seed.seed)
        (session.options, session.forceResume, session.communicator) = (options, forceResume, world)
        try validation.configure(&session)
        return try session.run(writer: publication?.writer ?? writer)
    }
}
