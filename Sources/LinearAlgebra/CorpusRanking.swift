import GCMLShim
import Support

/// Exact ranking of a whole corpus by inner product for a set of queries:
/// the top k of every query, and for chosen "target" videos of each query
/// (its relevant videos) their score and how many ranked videos score at
/// least as high — the denominator of average precision over the full ranking.
///
/// One pass of LinearAlgebra's blocked scan (`TopK.scan`: SGEMM per query block ×
/// corpus block, as in faiss' IndexFlat): each score row goes to the shared top-k
/// heaps (`TopK.Heaps`) and, in the same visit, to this file's target counters.
/// Results do not depend on the thread count.
public struct CorpusRanking {
    public struct Result {
        /// Number of queries and entries per query (k, or fewer when the corpus is smaller).
        public var queryCount: Int
        public var k: Int
        /// Row q·k ..< (q+1)·k: the top videos of query q, best first (ties: lower row first);
        /// -1 with score -infinity pads when fewer than k videos are ranked.
        public var top: [Int32]
        public var topScores: [Float]
        /// Per query: the score of each target (in the order given).
        public var targetScores: [[Float]]
        /// Per query: for each target, the number of ranked videos with score ≥ its score
        /// (itself included): its 1-based rank when no scores tie.
        public var targetCounts: [[Int]]
    }

    public var k: Int
    public var queryBlock: Int
    public var corpusBlock: Int
    /// Worker threads, each running single-threaded SGEMM and the scan on its own query
    /// blocks; results do not depend on it.
    public var threads: Int

    public init(k: Int, queryBlock: Int = TopK.Blocking().queryBlock, corpusBlock: Int = TopK.Blocking().corpusBlock,
                threads: Int = BLAS.threads) {
        precondition(k > 0 && queryBlock > 0 && corpusBlock > 0)
        self.k = k
        self.queryBlock = queryBlock
        self.corpusBlock = corpusBlock
        self.threads = max(1, threads)
    }

    /// Ranks `corpus` ([rows, dimension] row-major) for the queries `queryRows` (rows of
    /// the corpus). A query never ranks itself nor its `excluded` rows; `targets[q]`
    /// are located whatever their rank (a target is never excluded). `progress` is set to
    /// `progressBase` plus the queries done.
    public func rank(corpus: UnsafeBufferPointer<Float>, rows: Int, dimension: Int, queryRows: [Int],
                     excluded: [[Int32]], targets: [[Int32]], progress: Support.Progress? = nil, progressBase: Int = 0) -> Result {
        precondition(corpus.count >= rows * dimension && excluded.count == queryRows.count && targets.count == queryRows.count)
        let q = queryRows.count, kk = min(k, max(0, rows - 1))
        var top = [Int32](repeating: -1, count: q * kk), topScores = [Float](repeating: -.infinity, count: q * kk)
        var targetScores = [[Float]](repeating: [], count: q), targetCounts = [[Int]](repeating: [], count: q)
        if q > 0, rows > 0, let base = corpus.baseAddress {
            top.withUnsafeMutableBufferPointer { top in
                topScores.withUnsafeMutableBufferPointer { topScores in
                    targetScores.withUnsafeMutableBufferPointer { targetScores in
                        targetCounts.withUnsafeMutableBufferPointer { targetCounts in
                            queryRows.withUnsafeBufferPointer { queryRowsBuffer in
                                let output = Output(top: top, topScores: topScores, targetScores: targetScores, targetCounts: targetCounts)
                                TopK.scan(queries: base, queryCount: q, queryRows: queryRowsBuffer.baseAddress!, corpus: base, corpusCount: rows,
                                          dimension: dimension, threads: threads,
                                          blocking: TopK.Blocking(queryBlock: queryBlock, corpusBlock: corpusBlock),
                                          progress: progress.map { p in { p.set(progressBase + $0) } }) { slots in
                                    RankingVisitor(slots: slots, k: kk, corpus: base, dimension: dimension, queryRows: queryRows,
                                                   excluded: excluded, targets: targets, output: output)
                                }
                            }
                        }
                    }
                }
            }
        }
        return Result(queryCount: q, k: kk, top: top, topScores: topScores, targetScores: targetScores, targetCounts: targetCounts)
    }
}

