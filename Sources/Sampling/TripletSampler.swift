import Dispatch
import Graphs
import Support

/// One block of triplets (video rows); `count` of the arrays' entries are valid.
public final class TripletBlock: @unchecked Sendable {
    public var anchor: [Int32]
    public var positive: [Int32]
    public var negative: [Int32]
    /// Tree level of the sibling cluster the negative came from; 0 = uniform random.
    public var negativeLevel: [Int8]
    public var count = 0

    public init(capacity: Int) {
        anchor = [Int32](repeating: 0, count: capacity)
        positive = anchor
        negative = anchor
        negativeLevel = [Int8](repeating: 0, count: capacity)
    }
}

/// What happened while sampling: per-level counts, fallbacks, rejected draws.
public struct TripletStatistics: Equatable, Sendable {
    public var triplets = 0
    /// Triplets by the level their negative actually came from (index 0 = random, 1…L).
    public var negativeLevels: [Int]
    /// Triplets by the level asked for (index 0 = random strategy).
    public var requestedLevels: [Int]
    /// Triplets that moved up at least one level because the anchor's cluster had no sibling.
    public var fallbackNoSibling = 0
    /// Triplets that moved up at least one level because every draw at a level was rejected.
    public var fallbackRejected = 0
    /// Negative draws rejected for being the anchor, the positive or a train neighbour of the anchor.
    public var rejectedDraws = 0
    /// Random negatives found by scanning after the bounded random draws all failed.
    public var scans = 0

    public init(levels: Int) {
        negativeLevels = [Int](repeating: 0, count: levels + 1)
        requestedLevels = negativeLevels
    }

    mutating func add(_ other: TripletStatistics) {
        triplets += other.triplets
        for i in negativeLevels.indices {
            negativeLevels[i] += other.negativeLevels[i]
            requestedLevels[i] += other.requestedLevels[i]
        }
        fallbackNoSibling += other.fallbackNoSibling
        fallbackRejected += other.fallbackRejected
        rejectedDraws += other.rejectedDraws
        scans += other.scans
    }
}

/// Draws (anchor, positive, negative) triplets from the train graph.
///
/// Anchor: uniform over videos with at least one train edge (and at least one possible
/// negative). Positive: a neighbour, in proportion to edge weight or uniformly.
/// Negative, `smart` (GCML): a video of a sibling cluster of the anchor's cluster at the
/// requested level (same parent one level up; the top level's clusters are siblings of
/// each other); without a sibling, move up a level; above the top, uniform random.
/// `random` (CDML): uniform over all videos. A negative is never the anchor, the
/// positive or a train neighbour of the anchor: a rejected draw is redrawn up to
/// `attempts` times per level before moving up.
///
/// Work is cut into fixed blocks; block b draws from `SeededGenerator(seed).stream(b)`,
/// so the output depends on the seed and block size only, not on the thread count.
public struct TripletSampler: Sendable {
    public enum Strategy: String, CaseIterable, Sendable { case smart, random }

    public let graph: CSRGraph
    public let strategy: Strategy
    public let siblings: SiblingIndex?
    public let neighbours: NeighbourSampler
    /// Videos that can be anchors.
    public let anchors: [Int32]
    /// Cumulative weights of the requested level, level 1 first (smart only).
    private let levelCumulative: [Double]
    public var seed: UInt64
    public var threads: Int
    public var blockSize: Int
    public var attempts: Int

    /// - Parameters:
    ///   - graph: train CSR, symmetric, columns sorted within rows.
    ///   - tree: required for `smart`; same videos as the graph.
    ///   - levelWeights: weight of each requested level, level 1 first (`--level L` is a one-hot vector).
    public init(graph: CSRGraph, tree: ClusterTree?, strategy: Strategy, levelWeights: [Double] = [1],
                positive: NeighbourSampler.Mode = .weighted, seed: UInt64 = 0, threads: Int = 1,
                blockSize: Int = 1 << 16, attempts: Int = 16) {
        precondition(strategy == .random || tree != nil, "smart negatives need a tree")
        self.graph = graph
        self.strategy = strategy
        siblings = strategy == .smart ? tree.map(SiblingIndex.init) : nil
        neighbours = NeighbourSampler(graph: graph, mode: positive)
        let n = graph.nodeCount
        anchors = (0..<n).compactMap { v in
            let d = graph.degree(v)
            return d >= 1 && d <= n - 2 ? Int32(v) : nil
        }
        let total = levelWeights.reduce(0, +)
        var running = 0.0
        levelCumulative = levelWeights.map { running += $0 / total; return running }
        self.seed = seed
        self.threads = max(1, threads)
        self.blockSize = max(1, blockSize)
        self.attempts = max(1, attempts)
    }

