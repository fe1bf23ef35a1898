import Contracts
import Support

/// From weighted undirected edges to the `gcml.graph/1` content: minimum weight,
/// per-node top-k pruning, then the hold-out split, each side a symmetric CSR.
public struct GraphAssembly: Sendable {
    public var minWeight: Float
    /// Per-node pruning (nil = keep all).
    public var topK: Int?
    public var holdOut: HoldOut

    public init(minWeight: Float = 0, topK: Int? = nil, holdOut: HoldOut = HoldOut()) {
        self.minWeight = minWeight
        self.topK = topK
        self.holdOut = holdOut
    }

    /// - Parameter source: named in the error when nothing is left.
    public func assemble(_ edges: UndirectedEdges, videoIDs: [String], report: InteractionReport = InteractionReport(),
                         source: String) throws -> (graph: RelationalGraph, statistics: GraphStatistics) {
        var kept = minWeight > 0 ? edges.withMinimumWeight(minWeight) : edges
        if let topK { kept = kept.prunedToTopK(topK) }
        guard kept.count > 0 else {
            throw GCMLError(file: source, expected: "at least one edge between distinct known videos"
                            + (minWeight > 0 ? " with weight >= \(minWeight)" : ""),
                            found: "none (\(edges.count) edge(s) before --min-weight/--top-k)")
        }
        let split = holdOut.split(kept, videoIDs: videoIDs)
        let graph = RelationalGraph(videoIDs: videoIDs, train: split.train.symmetricCSR(), heldout: split.heldout.symmetricCSR(),
                                    heldoutNodes: split.heldoutNodes)
        let statistics = GraphStatistics(train: graph.train, heldout: graph.heldout, heldoutNodes: split.heldoutNodes.count, report: report)
        return (graph, statistics)
    }
}