extension CorpusRanking.Result {
    /// Average precision of query q over the full ranking, its targets being the relevant videos:
    /// target j has precision (targets scoring ≥ s_j) / (videos scoring ≥ s_j). NaN without targets.
    public func averagePrecision(query q: Int) -> Double {
        let ts = targetScores[q], counts = targetCounts[q]
        let descending = ts.sorted(by: >)
        var ap = 0.0
        for j in ts.indices {
            // Targets scoring ≥ ts[j]: the prefix of the descending scores that is ≥ it (binary search).
            var lo = 0, hi = descending.count
            while lo < hi { let mid = (lo + hi) / 2; if descending[mid] >= ts[j] { lo = mid + 1 } else { hi = mid } }
            ap += Double(lo) / Double(counts[j])
        }
        return ap / Double(ts.count)
    }
}

/// Where the visitors write: each query's entries belong to the one worker that scans it.
struct Output {
    let top: UnsafeMutableBufferPointer<Int32>
    let topScores: UnsafeMutableBufferPointer<Float>
    let targetScores: UnsafeMutableBufferPointer<[Float]>
    let targetCounts: UnsafeMutableBufferPointer<[Int]>
}

/// One worker's view of the scan: per query slot the target overrides are written
/// into the score row, then the row feeds the shared top-k heaps and the target counts.
final class RankingVisitor: ScoreBlockVisitor {
    let heaps: TopK.Heaps
    let states: [RowState]
    let corpus: UnsafePointer<Float>
    let dimension: Int
    let queryRows: [Int]
    let excluded: [[Int32]]
    let targets: [[Int32]]
    let output: Output
    var first = 0

    init(slots: Int, k: Int, corpus: UnsafePointer<Float>, dimension: Int, queryRows: [Int], excluded: [[Int32]], targets: [[Int32]],
         output: Output) {
        heaps = TopK.Heaps(slots: slots, k: k)
        states = (0..<slots).map { _ in RowState() }
        self.corpus = corpus
        self.dimension = dimension
        self.queryRows = queryRows
        self.excluded = excluded
        self.targets = targets
        self.output = output
    }

    func begin(queries: Range<Int>) {
        first = queries.lowerBound
        heaps.reset(count: queries.count)
        for (slot, query) in queries.enumerated() {
            states[slot].reset(query: queryRows[query], excluded: excluded[query], targets: targets[query], corpus: corpus, dimension: dimension)
        }
    }

    func visit(_ scores: UnsafeMutablePointer<Float>, slot: Int, rows: Range<Int>) {
        let state = states[slot]
        state.applyOverrides(scores, rows: rows)
        heaps.offer(scores, count: rows.count, offset: rows.lowerBound, slot: slot)
        state.count(scores, count: rows.count)
    }

    func end(queries: Range<Int>) {
        let k = heaps.k
        for (slot, query) in queries.enumerated() {
            if k > 0 {
                heaps.finish(slot: slot, outScore: output.topScores.baseAddress! + query * k, outIndex: output.top.baseAddress! + query * k)
            }
            output.targetScores[query] = states[slot].targetScores
            output.targetCounts[query] = states[slot].targetCounts()
        }
    }
}

/// Per-query state beyond the top k: the score overrides and the counters of ranked
/// videos scoring at least each target's score.
///
/// Up to 64 targets are counted with one vectorised pass per eight targets over the score row. More
/// targets (a popular query has hundreds) use a lookup table instead of a binary search per
/// score, which cost more than the GEMM itself: the range [lowest, highest threshold] is cut
/// into `bins` equal bins by a monotone float map, the table gives how many thresholds lie in
/// bins below a score's bin, and only the thresholds inside its own bin (usually none) are
/// compared. So each score costs a few instructions whatever the number of targets.
final class RowState {
    /// (row, score) overrides applied to each block before the scan: targets get their
    /// directly computed score, excluded rows (and the query) -infinity. Sorted by row.
    var overrides: [(row: Int, score: Float)] = []
    var targetScores: [Float] = []
    /// Target scores sorted descending, and the target index of each.
    var thresholds: [Float] = []
    var thresholdTarget: [Int] = []

    /// Lookup-table counting (more than `directCountLimit` targets): thresholds ascending with
    /// a +infinity sentinel; per bin b the number of thresholds in bins before b and the first
    /// threshold from b on (read together, so the common case needs no dependent load); the map
    /// x ↦ bin; and per number n of thresholds ≤ x the videos counted, in `copies` interleaved
    /// histograms (consecutive scores hit different copies, so equal increments do not wait on
    /// each other).
    static let bins = 512
    static let copies = 4
    var ascending: [Float] = []
    var binFirst: [BinEntry] = []

