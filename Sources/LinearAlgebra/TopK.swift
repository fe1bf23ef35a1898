import Dispatch
import Support

/// The k best corpus rows of every query: row-major [queryCount, k], best first.
/// When fewer than k candidates exist, the tail is padded with index -1 and score -inf.
public struct TopKResult: Sendable, Equatable {
    public var queryCount: Int
    public var k: Int
    public var indices: [Int32]
    public var scores: [Float]

    public init(queryCount: Int, k: Int, indices: [Int32], scores: [Float]) {
        self.queryCount = queryCount
        self.k = k
        self.indices = indices
        self.scores = scores
    }

    public func indices(of query: Int) -> ArraySlice<Int32> { indices[(query * k)..<((query + 1) * k)] }
    public func scores(of query: Int) -> ArraySlice<Float> { scores[(query * k)..<((query + 1) * k)] }
}

/// Exact maximum-inner-product search (cosine similarity on unit rows) of queries
/// against a corpus, the way faiss's flat index does it: scores of a block of
/// queries against a block of the corpus come from one SGEMM, and a scan keeps
/// each query's k best in a small heap. The scan compares 32 scores at a time
/// against the heap's worst and touches the heap only when one beats it, so the
/// selection costs a fraction of the GEMM.
///
/// Ties are broken by the smaller corpus row. Each worker thread runs single-threaded
/// SGEMM on its own query blocks, so results are bit-identical for any thread count
/// (other block sizes may change scores in the last bit, through GEMM rounding).
public enum TopK {
    /// Rows of queries and corpus per block (the score block is queryBlock × corpusBlock floats).
    public struct Blocking: Sendable {
        public var queryBlock: Int
        public var corpusBlock: Int
        public init(queryBlock: Int = 256, corpusBlock: Int = 4096) {
            self.queryBlock = max(1, queryBlock)
            self.corpusBlock = max(16, corpusBlock)
        }
    }

