import Dispatch
import LinearAlgebra
import Support

/// Exact ranking of a whole corpus by inner product for a set of queries:
/// the top k of every query, and for chosen "target" videos of each query
/// (its relevant videos) their score and how many ranked videos score at
/// least as high — the denominator of average precision over the full ranking.
///
/// Blocked: a block of queries times a block of corpus rows is one SGEMM
/// (BLAS-3 is the cost, as in faiss' IndexFlat), then each score row of the
/// block is scanned once for the top-k heap and the target counts.
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
    /// Threads for the scan after each SGEMM (BLAS uses its own setting); results
    /// do not depend on it.
    public var threads: Int

    public init(k: Int, queryBlock: Int = 1024, corpusBlock: Int = 4096, threads: Int = BLAS.threads) {
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
        var result = Result(queryCount: q, k: kk, top: [Int32](repeating: -1, count: q * kk),
                            topScores: [Float](repeating: -.infinity, count: q * kk),
                            targetScores: [], targetCounts: [])
        result.targetScores.reserveCapacity(q)
        result.targetCounts.reserveCapacity(q)
        guard q > 0, rows > 0, let base = corpus.baseAddress else { return result }

        let bq = min(queryBlock, q), bc = min(corpusBlock, rows)
        var queryBuffer = [Float](repeating: 0, count: bq * dimension)
        var scores = [Float](repeating: 0, count: bq * bc)
        let states = (0..<bq).map { _ in RowState(k: kk) }

        for q0 in stride(from: 0, to: q, by: bq) {
            let m = min(bq, q - q0)
            // Gather the block's query vectors; set up each query's heap and targets.
            for i in 0..<m {
                let row = queryRows[q0 + i]
                for d in 0..<dimension { queryBuffer[i * dimension + d] = base[row * dimension + d] }
                states[i].reset(query: row, excluded: excluded[q0 + i], targets: targets[q0 + i],
                                corpus: base, dimension: dimension)
            }
            for c0 in stride(from: 0, to: rows, by: bc) {
                let n = min(bc, rows - c0)
                queryBuffer.withUnsafeBufferPointer { qb in
                    scores.withUnsafeMutableBufferPointer { s in
                        BLAS.gemm(transposeB: true, m: m, n: n, k: dimension, a: qb.baseAddress!, lda: dimension,
                                  b: base + c0 * dimension, ldb: dimension, c: s.baseAddress!, ldc: n)
                    }
                }
                // Rows are independent: split them over threads (deterministic for any count).
                let workers = min(threads, m)
                scores.withUnsafeMutableBufferPointer { s in
                    let sp = s.baseAddress!
                    DispatchQueue.concurrentPerform(iterations: workers) { w in
                        for i in stride(from: w, to: m, by: workers) {
                            states[i].scan(sp + i * n, count: n, firstRow: c0)
                        }
                    }
                }
            }
            for i in 0..<m {
                let (ids, values) = states[i].sortedTop()
                for j in 0..<ids.count {
                    result.top[(q0 + i) * kk + j] = ids[j]
                    result.topScores[(q0 + i) * kk + j] = values[j]
                }
                result.targetScores.append(states[i].targetScores)
                result.targetCounts.append(states[i].targetCounts())
            }
            progress?.advance(by: m)
        }
        return result
    }
}

/// Per-query scan state: a size-k min-heap (worst of the best on top) and the
/// counters of ranked videos scoring at least each target's score. A class with
/// its own buffers so that worker threads each update distinct states in place.
final class RowState {
    let k: Int
    let heapScores: UnsafeMutablePointer<Float>
    let heapRows: UnsafeMutablePointer<Int32>
    var heapCount = 0
    /// (row, score) overrides applied to each block before the scan: targets get their
    /// directly computed score, excluded rows -infinity. Sorted by row.
    var overrides: [(row: Int, score: Float)] = []
    var targetScores: [Float] = []
    /// Target scores sorted descending, and the target index of each.
    var thresholds: [Float] = []
    var thresholdTarget: [Int] = []
    /// buckets[p]: ranked videos whose score x has thresholds[p] as the first threshold ≤ x.
    var buckets: [Int] = []