    struct BinEntry {
        /// The first threshold (ascending) at or after this bin; +infinity when none.
        var threshold: Float
        /// Thresholds in the bins before this one.
        var below: UInt32
    }
    var lowest: Float = 0
    var scale: Float = 1
    var histogram: [Int32] = []

    func reset(query: Int, excluded: [Int32], targets: [Int32], corpus: UnsafePointer<Float>, dimension: Int) {
        overrides.removeAll(keepingCapacity: true)
        let targetSet = Set(targets)
        overrides.append((query, -.infinity))
        for row in excluded where Int(row) != query && !targetSet.contains(row) { overrides.append((Int(row), -.infinity)) }
        // A target's score is computed once here and written over the SGEMM value in its
        // block, so the heap, the counts and the reported score all see the same number.
        targetScores = Self.dots(corpus + query * dimension, targets, corpus, dimension)
        for (t, row) in targets.enumerated() where Int(row) != query { overrides.append((Int(row), targetScores[t])) }
        overrides.sort { $0.row < $1.row }
        nextOverride = 0
        let scores = targetScores
        thresholdTarget = Array(targets.indices).sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        thresholds = thresholdTarget.map { scores[$0] }
        atLeast = [Int64](repeating: 0, count: thresholds.count)
        if usesTable { prepareTable() }
    }

    /// The dot products of `query` with the rows `targets`, each summed in dimension order (so every
    /// number equals the plain loop's); four targets at a time, so the four sums' additions and the
    /// loads of their rows overlap instead of waiting on each other.
    static func dots(_ query: UnsafePointer<Float>, _ targets: [Int32], _ corpus: UnsafePointer<Float>, _ dimension: Int) -> [Float] {
        var result = [Float](repeating: 0, count: targets.count)
        var t = 0
        while t + 4 <= targets.count {
            let b0 = corpus + Int(targets[t]) * dimension, b1 = corpus + Int(targets[t + 1]) * dimension
            let b2 = corpus + Int(targets[t + 2]) * dimension, b3 = corpus + Int(targets[t + 3]) * dimension
            var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
            for d in 0..<dimension {
                let a = query[d]
                s0 += a * b0[d]
                s1 += a * b1[d]
                s2 += a * b2[d]
                s3 += a * b3[d]
            }
            (result[t], result[t + 1], result[t + 2], result[t + 3]) = (s0, s1, s2, s3)
            t += 4
        }
        while t < targets.count {
            let b = corpus + Int(targets[t]) * dimension
            var sum: Float = 0
            for d in 0..<dimension { sum += query[d] * b[d] }
            result[t] = sum
            t += 1
        }
        return result
    }

    var usesTable: Bool { thresholds.count > Self.directCountLimit }

    private func prepareTable() {
        let t = thresholds.count
        ascending = thresholds.reversed()
        ascending.append(.infinity)
        lowest = ascending[0]
        let range = ascending[t - 1] - lowest
        // Any positive finite scale keeps the map monotone; a zero or overflowing range puts every threshold in bin 0.
        let wanted = Float(Self.bins) / range
        scale = range > 0 && wanted.isFinite ? wanted : 1
        var below = [Int](repeating: 0, count: Self.bins + 1)
        for x in ascending.prefix(t) { below[bin(x) + 1] += 1 }
        for b in 0..<Self.bins { below[b + 1] += below[b] }
        binFirst = (0..<Self.bins).map { BinEntry(threshold: ascending[below[$0]], below: UInt32(below[$0])) }
        histogram = [Int32](repeating: 0, count: (t + 1) * Self.copies)
    }

    /// The monotone map score ↦ bin: x ≤ y gives bin(x) ≤ bin(y) (every step rounds monotonically:
    /// the clamped (x − lowest)·scale, then rounding to an integer by adding 2^23 and keeping the
    /// mantissa), so every threshold in a lower bin is below x. -infinity (excluded rows) lands in bin 0.
    @inline(__always)
    func bin(_ x: Float) -> Int {
        var y = (x - lowest) * scale
        if y < 0 { y = 0 }
        if y > Float(Self.bins - 1) { y = Float(Self.bins - 1) }
        return Int((y + Self.roundingMagic).bitPattern & 0x7F_FFFF)
    }

    /// 2^23: adding it to y in [0, 2^23) leaves round(y) in the mantissa bits.
    static let roundingMagic: Float = 0x1p23

    /// The first override not yet applied: a query's blocks arrive in increasing row order,
    /// so a cursor replaces a search per block (whose loads missed the cache).
    var nextOverride = 0

