import Support

/// The candidates a held-out retrieval query ranks when it does not rank the whole corpus
/// (`heldout+random`): its held-out neighbours (relevance = the edge's weight), then `negatives`
/// seeded random videos that are neither the query nor a train or held-out neighbour of it.
/// eval-map-ndcg and training-time validation both draw them here, so the two rank the same kind
/// of list. A query's draw depends on the seed and the query alone (its own stream), not on which
/// other queries are drawn or how ranks share them.
public struct HeldoutCandidateSampler: Sendable {
    public let train: CSRGraph
    public let heldout: CSRGraph
    public let negatives: Int
    private let base: SeededGenerator

    public init(train: CSRGraph, heldout: CSRGraph, negatives: Int, seed: UInt64) {
        (self.train, self.heldout, self.negatives) = (train, heldout, negatives)
        base = SeededGenerator(seed: seed)
    }

    public init(graph: RelationalGraph, negatives: Int, seed: UInt64) {
        self.init(train: graph.train, heldout: graph.heldout, negatives: negatives, seed: seed)
    }

    /// Query row `query`'s candidates, held-out neighbours first (in edge order), then the random ones in draw order.
    public func candidates(of query: Int) -> (rows: [Int32], relevance: [Float]) {
        var taken: Set<Int32> = [Int32(query)]
        for e in train.neighbours(query) { taken.insert(train.indices[e]) }
        var rows: [Int32] = [], relevance: [Float] = []
        for e in heldout.neighbours(query) where taken.insert(heldout.indices[e]).inserted {
            rows.append(heldout.indices[e])
            relevance.append(heldout.weights[e])
        }
        var generator = base.stream(query)
        let drawn = Self.sample(avoiding: &taken, count: negatives, nodes: heldout.nodeCount, &generator)
        return (rows + drawn, relevance + [Float](repeating: 0, count: drawn.count))
    }

    /// `count` distinct rows below `nodes` not in `taken` (all remaining ones when fewer exist), in draw order.
    static func sample(avoiding taken: inout Set<Int32>, count: Int, nodes: Int, _ generator: inout SeededGenerator) -> [Int32] {
        let available = nodes - taken.count
        guard count > 0, available > 0 else { return [] }
        if available <= 2 * count {
            // Dense case: partial Fisher–Yates over the free rows.
            var free = (0..<nodes).map(Int32.init).filter { !taken.contains($0) }
            let n = min(count, free.count)
            free.fisherYatesPrefix(n, using: &generator)
            return Array(free.prefix(n))
        }
        var drawn: [Int32] = []
        drawn.reserveCapacity(count)
        while drawn.count < count {
            let row = Int32(generator.below(nodes))
            if taken.insert(row).inserted { drawn.append(row) }
        }
        return drawn
    }
}
