import ArgumentParser
import Artifacts
import Contracts
import Graphs
import Sampling
import Support

extension TripletSampler.Strategy: ExpressibleByArgument {}
extension NeighbourSampler.Mode: ExpressibleByArgument {}

@main
struct SampleTripletsCommand: ParsableCommand {
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
    @Option(help: "Tree level of the sibling clusters (1 = finest).") var level: Int?
    @Option(help: "Comma-separated weights of levels 1, 2, …: the level is drawn per triplet.") var levelMix: String?
    @Option(help: "Number of triplets.") var count = 1_000_000
    @Option(help: "Positive drawn in proportion to edge weight (weighted) or uniformly.") var positive = NeighbourSampler.Mode.weighted
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Worker threads (the output does not depend on it).") var threads = 2

    func validate() throws {
        guard count >= 0 else { throw ValidationError("--count must be non-negative, found \(count)") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, found \(threads)") }
        if level != nil && levelMix != nil { throw ValidationError("give --level or --level-mix, not both") }
        if strategy == .smart && tree == nil { throw ValidationError("--strategy smart needs --tree") }
        if strategy == .random && (level != nil || levelMix != nil) {
            throw ValidationError("--level and --level-mix apply to --strategy smart only")
        }
    }

    func run() throws {
        let train = try RelationalGraph.readTrain(graph)
        if let row = train.firstUnsortedRow() {
            throw GCMLError(file: graph, object: "/train/indices", expected: "columns strictly increasing within each row", found: "row \(row) unsorted")
        }
        var clusters: ClusterTree?
        var weights = [1.0]
        if strategy == .smart, let tree {
            let loaded = try ClusterTree.read(tree)
            guard loaded.nodeCount == train.nodeCount else {
                throw GCMLError(file: tree, object: "/level_1/assignment", expected: "\(train.nodeCount) videos (as in \(graph))", found: "\(loaded.nodeCount)")
            }
            guard (1...127).contains(loaded.levels.count) else {
                throw GCMLError(file: tree, expected: "1 to 127 levels", found: "\(loaded.levels.count)")
            }
            weights = try levelWeights(levels: loaded.levels.count)
            clusters = loaded
        }
        let sampler = TripletSampler(graph: train, tree: clusters, strategy: strategy, levelWeights: weights,
                                     positive: positive, seed: seed, threads: threads)
        if sampler.anchors.isEmpty && count > 0 {
            throw GCMLError(file: graph, object: "/train", expected: "a video with a train edge and a possible negative", found: "none")
        }
        var statistics = TripletStatistics(levels: 0)
        try Artifact.write(out, schema: .triplets, createdBy: "sample-triplets", parameters: self,
                           inputs: [graph] + (clusters == nil ? [] : [tree ?? ""])) { file in
            let writer = try TripletWriter(file: file)
            statistics = try sampler.sample(count: count, progress: Progress("sample-triplets", total: count, unit: "triplets"),
                                            sink: writer.append)
            try statistics.write(to: file)
            try file.root.setAttribute("strategy", .string(strategy.rawValue))
            try file.root.setAttribute("anchors", .int(Int64(sampler.anchors.count)))
        }
        print(statistics.table())
    }

    /// `--level L` as a one-hot vector, or the parsed `--level-mix`.
    func levelWeights(levels: Int) throws -> [Double] {
        if let levelMix {
            let parts = levelMix.split(separator: ",", omittingEmptySubsequences: false)
            let values = parts.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard values.count == parts.count, !values.isEmpty, values.count <= levels,
                  values.allSatisfy({ $0 >= 0 && $0.isFinite }), values.reduce(0, +) > 0 else {
                throw ValidationError("--level-mix: expected up to \(levels) non-negative weights (levels 1…\(levels)) with a positive sum, found '\(levelMix)'")
            }
            return values
        }
        let chosen = level ?? 1
        guard (1...levels).contains(chosen) else {
            throw ValidationError("--level: expected a level in 1…\(levels) (the tree has \(levels)), found \(chosen)")
        }
        return (1...levels).map { $0 == chosen ? 1 : 0 }
    }
}
