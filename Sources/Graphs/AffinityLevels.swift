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
        let union = RoundUnion(target: bestTarget, weight: bestWeight, size: Array(clusterSize[0..<clusterCount]), cap: maxClusterSize)
        links += union.taken.map { AffinityClustering.Link(round: round, from: $0, to: bestTarget[Int($0)], weight: bestWeight[Int($0)]) }
        relabel(round: round, setMin: union.setMin)
        return !union.taken.isEmpty
    }

    /// Appends links taken in a round (the distributed merge gathers them on the rank that writes the tree).
    mutating func append(_ taken: [AffinityClustering.Link]) { links += taken }

    /// Relabels after a round in which cluster `c` joined the set whose smallest old cluster is
    /// `setMin[c]`: new clusters numbered in the order of their smallest old cluster, hence of
    /// their smallest video row (old labels follow the same order).
    mutating func relabel(round: Int, setMin: [Int32]) {
        var map = [Int32](repeating: 0, count: clusterCount)
        var next: Int32 = 0
        for c in 0..<clusterCount {
            let m = Int(setMin[c])
            if m == c { map[c] = next; next += 1 } else { map[c] = map[m] }   // m ≤ c: numbered already
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

/// The unions of one round over a set of clusters closed under their links (all clusters in one
/// process; one or more whole components of the links under ranks), in local indices 0..<count
/// ordered as the cluster ids. The links go in cluster order, or, with a cap, strongest first
/// (ties: smaller cluster) and a link whose union would exceed the cap is skipped for this round.
/// Whether a link is taken depends only on the sets of its two ends, which only links of the same
/// component touch: so a component's unions are the same whether it is merged alone or with all.
struct RoundUnion {
    /// The clusters whose links joined two sets, in the order they were taken.
    private(set) var taken: [Int32] = []
    /// Per cluster, the smallest cluster of its set after the round.
    private(set) var setMin: [Int32]

    init(target: [Int32], weight: [Float], size: [Int64], cap: Int?) {
        let count = size.count
        var sets = UnionFind(sizes: size)
        var order = Array(0..<Int32(count))
        if cap != nil {
            order.sort { a, b in
                let wa = weight[Int(a)], wb = weight[Int(b)]
                return wa != wb ? wa > wb : a < b
            }
        }
        for c32 in order {
            let c = Int(c32), d = Int(target[c])
            guard d >= 0 else { continue }
            if let cap {
                let rc = sets.find(c), rd = sets.find(d)
                if rc != rd && sets.size(of: rc) + sets.size(of: rd) > Int64(cap) { continue }
            }
            if sets.union(c, d) { taken.append(c32) }
        }
        setMin = [Int32](repeating: -1, count: count)
        var rootMin = [Int32](repeating: -1, count: count)
        for c in 0..<count {
            let r = sets.find(c)
            if rootMin[r] < 0 { rootMin[r] = Int32(c) }
            setMin[c] = rootMin[r]
        }
    }
}
