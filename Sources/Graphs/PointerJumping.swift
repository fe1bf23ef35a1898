/// Connected components, across ranks, of the links of a Borůvka round: each of `clusterCount`
/// clusters links to at most one other, so every component is a tree or a tree hanging on one
/// cycle (2-cycles wherever two clusters choose each other; with average linkage the float64
/// sums of the two directions may differ, so longer cycles are possible too).
///
/// Pointer jumping with all-to-all messages. First every 2-cycle is cut (the smaller cluster of a
/// pair that chose each other becomes a root), which leaves trees, and with average linkage
/// perhaps components on a longer cycle. After step k, `jump[c]` is the cluster 2ᵏ links ahead of
/// c and `low[c]` the smallest cluster on those 2ᵏ steps; a cluster whose pointer reached a root
/// stops asking (a root's pointer and minimum are itself, and no root is in a component with a
/// cycle, so the others never need its minimum). Once a step changes no pointer (every c's
/// pointer x satisfies link^(2ᵏ)(x) = x: x is its component's root, or on its cycle and 2ᵏ
/// steps from x cover the cycle), or once 2ᵏ reaches the cluster count (every path has entered
/// its cycle and gone round it), `low[jump[c]]` is c's root or the smallest cluster of c's
/// cycle: one representative per component. Chains take log₂(length) steps.
public enum PointerJumping {
    public struct Components: Sendable {
        /// The representative of each cluster of this rank's share.
        public var representative: [Int32]
        /// Pointer-jumping steps taken (each one request and one reply all-to-all).
        public var steps: Int
        /// Bytes this rank sent to other ranks.
        public var bytesSent: Int64
    }

    /// `link[i]`: the cluster that cluster `share.lowerBound + i` links to (-1 for none), for this
    /// rank's share `exchange.share(of: clusterCount, part: exchange.rank)`.
    public static func components(link: [Int32], clusterCount: Int, exchange: ClusteringExchange) throws -> Components {
        let owners = ClusterOwners(clusterCount: clusterCount, exchange: exchange)
        let owned = owners.range(of: exchange.rank)
        precondition(link.count == owned.count, "one link per cluster of the share")
        var bytes = Int64(0)
        var jump = link.enumerated().map { $0.element >= 0 ? $0.element : Int32(owned.lowerBound + $0.offset) }
        // Two clusters that chose each other: the smaller becomes a root, so most components are trees.
        let second = try owners.lookUp(jump, width: 1, exchange: exchange, bytes: &bytes) { x, out in out.append(jump[x]) }
        for i in jump.indices where Int(second[i]) == owned.lowerBound + i && owned.lowerBound + i < Int(jump[i]) {
            jump[i] = Int32(owned.lowerBound + i)
        }
        var low = owned.map { Int32($0) }
        // Whether the pointer is a root (then it never moves again, and the cluster stops asking).
        var done = jump.enumerated().map { Int($0.element) == owned.lowerBound + $0.offset }
        var steps = 0
        while (1 << steps) < clusterCount {
            let asking = jump.indices.filter { !done[$0] }
            let reply = try owners.lookUp(asking.map { jump[$0] }, width: 3, exchange: exchange, bytes: &bytes) { x, out in
                out.append(jump[x])
                out.append(low[x])
                out.append(done[x] ? 1 : 0)
            }
            var changed = Int64(0)
            for (k, i) in asking.enumerated() {
                if reply[3 * k] != jump[i] { changed += 1 }
                jump[i] = reply[3 * k]
                low[i] = min(low[i], reply[3 * k + 1])
                done[i] = reply[3 * k + 2] != 0
            }
            steps += 1
            bytes += 8 * Int64(exchange.size - 1)
            if exchange.sum([changed])[0] == 0 { break }
        }
        let representative = try owners.lookUp(jump, width: 1, exchange: exchange, bytes: &bytes) { x, out in out.append(low[x]) }
        return Components(representative: representative, steps: steps, bytesSent: bytes)
    }
}

/// Which rank owns which clusters in a round: contiguous shares of the cluster ids.
struct ClusterOwners {
    let starts: [Int]    // rank r owns starts[r]..<starts[r + 1]

    init(clusterCount: Int, exchange: ClusteringExchange) {
        starts = (0..<exchange.size).map { exchange.share(of: clusterCount, part: $0).lowerBound } + [clusterCount]
    }

    var rankCount: Int { starts.count - 1 }

    func range(of rank: Int) -> Range<Int> { starts[rank]..<starts[rank + 1] }

    @inline(__always) func owner(of cluster: Int32) -> Int {
        var lo = 0, hi = starts.count - 2        // the last rank whose start is at or below the cluster
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if starts[mid] <= Int(cluster) { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// For each cluster in `queries`, the `width` values its owner's `answer` appends for it
    /// (called with the cluster's index in the owner's share), in query order: a request and a reply all-to-all.
    func lookUp(_ queries: [Int32], width: Int, exchange: ClusteringExchange, bytes: inout Int64,
                answer: (Int, inout [Int32]) -> Void) throws -> [Int32] {
        var requests = [[Int32]](repeating: [], count: rankCount)
        for x in queries { requests[owner(of: x)].append(x) }
        bytes += 4 * Int64(requests.enumerated().reduce(0) { $0 + ($1.offset == exchange.rank ? 0 : $1.element.count) })
        let asked = try exchange.exchange(requests)
        requests = []
        let first = starts[exchange.rank]
        let replies: [[Int32]] = asked.map { list in
            var out: [Int32] = []
            out.reserveCapacity(list.count * width)
            for x in list { answer(Int(x) - first, &out) }
            return out
        }
        bytes += 4 * Int64(replies.enumerated().reduce(0) { $0 + ($1.offset == exchange.rank ? 0 : $1.element.count) })
        let answered = try exchange.exchange(replies)
        var cursor = [Int](repeating: 0, count: rankCount)
        var result: [Int32] = []
        result.reserveCapacity(queries.count * width)
        for x in queries {
            let o = owner(of: x)
            result.append(contentsOf: answered[o][cursor[o]..<(cursor[o] + width)])
            cursor[o] += width
        }
        return result
    }
}