    /// Writes the overrides that fall in corpus rows `rows` into their score row.
    func applyOverrides(_ row: UnsafeMutablePointer<Float>, rows: Range<Int>) {
        overrides.withUnsafeBufferPointer { overrides in
            var next = nextOverride
            while next < overrides.count && overrides[next].row < rows.lowerBound { next += 1 }
            while next < overrides.count && overrides[next].row < rows.upperBound {
                row[overrides[next].row - rows.lowerBound] = overrides[next].score
                next += 1
            }
            nextOverride = next
        }
    }

    /// Counts the (overridden) scores row[0..<count] against the target thresholds.
    func count(_ row: UnsafeMutablePointer<Float>, count: Int) {
        if !usesTable {
            // Up to `directCountLimit` targets: branch-free vector compares of the row (in L1) against
            // eight thresholds per pass (GCMLShim's rank_count.c, AVX2 where the CPU has it), added to
            // the running count of each threshold.
            thresholds.withUnsafeBufferPointer { thresholds in
                atLeast.withUnsafeMutableBufferPointer { atLeast in
                    gcml_count_at_least(Self.kernel, thresholds.baseAddress, thresholds.count, row, count, atLeast.baseAddress)
                }
            }
            return
        }
        let copies = Self.copies
        let low = SIMD16<Float>(repeating: lowest), scale = SIMD16<Float>(repeating: scale)
        let zero = SIMD16<Float>(repeating: 0), top = SIMD16<Float>(repeating: Float(Self.bins - 1))
        let magic = SIMD16<Float>(repeating: Self.roundingMagic), mantissa = SIMD16<UInt32>(repeating: 0x7F_FFFF)
        ascending.withUnsafeBufferPointer { ascending in
            binFirst.withUnsafeBufferPointer { binFirst in
                histogram.withUnsafeMutableBufferPointer { histogram in
                    let ascending = ascending.baseAddress!, binFirst = binFirst.baseAddress!, histogram = histogram.baseAddress!
                    // n = thresholds ≤ x: those of lower bins, then the few in x's own bin. Thresholds of
                    // higher bins exceed x and the sentinel is +infinity, so no bound check is needed.
                    @inline(__always) func tally(_ x: Float, _ bin: Int, _ copy: Int) {
                        let entry = binFirst[bin]
                        var n = Int(entry.below) + (entry.threshold <= x ? 1 : 0)
                        while ascending[n] <= x { n += 1 }  // a second threshold in x's bin: rare
                        histogram[n * copies + copy] &+= 1
                    }
                    // Sixteen bins at a time with vector arithmetic (the same operations as `bin`).
                    let raw = UnsafeRawPointer(row)
                    var j = 0
                    while j + 16 <= count {
                        var y = (raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self) - low) * scale
                        y.replace(with: zero, where: y .< zero)
                        y.replace(with: top, where: y .> top)
                        let bins = unsafeBitCast(y + magic, to: SIMD16<UInt32>.self) & mantissa
                        for i in 0..<16 { tally(row[j + i], Int(bins[i]), i & (copies - 1)) }
                        j += 16
                    }
                    while j < count {
                        tally(row[j], bin(row[j]), j & (copies - 1))
                        j += 1
                    }
                }
            }
        }
    }

    /// Up to this many targets, counting uses the compare passes instead of the lookup table: the passes
    /// are branch-free vector compares, the table a few dependent scalar loads per score, so they cost about
    /// the same near 64 targets with SSE2 (measured with `gcml-bench retrieval --targets T`, T = 24…96; with
    /// AVX2 the passes are about twice as fast, so 64 is the safe choice for both).
    static let directCountLimit = 64

    /// The compare kernel: the best this CPU runs (all give the same counts).
    static let kernel = gcml_count_at_least_best_kernel()

    /// Compare passes (up to `directCountLimit` targets): atLeast[p], the ranked videos scoring ≥ thresholds[p].
    var atLeast: [Int64] = []

    func targetCounts() -> [Int] {
        let t = thresholds.count
        var counts = [Int](repeating: 0, count: t)
        guard usesTable else {
            for p in 0..<t { counts[thresholdTarget[p]] = Int(atLeast[p]) }
            return counts
        }
        // Videos with n thresholds ≤ their score count for the n lowest thresholds:
        // descending threshold p is reached by those with n ≥ t − p.
        var running = 0
        for p in 0..<t {
            for c in 0..<Self.copies { running += Int(histogram[(t - p) * Self.copies + c]) }
            counts[thresholdTarget[p]] = running
        }
        return counts
    }
}