    /// - Parameters:
    ///   - queries: [queryCount, dimension] row-major.
    ///   - corpus: [corpusCount, dimension] row-major.
    ///   - excluding: optional corpus row to skip for each query (e.g. the query itself), -1 for none.
    ///   - threads: worker threads; each runs single-threaded SGEMM on its own query blocks.
    ///   - progress: called with the number of queries finished so far (from worker threads, serialised).
    public static func innerProduct(queries: UnsafePointer<Float>, queryCount: Int, corpus: UnsafePointer<Float>, corpusCount: Int,
                                    dimension: Int, k: Int, excluding: UnsafePointer<Int32>? = nil, threads: Int = 1,
                                    blocking: Blocking = Blocking(), progress: ((Int) -> Void)? = nil) -> TopKResult {
        precondition(k >= 1 && dimension >= 1)
        var indices = [Int32](repeating: -1, count: queryCount * k)
        var scores = [Float](repeating: -.infinity, count: queryCount * k)
        guard queryCount > 0, corpusCount > 0 else { return TopKResult(queryCount: queryCount, k: k, indices: indices, scores: scores) }
        let qb = min(blocking.queryBlock, queryCount)
        let cb = min((blocking.corpusBlock + 15) / 16 * 16, (corpusCount + 15) / 16 * 16)
        let blocks = (queryCount + qb - 1) / qb
        let workers = max(1, min(threads, blocks))
        // Every GEMM single-threaded on the same block shapes: identical results for any thread count.
        let savedThreads = BLAS.threads
        BLAS.threads = 1
        defer { BLAS.threads = savedThreads }
        let lock = DispatchQueue(label: "gcml.topk.progress")
        var finished = 0
        indices.withUnsafeMutableBufferPointer { outIndex in
            scores.withUnsafeMutableBufferPointer { outScore in
                let outIndex = outIndex.baseAddress!, outScore = outScore.baseAddress!
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    // Per-worker buffers, allocated once: the score block and the heaps of a query block.
                    let block = UnsafeMutablePointer<Float>.allocate(capacity: qb * cb)
                    let heapScore = UnsafeMutablePointer<Float>.allocate(capacity: qb * k)
                    let heapIndex = UnsafeMutablePointer<Int32>.allocate(capacity: qb * k)
                    defer { block.deallocate(); heapScore.deallocate(); heapIndex.deallocate() }
                    var blockIndex = worker
                    while blockIndex < blocks {
                        let q0 = blockIndex * qb, qn = min(qb, queryCount - q0)
                        heapScore.update(repeating: -.infinity, count: qn * k)
                        heapIndex.update(repeating: Int32.max, count: qn * k)
                        var c0 = 0
                        while c0 < corpusCount {
                            let cn = min(cb, corpusCount - c0)
                            BLAS.gemm(transposeB: true, m: qn, n: cn, k: dimension, a: queries + q0 * dimension, lda: dimension,
                                      b: corpus + c0 * dimension, ldb: dimension, c: block, ldc: cn)
                            for q in 0..<qn {
                                let skip = excluding.map { Int($0[q0 + q]) - c0 } ?? -1
                                scan(block + q * cn, count: cn, offset: c0, skip: skip, heapScore: heapScore + q * k, heapIndex: heapIndex + q * k, k: k)
                            }
                            c0 += cn
                        }
                        for q in 0..<qn {
                            finishHeap(heapScore + q * k, heapIndex + q * k, k: k,
                                       outScore: outScore + (q0 + q) * k, outIndex: outIndex + (q0 + q) * k)
                        }
                        if let progress {
                            lock.sync {
                                finished += qn
                                progress(finished)
                            }
                        }
                        blockIndex += workers
                    }
                }
            }
        }
        return TopKResult(queryCount: queryCount, k: k, indices: indices, scores: scores)
    }

    /// Matrix form: rows of `queries` against rows of `corpus`.
    public static func innerProduct(queries: Matrix<Float>, corpus: Matrix<Float>, k: Int, excluding: [Int32]? = nil,
                                    threads: Int = 1, blocking: Blocking = Blocking(), progress: ((Int) -> Void)? = nil) -> TopKResult {
        precondition(queries.columns == corpus.columns, "TopK: queries and corpus differ in dimension")
        precondition(excluding == nil || excluding!.count == queries.rows, "TopK: one excluded row per query")
        return queries.values.withUnsafeBufferPointer { q in
            corpus.values.withUnsafeBufferPointer { c in
                let run = { (skip: UnsafePointer<Int32>?) in
                    innerProduct(queries: q.baseAddress!, queryCount: queries.rows, corpus: c.baseAddress!, corpusCount: corpus.rows,
                                 dimension: queries.columns, k: k, excluding: skip, threads: threads, blocking: blocking, progress: progress)
                }
                if let excluding { return excluding.withUnsafeBufferPointer { run($0.baseAddress!) } }
                return run(nil)
            }
        }
    }

    /// Offers scores[0..<count] (corpus rows offset..<offset+count) to a min-heap of the k best.
    /// The heap's root is its worst entry; corpus rows arrive in increasing order, so an equal
    /// score never displaces an entry (the smaller row wins ties).
    @inline(__always)
    static func scan(_ scores: UnsafePointer<Float>, count: Int, offset: Int, skip: Int,
                     heapScore: UnsafeMutablePointer<Float>, heapIndex: UnsafeMutablePointer<Int32>, k: Int) {
        var threshold = heapScore[0]
        var j = 0
        // 32 scores per test: an OR of comparisons, which the compiler turns into a few vector compares.
        while j + 32 <= count {
            var hit: UInt32 = 0
            for t in 0..<32 { hit |= scores[j + t] > threshold ? 1 : 0 }
            if hit != 0 {
                for t in j..<(j + 32) where scores[t] > threshold && t != skip {
                    replaceRoot(heapScore, heapIndex, k: k, score: scores[t], index: Int32(offset + t))
                    threshold = heapScore[0]
                }
            }
            j += 32
        }
        while j < count {
            if scores[j] > threshold && j != skip {
                replaceRoot(heapScore, heapIndex, k: k, score: scores[j], index: Int32(offset + j))
                threshold = heapScore[0]
            }
            j += 1
        }
    }

    /// "a is worse than b": lower score, or equal score and larger row.
    @inline(__always)
    static func worse(_ sa: Float, _ ia: Int32, _ sb: Float, _ ib: Int32) -> Bool { sa < sb || (sa == sb && ia > ib) }

    @inline(__always)
    static func replaceRoot(_ score: UnsafeMutablePointer<Float>, _ index: UnsafeMutablePointer<Int32>, k: Int, score s: Float, index i: Int32) {
        var node = 0
        while true {
            let left = 2 * node + 1
            if left >= k { break }
            var child = left
            let right = left + 1
            if right < k && worse(score[right], index[right], score[left], index[left]) { child = right }
            if worse(score[child], index[child], s, i) {
                score[node] = score[child]
                index[node] = index[child]
                node = child
            } else { break }
        }
        score[node] = s
        index[node] = i
    }

    /// Heap → best-first rows, padding (-inf, -1) where fewer than k candidates existed.
    static func finishHeap(_ score: UnsafeMutablePointer<Float>, _ index: UnsafeMutablePointer<Int32>, k: Int,
                           outScore: UnsafeMutablePointer<Float>, outIndex: UnsafeMutablePointer<Int32>) {
        var entries = (0..<k).map { (score[$0], index[$0]) }
        entries.sort { worse($1.0, $1.1, $0.0, $0.1) }
        for (slot, entry) in entries.enumerated() {
            let empty = entry.1 == Int32.max
            outScore[slot] = empty ? -.infinity : entry.0
            outIndex[slot] = empty ? -1 : entry.1
        }
    }
}
