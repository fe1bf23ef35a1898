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
/// one process scans); for `.average`, every inter-cluster entry, in steps of at most
/// `stepEntries` entries per owner, grouped by source cluster in row order, because the mean's
/// float64 sum must add the weights in the one-process order (rows ascending, CSR order), which
/// partial sums would change. The owners choose their clusters' links; pointer jumping
/// (`PointerJumping`) finds the components of the links, and each component's links go to the
/// owner of its representative, which runs the one-process unions on them (`RoundUnion`: the
/// cluster-size cap makes the unions order-dependent, but only within a component). The owners
/// all-gather each cluster's new set (its smallest old cluster), from which every rank numbers
/// the new clusters, and send the links taken to rank 0, which writes the tree.
///
/// Replicated on every rank: the cluster label of every video (4 B each) and, per cluster, its
/// size and its new set (12 B, the set only while relabelling); per rank: its rows' edges, the
/// owned clusters' links and pointers, and while a round is exchanged its messages (`.max`: at
/// most 12 B per cluster met; `.average`: at most `stepEntries` entries per owner per step).
public struct DistributedAffinityClustering: Sendable {
    public var clustering: AffinityClustering
    /// `.average`: the most entries (8 B each) an owner receives in one all-to-all step (a
    /// cluster with more arrives in one step of its own).
    public var stepEntries: Int

    public init(_ clustering: AffinityClustering, stepEntries: Int = 1 << 22) {
        precondition(stepEntries >= 1, "at least one entry per step")
        self.clustering = clustering
        self.stepEntries = stepEntries
    }

    public struct Outcome: Sendable {
        /// The tree (levels only where `keepsLevels` was asked) and, on rank 0, the links, as one process gives them.
        public var result: AffinityClustering.Result
        /// Bytes this rank sent to the other ranks (all-to-all messages and its share of the all-gathers).
        public var bytesSent: Int64
        /// Rounds that scanned the edges (the rest repeat a level that merged nothing).
        public var roundsRun: Int
        /// Pointer-jumping steps over all rounds (each a request and a reply all-to-all).
        public var jumpSteps: Int
    }