    public var levelCount: Int { siblings?.levelCount ?? 0 }

    /// Draws `count` triplets, handing them to `sink` block by block in block order.
    public func sample(count: Int, progress: Progress? = nil, sink: (TripletBlock) throws -> Void) throws -> TripletStatistics {
        var total = TripletStatistics(levels: levelCount)
        guard count > 0, !anchors.isEmpty else { return total }
        let blocks = (count + blockSize - 1) / blockSize
        let buffers = (0..<min(threads, blocks)).map { _ in TripletBlock(capacity: blockSize) }
        var statistics = [TripletStatistics](repeating: TripletStatistics(levels: levelCount), count: buffers.count)
        var next = 0
        while next < blocks {
            let wave = min(buffers.count, blocks - next)
            statistics.withUnsafeMutableBufferPointer { stats in
                let stats = stats
                let work = { (i: Int) in
                    let block = next + i
                    let n = min(blockSize, count - block * blockSize)
                    stats[i] = fill(buffers[i], count: n, block: block)
                }
                if wave == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: wave, execute: work) }
            }
            for i in 0..<wave {
                try sink(buffers[i])
                total.add(statistics[i])
                progress?.advance(by: buffers[i].count)
            }
            next += wave
        }
        progress?.finish()
        return total
    }

    /// Fills `buffer` with block `block` of `count` triplets.
    func fill(_ buffer: TripletBlock, count: Int, block: Int) -> TripletStatistics {
        var generator = SeededGenerator(seed: seed).stream(block)
        var stats = TripletStatistics(levels: levelCount)
        let n = graph.nodeCount
        let levels = levelCount
        buffer.count = count
        graph.indptr.withUnsafeBufferPointer { indptr in
        graph.indices.withUnsafeBufferPointer { indices in
        anchors.withUnsafeBufferPointer { anchors in
        buffer.anchor.withUnsafeMutableBufferPointer { anchorOut in
        buffer.positive.withUnsafeMutableBufferPointer { positiveOut in
        buffer.negative.withUnsafeMutableBufferPointer { negativeOut in
        buffer.negativeLevel.withUnsafeMutableBufferPointer { levelOut in
            /// Whether v may be the negative of anchor a with positive p.
            @inline(__always) func admissible(_ v: Int32, _ a: Int32, _ p: Int32) -> Bool {
                if v == a || v == p { return false }
                var lo = Int(indptr[Int(a)]), hi = Int(indptr[Int(a) + 1])
                while lo < hi {                               // columns are sorted within a row
                    let mid = (lo + hi) >> 1
                    let c = indices[mid]
                    if c == v { return false }
                    if c < v { lo = mid + 1 } else { hi = mid }
                }
                return true
            }
            for t in 0..<count {
                let a = anchors[generator.below(anchors.count)]
                let p = neighbours.draw(Int(a), using: &generator)
                var requested = 0
                if strategy == .smart {
                    let u = generator.unit()
                    requested = 1
                    while requested < levelCumulative.count && u >= levelCumulative[requested - 1] { requested += 1 }
                }
                stats.requestedLevels[requested] += 1
                var negative: Int32 = -1
                var used = 0
                if let siblings, requested > 0 {
                    var level = requested
                    var noSibling = false, rejected = false
                    search: while level <= levels {
                        if !siblings.hasSibling(Int(a), level: level) {
                            noSibling = true
                            level += 1
                            continue
                        }
                        for _ in 0..<attempts {
                            let v = siblings.drawSiblingVideo(Int(a), level: level, using: &generator)
                            if admissible(v, a, p) {
                                negative = v
                                used = level
                                break search
                            }
                            stats.rejectedDraws += 1
                        }
                        rejected = true
                        level += 1
                    }
                    if noSibling { stats.fallbackNoSibling += 1 }
                    if rejected { stats.fallbackRejected += 1 }
                }
                if negative < 0 {
                    for _ in 0..<attempts {
                        let v = Int32(generator.below(n))
                        if admissible(v, a, p) { negative = v; break }
                        stats.rejectedDraws += 1
                    }
                    if negative < 0 {
                        // Anchors have degree ≤ N − 2, so some video is admissible.
                        stats.scans += 1
                        var v = generator.below(n)
                        while !admissible(Int32(v), a, p) { v = v + 1 == n ? 0 : v + 1 }
                        negative = Int32(v)
                    }
                }
                stats.negativeLevels[used] += 1
                anchorOut[t] = a
                positiveOut[t] = p
                negativeOut[t] = negative
                levelOut[t] = Int8(used)
            }
        }}}}}}}
        stats.triplets = count
        return stats
    }
}