    init(k: Int) {
        self.k = k
        heapScores = .allocate(capacity: max(1, k))
        heapRows = .allocate(capacity: max(1, k))
    }

    deinit {
        heapScores.deallocate()
        heapRows.deallocate()
    }

    func reset(query: Int, excluded: [Int32], targets: [Int32], corpus: UnsafePointer<Float>, dimension: Int) {
        heapCount = 0
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

    /// Scans the scores of corpus rows firstRow ..< firstRow+count (modified in place by the overrides).
    func scan(_ row: UnsafeMutablePointer<Float>, count: Int, firstRow: Int) {
        var lo = 0, hi = overrides.count
        while lo < hi { let mid = (lo + hi) / 2; if overrides[mid].row < firstRow { lo = mid + 1 } else { hi = mid } }
        while lo < overrides.count && overrides[lo].row < firstRow + count {
            row[overrides[lo].row - firstRow] = overrides[lo].score
            lo += 1
        }
        var floor = heapCount < k ? -Float.infinity : (k == 0 ? Float.infinity : heapScores[0])
        // Rows arrive in increasing order, so an equal score never displaces an earlier
        // row: ties rank the lower row first. Eight scores are tested against the heap's
        // floor at once; only a group with a candidate is walked one by one.
        let raw = UnsafeRawPointer(row)
        var j = 0
        while j + 8 <= count {
            let values = raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            if any(values .> SIMD8<Float>(repeating: floor)) {
                for lane in 0..<8 where values[lane] > floor {
                    push(values[lane], Int32(firstRow + j + lane))
                    if heapCount == k { floor = heapScores[0] }
                }
            }
            j += 8
        }
        while j < count {
            if row[j] > floor {
                push(row[j], Int32(firstRow + j))
                if heapCount == k { floor = heapScores[0] }
            }
            j += 1
        }
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

    /// Number of values in row[0..<count] that are ≥ t, eight lanes at a time.
    @inline(__always)
    static func countAtLeast(_ t: Float, _ row: UnsafeMutablePointer<Float>, _ count: Int) -> Int {
        let threshold = SIMD8<Float>(repeating: t), one = SIMD8<Int32>(repeating: 1)
        var lanes = SIMD8<Int32>(repeating: 0)
        let raw = UnsafeRawPointer(row)
        var j = 0
        while j + 8 <= count {
            let values = raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            lanes &+= SIMD8<Int32>(repeating: 0).replacing(with: one, where: values .>= threshold)
            j += 8
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

    /// Min-heap on score (at equal score the larger row is worse) of at most k entries.
    @inline(__always)
    private func push(_ score: Float, _ row: Int32) {
        let hs = heapScores, hr = heapRows
        @inline(__always) func worse(_ a: Int, _ b: Int) -> Bool { hs[a] < hs[b] || (hs[a] == hs[b] && hr[a] > hr[b]) }
        @inline(__always) func swap(_ a: Int, _ b: Int) {
            let s = hs[a]; hs[a] = hs[b]; hs[b] = s
            let r = hr[a]; hr[a] = hr[b]; hr[b] = r
        }
        if heapCount < k {
            var i = heapCount
            hs[i] = score; hr[i] = row
            heapCount += 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard worse(i, parent) else { break }
                swap(i, parent)
                i = parent
            }
            return
        }
        hs[0] = score; hr[0] = row
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < heapCount && worse(l, smallest) { smallest = l }
            if r < heapCount && worse(r, smallest) { smallest = r }
            if smallest == i { break }
            swap(i, smallest)
            i = smallest
        }
    }

    func sortedTop() -> ([Int32], [Float]) {
        let hs = heapScores, hr = heapRows
        let order = (0..<heapCount).sorted { hs[$0] > hs[$1] || (hs[$0] == hs[$1] && hr[$0] < hr[$1]) }
        return (order.map { hr[$0] }, order.map { hs[$0] })
    }
}