    /// Clusters the graph whose rows `share` this rank holds; every rank of `exchange` calls it
    /// with its own rows (contiguous, in rank order, covering every video once).
    public func cluster(_ share: CSRRows, exchange: ClusteringExchange, keepsLevels: Bool, progress: Progress? = nil) throws -> Outcome {
        var state = AffinityLevels(nodes: share.nodeCount, levels: clustering.levels, maxClusterSize: clustering.maxClusterSize,
                                   keepsLevels: keepsLevels)
        var bytes = Int64(0)
        try Self.checkSymmetric(share, exchange: exchange)
        var roundsRun = 0, jumpSteps = 0
        for round in 1...clustering.levels {
            roundsRun = round
            let owners = ClusterOwners(clusterCount: state.clusterCount, exchange: exchange)
            let (targets, weights): ([Int32], [Float])
            if clustering.linkage == .max {
                let messages = strongestEdges(share, state: state, owners: owners)
                bytes += Int64(4 * messages.enumerated().reduce(0) { $0 + ($1.offset == exchange.rank ? 0 : $1.element.count) })
                (targets, weights) = strongestLinks(try exchange.exchange(messages), owned: owners.range(of: exchange.rank))
            } else {
                (targets, weights) = try averageLinks(share, state: state, owners: owners, exchange: exchange, bytes: &bytes)
            }
            let merged = try merge(round: round, targets: targets, weights: weights, owners: owners, state: &state, exchange: exchange,
                                   bytes: &bytes, jumpSteps: &jumpSteps)
            progress?.advance(note: "level \(round): \(state.clusterCount) clusters")
            if !merged {
                state.repeatLastLevel(progress: progress)
                break
            }
        }
        progress?.finish()
        return Outcome(result: state.result, bytesSent: bytes, roundsRun: roundsRun, jumpSteps: jumpSteps)
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

    /// `.average`: the links of the owned clusters. Each rank sends, for every cluster, the entries
    /// from its rows to other clusters (rows ascending, CSR order) as [cluster, count, (neighbour,
    /// weight bits)…]; every owner's clusters are cut into steps of at most `stepEntries` entries
    /// (counted over all ranks: one allreduce of 8 B per cluster), so a step's messages stay bounded.
    /// The owner adds each neighbour's float64 sum rank by rank — the ranks' rows are in order, so
    /// this is the one-process order of additions — and takes the highest admissible mean, ties to
    /// the smaller neighbour cluster.
    func averageLinks(_ share: CSRRows, state: AffinityLevels, owners: ClusterOwners, exchange: ClusteringExchange,
                      bytes: inout Int64) throws -> (targets: [Int32], weights: [Float]) {
        let clusterCount = state.clusterCount, label = state.label
        // This rank's rows grouped by cluster, stably (counting sort), and every cluster's entry count.
        var start = [Int](repeating: 0, count: clusterCount + 1)
        var entries = [Int64](repeating: 0, count: clusterCount)
        for (offset, v) in share.rows.enumerated() {
            let c = Int(label[v])
            start[c + 1] += 1
            entries[c] += share.indptr[offset + 1] - share.indptr[offset]
        }
        for c in 0..<clusterCount { start[c + 1] += start[c] }
        var members = [Int32](repeating: 0, count: share.rows.count)
        do {
            var cursor = Array(start[0..<clusterCount])
            for (offset, v) in share.rows.enumerated() {
                let c = Int(label[v])
                members[cursor[c]] = Int32(offset)
                cursor[c] += 1
            }
        }
        entries = exchange.sum(entries)
        bytes += 16 * Int64(clusterCount) * Int64(exchange.size - 1) / Int64(exchange.size)   // a ring allreduce's share
        let steps: [[Int]] = (0..<owners.rankCount).map { owner in
            let range = owners.range(of: owner)
            var cuts = [range.lowerBound], held = Int64(0)
            for c in range {
                if held > 0 && held + entries[c] > Int64(stepEntries) {
                    cuts.append(c)
                    held = 0
                }
                held += entries[c]
            }
            return cuts + [range.upperBound]
        }
        entries = []
        let stepCount = steps.map { $0.count - 1 }.max() ?? 0

        let owned = owners.range(of: exchange.rank)
        let size = state.clusterSize, cap = self.cap
        var sum = [Double](repeating: 0, count: clusterCount), count = [Int32](repeating: 0, count: clusterCount)
        var touched: [Int32] = []
        var targets = [Int32](repeating: -1, count: owned.count), weights = [Float](repeating: 0, count: owned.count)
        for step in 0..<stepCount {
            var messages: [[Int32]] = (0..<owners.rankCount).map { owner in
                guard step + 1 < steps[owner].count else { return [] }
                var message: [Int32] = []
                for c in steps[owner][step]..<steps[owner][step + 1] {
                    let header = message.count
                    for m in start[c]..<start[c + 1] {
                        let offset = Int(members[m])
                        for e in Int(share.indptr[offset])..<Int(share.indptr[offset + 1]) {
                            let d = label[Int(share.indices[e])]
                            if Int(d) == c { continue }
                            if message.count == header {
                                message.append(Int32(c))
                                message.append(0)
                            }
                            message.append(d)
                            message.append(Int32(bitPattern: share.weights[e].bitPattern))
                        }
                    }
                    if message.count > header { message[header + 1] = Int32((message.count - header - 2) / 2) }
                }
                return message
            }
            bytes += Int64(4 * messages.enumerated().reduce(0) { $0 + ($1.offset == exchange.rank ? 0 : $1.element.count) })
            let received = try exchange.exchange(messages)
            messages = []
            guard step + 1 < steps[exchange.rank].count else { continue }
            var cursor = [Int](repeating: 0, count: received.count)
            for c in steps[exchange.rank][step]..<steps[exchange.rank][step + 1] {
                touched.removeAll(keepingCapacity: true)
                for (rank, message) in received.enumerated() where cursor[rank] < message.count && Int(message[cursor[rank]]) == c {
                    let first = cursor[rank] + 2, end = first + 2 * Int(message[cursor[rank] + 1])
                    for i in stride(from: first, to: end, by: 2) {
                        let d = Int(message[i])
                        if count[d] == 0 { touched.append(Int32(d)) }
                        count[d] += 1
                        sum[d] += Double(Float(bitPattern: UInt32(bitPattern: message[i + 1])))
                    }
                    cursor[rank] = end
                }
                let own = size[c]
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
                targets[c - owned.lowerBound] = target
                weights[c - owned.lowerBound] = Float(bestMean)
            }
        }
        return (targets, weights)
    }

    /// Merges the round's links (`targets`/`weights` of the owned clusters): components by pointer
    /// jumping; each component's links (cluster, target, weight) to the owner of its representative,
    /// which unions them as one process does; an allgatherv of (cluster, smallest cluster of its new
    /// set) lets every rank relabel; the links taken go to rank 0 in the one-process order. False
    /// when nothing merged (every rank knows it from the new sets).
    func merge(round: Int, targets: [Int32], weights: [Float], owners: ClusterOwners, state: inout AffinityLevels,
               exchange: ClusteringExchange, bytes: inout Int64, jumpSteps: inout Int) throws -> Bool {
        let owned = owners.range(of: exchange.rank)
        let components = try PointerJumping.components(link: targets, clusterCount: state.clusterCount, exchange: exchange)
        bytes += components.bytesSent
        jumpSteps += components.steps
        var messages = [[Int32]](repeating: [], count: owners.rankCount)
        for (i, representative) in components.representative.enumerated() {
            let owner = owners.owner(of: representative)
            messages[owner].append(Int32(owned.lowerBound + i))
            messages[owner].append(targets[i])
            messages[owner].append(Int32(bitPattern: weights[i].bitPattern))
        }
        bytes += Int64(4 * messages.enumerated().reduce(0) { $0 + ($1.offset == exchange.rank ? 0 : $1.element.count) })
        // Each rank's clusters ascend and the ranks' shares are in order: the concatenation is sorted.
        let received = try exchange.exchange(messages).flatMap { $0 }
        messages = []
        let count = received.count / 3
        let ids = (0..<count).map { received[3 * $0] }
        let weight = (0..<count).map { Float(bitPattern: UInt32(bitPattern: received[3 * $0 + 2])) }
        let localTarget: [Int32] = (0..<count).map { i in
            let d = received[3 * i + 1]
            guard d >= 0 else { return -1 }
            var lo = 0, hi = count - 1          // d is in the same component, so among ids
            while lo < hi {
                let mid = (lo + hi) / 2
                if ids[mid] < d { lo = mid + 1 } else { hi = mid }
            }
            return Int32(lo)
        }
        let union = RoundUnion(target: localTarget, weight: weight, size: ids.map { state.clusterSize[Int($0)] },
                               cap: clustering.maxClusterSize)

        var pairs: [Int32] = []
        pairs.reserveCapacity(2 * count)
        for i in 0..<count {
            pairs.append(ids[i])
            pairs.append(ids[Int(union.setMin[i])])
        }
        bytes += 8 * Int64(count) * Int64(exchange.size - 1)
        let gathered = try exchange.gather(pairs)
        pairs = []
        var setMin = [Int32](repeating: -1, count: state.clusterCount)
        var merged = false
        for i in stride(from: 0, to: gathered.count, by: 2) {
            setMin[Int(gathered[i])] = gathered[i + 1]
            if gathered[i] != gathered[i + 1] { merged = true }
        }

        var taken = [[Int32]](repeating: [], count: owners.rankCount)
        for c in union.taken {
            taken[0].append(ids[Int(c)])
            taken[0].append(ids[Int(localTarget[Int(c)])])
            taken[0].append(Int32(bitPattern: weight[Int(c)].bitPattern))
        }
        if exchange.rank != 0 { bytes += 4 * Int64(taken[0].count) }
        let links = try exchange.exchange(taken)
        if exchange.rank == 0 {
            var roundLinks: [AffinityClustering.Link] = links.flatMap { list in
                stride(from: 0, to: list.count, by: 3).map {
                    AffinityClustering.Link(round: round, from: list[$0], to: list[$0 + 1], weight: Float(bitPattern: UInt32(bitPattern: list[$0 + 2])))
                }
            }
            // The one-process order: cluster order, or with a cap strongest first (ties: smaller cluster).
            if clustering.maxClusterSize != nil {
                roundLinks.sort { $0.weight != $1.weight ? $0.weight > $1.weight : $0.from < $1.from }
            } else {
                roundLinks.sort { $0.from < $1.from }
            }
            state.append(roundLinks)
        }
        state.relabel(round: round, setMin: setMin)
        return merged
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
