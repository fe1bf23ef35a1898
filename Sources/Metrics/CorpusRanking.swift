import LinearAlgebra
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
    /// are located whatever their rank (a target is never excluded).
    public func rank(corpus: UnsafeBufferPointer<Float>, rows: Int, dimension: Int, queryRows: [Int],
                     excluded: [[Int32]], targets: [[Int32]], progress: Support.Progress? = nil) -> Result {
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
                                          progress: progress.map { p in { p.set($0) } }) { slots in
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
        var ap = 0.0
        for j in ts.indices {
            let above = ts.reduce(0) { $0 + ($1 >= ts[j] ? 1 : 0) }
            ap += Double(above) / Double(counts[j])
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
final class RowState {
    /// (row, score) overrides applied to each block before the scan: targets get their
    /// directly computed score, excluded rows (and the query) -infinity. Sorted by row.
    var overrides: [(row: Int, score: Float)] = []
    var targetScores: [Float] = []
    /// Target scores sorted descending, and the target index of each.
    var thresholds: [Float] = []
    var thresholdTarget: [Int] = []
    /// buckets[p]: ranked videos whose score x has thresholds[p] as the first threshold ≤ x.
    var buckets: [Int] = []

    func reset(query: Int, excluded: [Int32], targets: [Int32], corpus: UnsafePointer<Float>, dimension: Int) {
        overrides.removeAll(keepingCapacity: true)
        let targetSet = Set(targets)
        overrides.append((query, -.infinity))
        for row in excluded where Int(row) != query && !targetSet.contains(row) { overrides.append((Int(row), -.infinity)) }
        // A target's score is computed once here and written over the SGEMM value in its
        // block, so the heap, the counts and the reported score all see the same number.
        targetScores = targets.map { target in
            var dot: Float = 0
            let a = corpus + query * dimension, b = corpus + Int(target) * dimension
            for d in 0..<dimension { dot += a[d] * b[d] }
            return dot
        }
        for (t, row) in targets.enumerated() where Int(row) != query { overrides.append((Int(row), targetScores[t])) }
        overrides.sort { $0.row < $1.row }
        let scores = targetScores
        thresholdTarget = Array(targets.indices).sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        thresholds = thresholdTarget.map { scores[$0] }
        buckets = [Int](repeating: 0, count: thresholds.count)
    }

    /// Writes the overrides that fall in corpus rows `rows` into their score row.
    func applyOverrides(_ row: UnsafeMutablePointer<Float>, rows: Range<Int>) {
        var lo = 0, hi = overrides.count
        while lo < hi { let mid = (lo + hi) / 2; if overrides[mid].row < rows.lowerBound { lo = mid + 1 } else { hi = mid } }
        while lo < overrides.count && overrides[lo].row < rows.upperBound {
            row[overrides[lo].row - rows.lowerBound] = overrides[lo].score
            lo += 1
        }
    }

    /// Counts the (overridden) scores row[0..<count] against the target thresholds.
    func count(_ row: UnsafeMutablePointer<Float>, count: Int) {
        if thresholds.count <= Self.directCountLimit {
            // Few targets: one branch-free (vectorisable) counting pass per target over the
            // row, which sits in L1; bucket p then holds exactly the count for threshold p
            // minus the videos already counted for thresholds above it.
            var previous = 0
            for p in 0..<thresholds.count {
                let t = thresholds[p]
                let c = Self.countAtLeast(t, row, count)
                buckets[p] &+= c - previous
                previous = c
            }
        } else {
            let lowest = thresholds.last ?? .infinity
            for j in 0..<count where row[j] >= lowest { countAtLeast(row[j]) }
        }
    }

    /// Number of values in row[0..<count] that are ≥ t, sixteen lanes at a time.
    @inline(__always)
    static func countAtLeast(_ t: Float, _ row: UnsafeMutablePointer<Float>, _ count: Int) -> Int {
        let threshold = SIMD16<Float>(repeating: t), one = SIMD16<Int32>(repeating: 1)
        var lanes = SIMD16<Int32>(repeating: 0)
        let raw = UnsafeRawPointer(row)
        var j = 0
        while j + 16 <= count {
            let values = raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self)
            // All-ones where ≥ t, masked to 1: a compare and an and per vector (no blend).
            lanes &+= one & SIMD16<Int32>(repeating: 0).replacing(with: -1, where: values .>= threshold)
            j += 16
        }
        var total = Int(lanes.wrappedSum())
        while j < count { if row[j] >= t { total += 1 }; j += 1 }
        return total
    }

    /// Up to this many targets, counting uses one pass per target instead of a binary search per video.
    static let directCountLimit = 16

    @inline(__always)
    private func countAtLeast(_ x: Float) {
        // First threshold p (descending) with thresholds[p] ≤ x: x counts for targets p…end.
        var lo = 0, hi = thresholds.count
        while lo < hi { let mid = (lo + hi) / 2; if thresholds[mid] <= x { hi = mid } else { lo = mid + 1 } }
        buckets[lo] += 1
    }

    func targetCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: thresholds.count)
        var running = 0
        for p in 0..<thresholds.count {
            running += buckets[p]
            counts[thresholdTarget[p]] = running
        }
        return counts
    }
}
