import Contracts
import Support

/// The collectives the distributed clustering needs. The MPI communicator provides them
/// (StageKit), tests simulate ranks in one process; Graphs itself stays free of MPI.
public protocol ClusteringExchange: AnyObject {
    var rank: Int { get }
    var size: Int { get }
    /// All-to-all: `messages[r]` goes to rank r; returns what every rank sent here, by rank.
    func exchange(_ messages: [[Int32]]) throws -> [[Int32]]
    /// Every rank's `values`, concatenated in rank order.
    func gather(_ values: [Int32]) throws -> [Int32]
    /// Element-wise sum over the ranks.
    func sum(_ values: [Int64]) -> [Int64]
    /// Rank `part`'s contiguous share of `count` items.
    func share(of count: Int, part: Int) -> Range<Int>
}

/// Affinity clustering with the videos split over ranks (each rank holds the CSR rows of its
/// share), giving the tree `AffinityClustering.cluster` gives, bit for bit.
///
/// Each round: every rank scans its rows through the current cluster labels and sends, to the
/// rank owning the source cluster (clusters split in contiguous shares), what that owner needs
/// to choose the cluster's link — for `.max`, the best edge per cluster among the rank's rows
/// (the strongest, ties to the smaller neighbour cluster, later entries winning exact ties, as
/// one process scans); for `.average`, every inter-cluster entry (source cluster, neighbour
/// cluster, weight) in row order, because the mean's float64 sum must add the weights in the
/// one-process order (rows ascending, CSR order), which partial sums would change. The owners
/// choose their clusters' links, an all-gather gives every rank all links (8 bytes a cluster),
/// and every rank merges them with the one-process code (`AffinityLevels`): the union order,
/// the cluster-size cap and the numbering of the new clusters are sequential by definition,
/// and on O(clusters) they cost less than one scan of the edges.
///
/// Replicated on every rank: the cluster label of every video (4 B each), the cluster sizes
/// and the round's links (16 B per cluster); per rank: its rows' edges, and while a round is
/// exchanged its messages (`.max`: at most 12 B per cluster met; `.average`: 12 B per entry).
public struct DistributedAffinityClustering: Sendable {
    public var clustering: AffinityClustering

    public init(_ clustering: AffinityClustering) { self.clustering = clustering }

    public struct Outcome: Sendable {
        /// The tree (levels only where `keepsLevels` was asked) and the links, as one process gives them.
        public var result: AffinityClustering.Result
        /// Bytes this rank sent to the other ranks (all-to-all messages and its share of the all-gathers).
        public var bytesSent: Int64
        /// Rounds that scanned the edges (the rest repeat a level that merged nothing).
        public var roundsRun: Int
    }

    /// Clusters the graph whose rows `share` this rank holds; every rank of `exchange` calls it
    /// with its own rows (contiguous, in rank order, covering every video once).
    public func cluster(_ share: CSRRows, exchange: ClusteringExchange, keepsLevels: Bool, progress: Progress? = nil) throws -> Outcome {
        var state = AffinityLevels(nodes: share.nodeCount, levels: clustering.levels, maxClusterSize: clustering.maxClusterSize,
                                   keepsLevels: keepsLevels)
        var bytes = Int64(0)
        try Self.checkSymmetric(share, exchange: exchange)
        var roundsRun = 0
        for round in 1...clustering.levels {
            roundsRun = round
            let owners = ClusterOwners(clusterCount: state.clusterCount, exchange: exchange)
            let messages = clustering.linkage == .max ? strongestEdges(share, state: state, owners: owners)
                                                      : interClusterEntries(share, state: state, owners: owners)
            bytes += Int64(4 * messages.enumerated().reduce(0) { $0 + ($1.offset == exchange.rank ? 0 : $1.element.count) })
            let received = try exchange.exchange(messages)
            let owned = owners.range(of: exchange.rank)
            let (targets, weights) = clustering.linkage == .max ? strongestLinks(received, owned: owned)
                                                                : averageLinks(received, owned: owned, state: state)
            bytes += Int64(8 * targets.count * (exchange.size - 1))
            let allTargets = try exchange.gather(targets)
            let allWeights = try exchange.gather(weights.map { Int32(bitPattern: $0.bitPattern) }).map { Float(bitPattern: UInt32(bitPattern: $0)) }
            let merged = state.merge(round: round, bestTarget: allTargets, bestWeight: allWeights)
            progress?.advance(note: "level \(round): \(state.clusterCount) clusters")
            if !merged {
                state.repeatLastLevel(progress: progress)
                break
            }
        }
        progress?.finish()
        return Outcome(result: state.result, bytesSent: bytes, roundsRun: roundsRun)
    }

