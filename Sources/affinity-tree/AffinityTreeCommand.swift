import ArgumentParser
import Artifacts
import Contracts
import Graphs
import Support

extension AffinityClustering.Linkage: ExpressibleByArgument {}

@main
struct AffinityTreeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "affinity-tree",
        abstract: "Cluster the relational graph into a hierarchy (affinity clustering).",
        discussion: """
            Reads gcml.graph/1 (its /train edges), writes gcml.tree/1. Each level is one Borůvka round: \
            every cluster links to its strongest neighbouring cluster (ties: smaller cluster id), linked \
            clusters merge. Videos without train edges stay singletons. See docs/affinity-tree.md.
            """)

    @Option(help: "Relational graph (gcml.graph/1).") var graph: String
    @Option(help: "Output tree (gcml.tree/1).") var out: String
    @Option(help: "Number of levels (Borůvka rounds).") var levels = 3
    @Option(help: "Weight between clusters: max (strongest edge) or average (mean edge weight).") var linkage = AffinityClustering.Linkage.max
    @Option(help: "Largest cluster a merge may produce; a merge over the cap is skipped that round.") var maxClusterSize: Int?
    @Option(help: "Worker threads (the result does not depend on it).") var threads = 2

    func validate() throws {
        guard levels >= 1 else { throw ValidationError("--levels must be at least 1, found \(levels)") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, found \(threads)") }
        if let cap = maxClusterSize, cap < 1 { throw ValidationError("--max-cluster-size must be at least 1, found \(cap)") }
    }

    func run() throws {
        let train = try RelationalGraph.readTrain(graph)
        if let bad = train.weights.firstIndex(where: { !$0.isFinite }) {
            throw GCMLError(file: graph, object: "/train/weights", expected: "finite edge weights", found: "\(train.weights[bad]) at entry \(bad)")
        }
        let clustering = AffinityClustering(levels: levels, linkage: linkage, maxClusterSize: maxClusterSize, threads: threads)
        let result = clustering.cluster(train, progress: Progress("affinity-tree", total: levels, unit: "levels"))
        try Artifact.write(out, schema: .tree, createdBy: "affinity-tree", parameters: self, inputs: [graph]) { file in
            try result.tree.write(to: file)
            try result.tree.writeSummary(to: file)
            try file.root.setAttribute("link_weight", .double(result.linkWeight))
        }
        print(result.tree.summaryTable())
    }
}
