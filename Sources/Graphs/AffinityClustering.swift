import Contracts
import Dispatch
import Support

/// Hierarchical affinity clustering (Bateni et al., NeurIPS 2017) of a symmetric
/// weighted graph: Borůvka rounds in which every cluster links to its strongest
/// neighbouring cluster and linked clusters merge. Round ℓ gives level ℓ of the tree.
///
/// Clusters are never contracted into a new graph: each round scans the original
/// CSR once through the current cluster labels, so memory stays at the input
/// graph plus a few arrays of N entries.
public struct AffinityClustering: Sendable {
    /// How the weight between two clusters is derived from their video edges.
    public enum Linkage: String, CaseIterable, Sendable {
        /// The strongest edge (single linkage): the links over all rounds form a maximum spanning forest.
        case max
        /// The mean weight of the edges between the two clusters (pairs without an edge do not count).
        case average
    }

    /// One merge taken in a round: cluster `from` linked to cluster `to` (both labels of
    /// level `round − 1`, where level 0 is the videos themselves) with link weight `weight`.
    /// Only links that joined two different clusters are kept.
    public struct Link: Equatable, Sendable {
        public var round: Int
        public var from: Int32
        public var to: Int32
        public var weight: Float
        public init(round: Int, from: Int32, to: Int32, weight: Float) {
            self.round = round
            self.from = from
            self.to = to
            self.weight = weight
        }
    }

    public struct Result: Sendable {
        public var tree: ClusterTree
        /// The merges in the order they were taken (round by round).
        public var links: [Link]
        /// Sum of the link weights; with `.max` linkage run to convergence, the weight of a maximum spanning forest.
        public var linkWeight: Double { links.reduce(0) { $0 + Double($1.weight) } }
    }

    public var levels: Int
    public var linkage: Linkage
    /// Largest cluster a merge may produce (nil: no cap).
    public var maxClusterSize: Int?
    public var threads: Int

    public init(levels: Int = 3, linkage: Linkage = .max, maxClusterSize: Int? = nil, threads: Int = 1) {
        precondition(levels >= 1, "at least one level")
        precondition(maxClusterSize.map { $0 >= 1 } ?? true, "cluster size cap must be positive")
        self.levels = levels
        self.linkage = linkage
        self.maxClusterSize = maxClusterSize
        self.threads = Swift.max(1, threads)
    }

    /// Clusters `graph` (symmetric, no self loops) into `levels` levels.
    public func cluster(_ graph: CSRGraph, progress: Progress? = nil) -> Result {
        let n = graph.nodeCount
        var state = AffinityLevels(nodes: n, levels: levels, maxClusterSize: maxClusterSize)
        var members = [Int32](repeating: 0, count: n)           // videos grouped by cluster, ascending rows
        var memberStart = [Int](repeating: 0, count: n + 1)
        var bestTarget = [Int32](repeating: -1, count: n)
        var bestWeight = [Float](repeating: 0, count: n)
        let scratch = linkage == .average ? (0..<threads).map { _ in AverageScratch(capacity: n) } : []

        for round in 1...levels {
            let clusterCount = state.clusterCount
            // Group videos by cluster (counting sort, stable: rows stay ascending).
            for i in 0...clusterCount { memberStart[i] = 0 }
            for v in 0..<n { memberStart[Int(state.label[v]) + 1] += 1 }
            for c in 0..<clusterCount { memberStart[c + 1] += memberStart[c] }
            do {
                var cursor = Array(memberStart[0..<clusterCount])
                for v in 0..<n {
                    let c = Int(state.label[v])
                    members[cursor[c]] = Int32(v)
                    cursor[c] += 1
                }
            }

            chooseLinks(graph: graph, clusterCount: clusterCount, label: state.label, members: members, memberStart: memberStart,
                        clusterSize: state.clusterSize, bestTarget: &bestTarget, bestWeight: &bestWeight, scratch: scratch)
            let merged = state.merge(round: round, bestTarget: bestTarget, bestWeight: bestWeight)
            progress?.advance(note: "level \(round): \(state.clusterCount) clusters")
            if !merged {
                state.repeatLastLevel(progress: progress)
                break
            }
        }
        progress?.finish()
        return state.result
    }

