import Contracts
import Support

/// What a round of affinity clustering carries to the next, and the tree it builds: the
/// cluster of every video, the clusters' sizes, the levels and the links taken. The
/// one-process and the distributed clustering differ only in how a round's links are
/// chosen; both merge them here, so the trees are the same bit for bit.
struct AffinityLevels {
    let levelCount: Int
    let maxClusterSize: Int?
    /// Whether the levels' assignments are kept (only the rank that writes the tree needs them).
    let keepsLevels: Bool
    /// The cluster of each video at the current level.
    private(set) var label: [Int32]
    private(set) var clusterSize: [Int64]
    private(set) var clusterCount: Int
    private(set) var levels: [ClusterLevel] = []
    private(set) var links: [AffinityClustering.Link] = []

    init(nodes: Int, levels: Int, maxClusterSize: Int?, keepsLevels: Bool = true) {
        levelCount = levels
        self.maxClusterSize = maxClusterSize
        self.keepsLevels = keepsLevels
        label = [Int32](0..<Int32(nodes))
        clusterSize = [Int64](repeating: 1, count: nodes)
        clusterCount = nodes
    }

    var result: AffinityClustering.Result { AffinityClustering.Result(tree: ClusterTree(levels: levels), links: links) }

    /// Unions the links chosen in `round` (`bestTarget[c]`, -1 for none, with weight
    /// `bestWeight[c]`, for clusters 0..<clusterCount) and relabels; false when nothing merged.
    mutating func merge(round: Int, bestTarget: [Int32], bestWeight: [Float]) -> Bool {
        // With a cap, strongest links go first and a merge that would exceed the cap is skipped for this round.
        var sets = UnionFind(sizes: Array(clusterSize[0..<clusterCount]))
        var order = Array(0..<Int32(clusterCount))
        if maxClusterSize != nil {
            order.sort { a, b in
                let wa = bestWeight[Int(a)], wb = bestWeight[Int(b)]
                return wa != wb ? wa > wb : a < b
            }
        }
        var merged = false
        for c32 in order {
            let c = Int(c32), d = Int(bestTarget[c])
            guard d >= 0 else { continue }
            if let cap = maxClusterSize {
                let rc = sets.find(c), rd = sets.find(d)
                if rc != rd && sets.size(of: rc) + sets.size(of: rd) > Int64(cap) { continue }
            }
            if sets.union(c, d) {
                links.append(AffinityClustering.Link(round: round, from: Int32(c), to: Int32(d), weight: bestWeight[c]))
                merged = true
            }
        }

        // Relabel: new clusters numbered in the order of their smallest old cluster,
        // hence of their smallest video row (old labels follow the same order).
        var rootLabel = [Int32](repeating: -1, count: clusterCount)
        var map = [Int32](repeating: 0, count: clusterCount)
        var next: Int32 = 0
        for c in 0..<clusterCount {
            let r = sets.find(c)
            if rootLabel[r] < 0 { rootLabel[r] = next; next += 1 }
            map[c] = rootLabel[r]
        }
        var newSize = [Int64](repeating: 0, count: Int(next))
        for c in 0..<clusterCount { newSize[Int(map[c])] += clusterSize[c] }
        for v in label.indices { label[v] = map[Int(label[v])] }
        if keepsLevels {
            if round > 1 { levels[round - 2].parent = map }
            levels.append(ClusterLevel(assignment: label, size: newSize, parent: nil))
        }
        clusterCount = Int(next)
        clusterSize = newSize
        return merged
    }

    /// Completes the tree after a round that merged nothing: the next rounds would see the
    /// same clusters, choose the same links and skip them again, so each repeats the last level.
    mutating func repeatLastLevel(progress: Progress?) {
        guard keepsLevels, var last = levels.last else { return }
        let identity = [Int32](0..<Int32(clusterCount))
        while levels.count < levelCount {
            levels[levels.count - 1].parent = identity
            last.parent = nil
            levels.append(last)
            progress?.advance(note: "level \(levels.count): \(clusterCount) clusters (nothing left to merge)")
        }
    }
}
