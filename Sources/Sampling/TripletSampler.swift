import Contracts
import Dispatch
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

    /// Blocks filled together, one per thread, with their statistics (a plain buffer: each
    /// thread writes only its own slot).
    private final class Wave: @unchecked Sendable {
        let buffers: [TripletBlock]
        let statistics: UnsafeMutableBufferPointer<TripletStatistics>
        var first = 0, size = 0

        init(threads: Int, blockSize: Int, levels: Int) {
            buffers = (0..<threads).map { _ in TripletBlock(capacity: blockSize) }
            statistics = .allocate(capacity: threads)
            statistics.initialize(repeating: TripletStatistics(levels: levels))
        }

        deinit {
            statistics.deinitialize()
            statistics.deallocate()
        }
    }

    /// Draws `count` triplets, handing them to `sink` block by block in block order.
    /// Two waves of blocks alternate: while `sink` consumes one (typically compressing and
    /// writing it), the threads fill the next.
    public func sample(count: Int, progress: Progress? = nil, sink: (TripletBlock) throws -> Void) throws -> TripletStatistics {
        var total = TripletStatistics(levels: levelCount)
        guard count > 0, !anchors.isEmpty else { return total }
        let blocks = (count + blockSize - 1) / blockSize
        let width = min(threads, blocks)
        var ready = Wave(threads: width, blockSize: blockSize, levels: levelCount)
        var filling = Wave(threads: width, blockSize: blockSize, levels: levelCount)
        let filled = DispatchGroup()
        let fillWave = { (wave: Wave, first: Int) in
            wave.first = first
            wave.size = min(width, blocks - first)
            let work = { (i: Int) in
                let block = first + i
                wave.statistics[i] = self.fill(wave.buffers[i], count: min(self.blockSize, count - block * self.blockSize), block: block)
            }
            if wave.size == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: wave.size, execute: work) }
        }
        fillWave(ready, 0)
        defer { filled.wait() }                      // never leave a fill running on buffers we give up
        while ready.size > 0 {
            let nextFirst = ready.first + ready.size
            if nextFirst < blocks {
                let wave = filling
                DispatchQueue.global().async(group: filled) { fillWave(wave, nextFirst) }
            } else {
                filling.size = 0
            }
            for i in 0..<ready.size {
                try sink(ready.buffers[i])
                total.add(ready.statistics[i])
                progress?.advance(by: ready.buffers[i].count)
            }
            filled.wait()
            swap(&ready, &filling)
        }
        progress?.finish()
        return total
    }

    /// Triplets drawn together, phase by phase (anchors, positives, negatives), so the
    /// random memory reads of different triplets overlap instead of waiting on each other.
    static let batch = 64

    /// The train rows, read through plain pointers in the sampling loop.
    private struct Rows {
        let indptr: UnsafePointer<Int64>
        let indices: UnsafePointer<Int32>
        let nodeCount: Int

        /// Whether v may be the negative of anchor a with positive p.
        @inline(__always)
        func admissible(_ v: Int32, _ a: Int32, _ p: Int32) -> Bool {
            if v == a || v == p { return false }
            var lo = Int(indptr[Int(a)]), hi = Int(indptr[Int(a) + 1])
            while lo < hi {                                   // columns are sorted within a row
                let mid = (lo + hi) >> 1
                let c = indices[mid]
                if c == v { return false }
                if c < v { lo = mid + 1 } else { hi = mid }
            }
            return true
        }
    }

    /// Fills `buffer` with block `block` of `count` triplets.
    func fill(_ buffer: TripletBlock, count: Int, block: Int) -> TripletStatistics {
        var generator = SeededGenerator(seed: seed).stream(block)
        var stats = TripletStatistics(levels: levelCount)
        let n = graph.nodeCount
        buffer.count = count
        graph.indptr.withUnsafeBufferPointer { indptr in
        graph.indices.withUnsafeBufferPointer { indices in
        anchors.withUnsafeBufferPointer { anchors in
        buffer.anchor.withUnsafeMutableBufferPointer { anchorOut in
        buffer.positive.withUnsafeMutableBufferPointer { positiveOut in
        buffer.negative.withUnsafeMutableBufferPointer { negativeOut in
        buffer.negativeLevel.withUnsafeMutableBufferPointer { levelOut in
        withUnsafeTemporaryAllocation(of: Int.self, capacity: stats.requestedLevels.count) { requestedCounts in
            requestedCounts.initialize(repeating: 0)
            // fill runs only when there are anchors, so the graph has entries (non-nil base addresses).
            let rows = Rows(indptr: indptr.baseAddress!, indices: indices.baseAddress!, nodeCount: n)
            var first = 0
            while first < count {
                let m = min(Self.batch, count - first)
                let a = anchorOut.baseAddress! + first, p = positiveOut.baseAddress! + first
                let negative = negativeOut.baseAddress! + first, level = levelOut.baseAddress! + first
                for i in 0..<m { a[i] = anchors[generator.below(anchors.count)] }
                neighbours.draw(for: a, count: m, into: p, using: &generator)
                if let siblings {
                    for i in 0..<m {
                        let u = generator.unit()
                        var requested = 1
                        while requested < levelCumulative.count && u >= levelCumulative[requested - 1] { requested += 1 }
                        level[i] = Int8(requested)
                    }
                    siblings.drawSiblingVideos(a, levels: level, count: m, into: negative, using: &generator)
                } else {
                    for i in 0..<m {
                        level[i] = 0
                        negative[i] = Int32(generator.below(n))
                    }
                }
                for i in 0..<m {
                    let requested = Int(level[i])
                    requestedCounts[requested] += 1
                    if negative[i] >= 0 && rows.admissible(negative[i], a[i], p[i]) { continue }
                    // The rare case: the batched draw found no sibling or was rejected.
                    let firstDrawRejected = negative[i] >= 0
                    if firstDrawRejected { stats.rejectedDraws += 1 }
                    let (v, used) = requested == 0
                        ? (randomNegative(a[i], p[i], attempts: attempts - 1, rows: rows, generator: &generator, stats: &stats), 0)
                        : smartNegative(a[i], p[i], requested: requested, firstDrawRejected: firstDrawRejected,
                                        rows: rows, generator: &generator, stats: &stats)
                    negative[i] = v
                    level[i] = Int8(used)
                }
                first += m
            }
            for i in 0..<stats.requestedLevels.count { stats.requestedLevels[i] = requestedCounts[i] }
            for i in 0..<count { stats.negativeLevels[Int(levelOut[i])] += 1 }
        }}}}}}}}
        stats.triplets = count
        return stats
    }

    /// A uniform random admissible negative: bounded draws, then a scan (anchors have
    /// degree ≤ N − 2, so some video is admissible).
    private func randomNegative(_ a: Int32, _ p: Int32, attempts: Int, rows: Rows,
                                generator: inout SeededGenerator, stats: inout TripletStatistics) -> Int32 {
        for _ in 0..<max(0, attempts) {
            let v = Int32(generator.below(rows.nodeCount))
            if rows.admissible(v, a, p) { return v }
            stats.rejectedDraws += 1
        }
        stats.scans += 1
        var v = generator.below(rows.nodeCount)
        while !rows.admissible(Int32(v), a, p) { v = v + 1 == rows.nodeCount ? 0 : v + 1 }
        return Int32(v)
    }

    /// The negative of a smart triplet whose batched draw at `requested` found no sibling
    /// (`firstDrawRejected` false) or was rejected (true): the remaining draws at that
    /// level, then up the tree, then random. Returns the negative and the level used.
    private func smartNegative(_ a: Int32, _ p: Int32, requested: Int, firstDrawRejected: Bool, rows: Rows,
                               generator: inout SeededGenerator, stats: inout TripletStatistics) -> (Int32, Int) {
        guard let siblings else { return (randomNegative(a, p, attempts: attempts, rows: rows, generator: &generator, stats: &stats), 0) }
        var noSibling = false, rejected = false
        defer {
            if noSibling { stats.fallbackNoSibling += 1 }
            if rejected { stats.fallbackRejected += 1 }
        }
        var draws = firstDrawRejected ? 1 : 0                     // spent at the current level
        for level in requested...siblings.levelCount {
            while draws < attempts {
                let v = siblings.drawSiblingVideo(a, level: level, using: &generator)
                if v < 0 { noSibling = true; break }
                if rows.admissible(v, a, p) { return (v, level) }
                stats.rejectedDraws += 1
                draws += 1
            }
            if draws == attempts { rejected = true }
            draws = 0
        }
        return (randomNegative(a, p, attempts: attempts, rows: rows, generator: &generator, stats: &stats), 0)
    }
}