    /// Per worker accumulators for average linkage (sparse accumulator over neighbour clusters).
    private final class AverageScratch: @unchecked Sendable {
        let sum: UnsafeMutablePointer<Double>
        let count: UnsafeMutablePointer<Int32>
        let touched: UnsafeMutablePointer<Int32>
        init(capacity: Int) {
            sum = .allocate(capacity: capacity)
            sum.initialize(repeating: 0, count: capacity)
            count = .allocate(capacity: capacity)
            count.initialize(repeating: 0, count: capacity)
            touched = .allocate(capacity: capacity)
        }
        deinit {
            sum.deallocate()
            count.deallocate()
            touched.deallocate()
        }
    }

    /// Fills bestTarget/bestWeight for clusters 0..<clusterCount: highest link weight,
    /// ties to the smaller neighbour cluster; -1 when a cluster has no admissible neighbour.
    /// Each cluster is computed by one worker in a fixed order, so results do not depend on threads.
    private func chooseLinks(graph: CSRGraph, clusterCount: Int, label: [Int32], members: [Int32], memberStart: [Int],
                             clusterSize: [Int64], bestTarget: inout [Int32], bestWeight: inout [Float],
                             scratch: [AverageScratch]) {
        let chunk = 2048
        let chunks = (clusterCount + chunk - 1) / chunk
        let workers = Swift.min(threads, Swift.max(1, chunks))
        let cap = maxClusterSize.map(Int64.init) ?? Int64.max
        let linkage = self.linkage
        graph.indptr.withUnsafeBufferPointer { indptr in
        graph.indices.withUnsafeBufferPointer { indices in
        graph.weights.withUnsafeBufferPointer { weights in
        label.withUnsafeBufferPointer { label in
        members.withUnsafeBufferPointer { members in
        memberStart.withUnsafeBufferPointer { memberStart in
        clusterSize.withUnsafeBufferPointer { clusterSize in
        bestTarget.withUnsafeMutableBufferPointer { targetOut in
        bestWeight.withUnsafeMutableBufferPointer { weightOut in
            let targets = targetOut, linkWeights = weightOut   // the closure params are inout
            let work = { (worker: Int) in
                var block = worker
                while block < chunks {
                    let range = (block * chunk)..<Swift.min(clusterCount, (block + 1) * chunk)
                    for c in range {
                        let own = clusterSize[c]
                        var target: Int32 = -1
                        var best: Float = 0
                        switch linkage {
                        case .max:
                            for m in memberStart[c]..<memberStart[c + 1] {
                                let v = Int(members[m])
                                for e in Int(indptr[v])..<Int(indptr[v + 1]) {
                                    let d = label[Int(indices[e])]
                                    if Int(d) == c { continue }
                                    let w = weights[e]
                                    if target >= 0 && (w < best || (w == best && d > target)) { continue }
                                    if own + clusterSize[Int(d)] > cap { continue }
                                    target = d
                                    best = w
                                }
                            }
                        case .average:
                            let s = scratch[worker]
                            var touched = 0
                            for m in memberStart[c]..<memberStart[c + 1] {
                                let v = Int(members[m])
                                for e in Int(indptr[v])..<Int(indptr[v + 1]) {
                                    let d = label[Int(indices[e])]
                                    if Int(d) == c { continue }
                                    if s.count[Int(d)] == 0 { s.touched[touched] = d; touched += 1 }
                                    s.count[Int(d)] += 1
                                    s.sum[Int(d)] += Double(weights[e])
                                }
                            }
                            var bestMean = 0.0
                            for t in 0..<touched {
                                let d = s.touched[t]
                                let mean = s.sum[Int(d)] / Double(s.count[Int(d)])
                                s.sum[Int(d)] = 0
                                s.count[Int(d)] = 0
                                if target >= 0 && (mean < bestMean || (mean == bestMean && d > target)) { continue }
                                if own + clusterSize[Int(d)] > cap { continue }
                                target = d
                                bestMean = mean
                            }
                            best = Float(bestMean)
                        }
                        targets[c] = target
                        linkWeights[c] = best
                    }
                    block += workers
                }
            }
            if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
        }}}}}}}}}
    }
}
