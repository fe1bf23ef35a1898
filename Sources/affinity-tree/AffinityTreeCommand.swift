import ArgumentParser
import Artifacts
import Contracts
import Distributed
import Graphs
import StageKit
import Support

@main
struct AffinityTreeCommand: Stage {
    static let configuration = CommandConfiguration(
        commandName: "affinity-tree",
        abstract: "Cluster the relational graph into a hierarchy (affinity clustering).",
        discussion: """
            Reads gcml.graph/1 (its /train edges), writes gcml.tree/1. Each level is one Borůvka round: \
            every cluster links to its strongest neighbouring cluster (ties: smaller cluster id), linked \
            clusters merge. Videos without train edges stay singletons. See docs/affinity-tree.md. Under mpirun \
            or srun the ranks split the videos (with their edges) and write the one-process tree, bit for bit. \
            See docs/cluster.md.
            """)

    @Option(help: "Relational graph (gcml.graph/1).") var graph: String
    @Option(help: "Output tree (gcml.tree/1).") var out: String
    @Option(help: "Number of levels (Borůvka rounds).") var levels = 3
    @Option(help: "Weight between clusters: max (strongest edge) or average (mean edge weight).") var linkage = AffinityClustering.Linkage.max
    @Option(help: "Largest cluster a merge may produce; a merge over the cap is skipped that round.") var maxClusterSize: Int?
    @OptionGroup var threads: ThreadsOption

    func validate() throws {
        // Each Borůvka round at least halves the clusters of a connected part, so 64 rounds exhaust any graph.
        guard (1...64).contains(levels) else { throw ValidationError("--levels must be in 1…64, found \(levels)") }
        if let cap = maxClusterSize, cap < 1 { throw ValidationError("--max-cluster-size must be at least 1, found \(cap)") }
    }

    func execute() throws {
        let world = Communicator.world
        guard world.isLaunched else { return try executePlain() }
        try onEveryRank(world) { try execute(world) }
    }

    func executePlain() throws {
        let publication = try publication(outputs: [("--out", out)], inputs: [("--graph", graph)])
        defer { publication.close() }
        let train = try RelationalGraph.readTrain(graph)
        let result = clustering.cluster(train, progress: progress.progress(total: levels, unit: "levels"))
        try write(result, publication: publication)
        try publication.commit()
        print(result.tree.summaryTable())
    }

    func execute(_ world: Communicator) throws {
        // Only rank 0 locks, writes and publishes the output; it holds the levels and the links.
        let publication = try publication(on: world, outputs: [("--out", out)], inputs: [("--graph", graph)])
        defer { publication?.close() }
        let share = try RelationalGraph.readTrainRows(graph) { world.share(offsets: $0) }
        let outcome = try DistributedAffinityClustering(clustering)
            .cluster(share, exchange: world, keepsLevels: world.isRoot, progress: world.isRoot ? progress.progress(total: levels, unit: "levels") : nil)
        let bytes = world.allreduce(outcome.bytesSent), mostBytes = world.allreduce(outcome.bytesSent, .max)
        if let publication { try write(outcome.result, publication: publication) }
        // Every rank is still there: rank 0 publishes.
        guard world.failedRanks(true).isEmpty, let publication else { return }
        try publication.commit()
        print(outcome.result.tree.summaryTable())
        print("collectives: \(bytes) bytes sent over \(world.size) ranks (at most \(mostBytes) by one), \(outcome.roundsRun) rounds scanned the edges, \(outcome.jumpSteps) pointer-jumping steps")
    }

    var clustering: AffinityClustering {
        AffinityClustering(levels: levels, linkage: linkage, maxClusterSize: maxClusterSize, threads: threads.threads)
    }

    func write(_ result: AffinityClustering.Result, publication: Publication) throws {
        try publication.writer.write(out, schema: .tree, inputs: [graph]) { file in
            try result.tree.write(to: file)
            try result.tree.writeSummary(to: file)
            try file.root.setAttribute("link_weight", .double(result.linkWeight))
        }
    }
}