    /// Which rank owns which clusters this round: contiguous shares of the cluster ids.
    struct ClusterOwners {
        let starts: [Int]    // rank r owns starts[r]..<starts[r + 1]

        init(clusterCount: Int, exchange: ClusteringExchange) {
            starts = (0..<exchange.size).map { exchange.share(of: clusterCount, part: $0).lowerBound } + [clusterCount]
        }

        func range(of rank: Int) -> Range<Int> { starts[rank]..<starts[rank + 1] }

        @inline(__always) func owner(of cluster: Int32) -> Int {
            var lo = 0, hi = starts.count - 2        // the last rank whose start is at or below the cluster
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if starts[mid] <= Int(cluster) { lo = mid } else { hi = mid - 1 }
            }
            return lo
        }
    }

    private var cap: Int64 { clustering.maxClusterSize.map(Int64.init) ?? Int64.max }

    /// `.max`: this rank's best admissible edge of each cluster its rows belong to, as
    /// (cluster, neighbour cluster, weight bits) triples to the clusters' owners.
    func strongestEdges(_ share: CSRRows, state: AffinityLevels, owners: ClusterOwners) -> [[Int32]] {
        let label = state.label, size = state.clusterSize, cap = self.cap
        var target = [Int32](repeating: -1, count: state.clusterCount)
        var best = [Float](repeating: 0, count: state.clusterCount)
        var met: [Int32] = []
        for (offset, v) in share.rows.enumerated() {
            let c = Int(label[v]), own = size[c]
            for e in Int(share.indptr[offset])..<Int(share.indptr[offset + 1]) {
                let d = label[Int(share.indices[e])]
                if Int(d) == c { continue }
                let w = share.weights[e]
                // The one-process rule: a later entry replaces an equal one.
                if target[c] >= 0 && (w < best[c] || (w == best[c] && d > target[c])) { continue }
                if own + size[Int(d)] > cap { continue }
                if target[c] < 0 { met.append(Int32(c)) }
                target[c] = d
                best[c] = w
            }
        }
        var messages = [[Int32]](repeating: [], count: owners.starts.count - 1)
        for c in met {
            let owner = owners.owner(of: c)
            messages[owner].append(c)
            messages[owner].append(target[Int(c)])
            messages[owner].append(Int32(bitPattern: best[Int(c)].bitPattern))
        }
        return messages
    }

    /// `.max` at the owner: the ranks' best edges combined in rank order (rows ascending), with the same rule.
    func strongestLinks(_ received: [[Int32]], owned: Range<Int>) -> (targets: [Int32], weights: [Float]) {
        var targets = [Int32](repeating: -1, count: owned.count), weights = [Float](repeating: 0, count: owned.count)
        for message in received {
            for i in stride(from: 0, to: message.count, by: 3) {
                let c = Int(message[i]) - owned.lowerBound, d = message[i + 1], w = Float(bitPattern: UInt32(bitPattern: message[i + 2]))
                if targets[c] >= 0 && (w < weights[c] || (w == weights[c] && d > targets[c])) { continue }
                targets[c] = d
                weights[c] = w
            }
        }
        return (targets, weights)
    }

    /// `.average`: every entry between two clusters, as (cluster, neighbour cluster, weight bits), in row order.
    func interClusterEntries(_ share: CSRRows, state: AffinityLevels, owners: ClusterOwners) -> [[Int32]] {
        let label = state.label
        var messages = [[Int32]](repeating: [], count: owners.starts.count - 1)
        for (offset, v) in share.rows.enumerated() {
            let c = label[v]
            let owner = owners.owner(of: c)
            for e in Int(share.indptr[offset])..<Int(share.indptr[offset + 1]) {
                let d = label[Int(share.indices[e])]
                if d == c { continue }
                messages[owner].append(c)
                messages[owner].append(d)
                messages[owner].append(Int32(bitPattern: share.weights[e].bitPattern))
            }
        }
        return messages
    }

    /// `.average` at the owner: per owned cluster, the mean weight to each neighbour cluster, summed
    /// in float64 in the order received (rank order, then row order: the one-process order); the
    /// highest admissible mean wins, ties to the smaller neighbour cluster.
    func averageLinks(_ received: [[Int32]], owned: Range<Int>, state: AffinityLevels) -> (targets: [Int32], weights: [Float]) {
        // Group the entries by source cluster, stably (counting sort).
        var start = [Int](repeating: 0, count: owned.count + 1)
        for message in received {
            for i in stride(from: 0, to: message.count, by: 3) { start[Int(message[i]) - owned.lowerBound + 1] += 1 }
        }
        for c in 0..<owned.count { start[c + 1] += start[c] }
        var neighbour = [Int32](repeating: 0, count: start[owned.count]), weight = [Float](repeating: 0, count: start[owned.count])
        var cursor = start
        for message in received {
            for i in stride(from: 0, to: message.count, by: 3) {
                let c = Int(message[i]) - owned.lowerBound
                neighbour[cursor[c]] = message[i + 1]
                weight[cursor[c]] = Float(bitPattern: UInt32(bitPattern: message[i + 2]))
                cursor[c] += 1
            }
        }
        let size = state.clusterSize, cap = self.cap
        var sum = [Double](repeating: 0, count: state.clusterCount), count = [Int32](repeating: 0, count: state.clusterCount)
        var touched: [Int32] = []
        var targets = [Int32](repeating: -1, count: owned.count), weights = [Float](repeating: 0, count: owned.count)
        for c in 0..<owned.count {
            touched.removeAll(keepingCapacity: true)
            for entry in start[c]..<start[c + 1] {
                let d = Int(neighbour[entry])
                if count[d] == 0 { touched.append(Int32(d)) }
                count[d] += 1
                sum[d] += Double(weight[entry])
            }
            let own = size[owned.lowerBound + c]
            var target: Int32 = -1, bestMean = 0.0
            for d in touched {
                let mean = sum[Int(d)] / Double(count[Int(d)])
                sum[Int(d)] = 0
                count[Int(d)] = 0
                if target >= 0 && (mean < bestMean || (mean == bestMean && d > target)) { continue }
                if own + size[Int(d)] > cap { continue }
                target = d
                bestMean = mean
            }
            targets[c] = target
            weights[c] = Float(bestMean)
        }
        return (targets, weights)
    }

    /// The graph must be symmetric (every entry r→c also stored as c→r with the same weight), which
    /// no rank can see alone: each rank adds a hash of (min, max, weight) over its entries with
    /// r < c and over those with r > c; the sums over all ranks agree exactly when the upper and
    /// the lower triangle hold the same edges (up to a hash collision, about 2⁻⁶⁰).
    static func checkSymmetric(_ share: CSRRows, exchange: ClusteringExchange) throws {
        var sums = [Int64](repeating: 0, count: 4)
        for (offset, row) in share.rows.enumerated() {
            for e in Int(share.indptr[offset])..<Int(share.indptr[offset + 1]) {
                let column = Int(share.indices[e])
                let key = (UInt64(min(row, column)) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(max(row, column)) << 32 | UInt64(share.weights[e].bitPattern))
                let upper = row < column ? 0 : 2
                sums[upper] &+= Int64(mix(key) >> 34)
                sums[upper + 1] &+= Int64(mix(key ^ 0xD6E8_FEB8_6659_FD93) >> 34)
            }
        }
        let total = exchange.sum(sums)
        guard total[0] == total[2] && total[1] == total[3] else {
            throw GCMLError(file: share.path, object: "/train", expected: "a symmetric graph (every edge stored in both rows, equal weights both ways)",
                            found: "entries above and below the diagonal that differ (checked across ranks by a checksum)")
        }
    }

    /// SplitMix64's finaliser.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
