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

/// Receives the score blocks of a blocked scan (`TopK.scan`). Each worker thread gets its
/// own visitor and is its only user, so a visitor may keep per-query state without locks.
public protocol ScoreBlockVisitor: AnyObject {
    /// The queries `queries` are about to be scored; slot i is query `queries.lowerBound + i`.
    func begin(queries: Range<Int>)
    /// The scores of query slot `slot` against corpus rows `rows`. Blocks of one query arrive
    /// in increasing row order; the scores may be modified in place.
    func visit(_ scores: UnsafeMutablePointer<Float>, slot: Int, rows: Range<Int>)
    /// Every corpus block of `queries` has been visited.
    func end(queries: Range<Int>)
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
///
/// `scan` is the blocked pass itself, for callers that need more from each score block
/// than the top k (e.g. full-corpus rank counts); `Heaps` is the top-k selection.
public enum TopK {
    /// Rows of queries and corpus per block (the score block is queryBlock × corpusBlock floats).
    public struct Blocking: Sendable {
        public var queryBlock: Int
        public var corpusBlock: Int
        public init(queryBlock: Int = 1024, corpusBlock: Int = 1024) {
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
        indices.withUnsafeMutableBufferPointer { outIndex in
            scores.withUnsafeMutableBufferPointer { outScore in
                scan(queries: queries, queryCount: queryCount, corpus: corpus, corpusCount: corpusCount, dimension: dimension,
                     threads: threads, blocking: blocking, progress: progress) { capacity in
                    Nearest(capacity: capacity, k: k, excluding: excluding, outScore: outScore.baseAddress!, outIndex: outIndex.baseAddress!)
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

    /// The blocked pass: every query's inner products with every corpus row, one SGEMM per
    /// (query block, corpus block) into a per-worker buffer, handed to that worker's visitor
    /// row by row. Query blocks are dealt round-robin to `threads` workers, each running
    /// single-threaded SGEMM on the same block shapes, so every score is bit-identical for
    /// any thread count.
    ///
    /// - Parameters:
    ///   - queries: [*, dimension] row-major; query i is row `queryRows[i]` when given, else row i.
    ///   - queryCount: number of queries.
    ///   - corpus: [corpusCount, dimension] row-major.
    ///   - progress: called with the number of queries finished so far (from worker threads, serialised).
    ///   - makeVisitor: called once per worker (on the calling thread, before the pass) with the
    ///     number of query slots a block can hold.
    public static func scan<Visitor: ScoreBlockVisitor>(queries: UnsafePointer<Float>, queryCount: Int, queryRows: UnsafePointer<Int>? = nil,
                                                        corpus: UnsafePointer<Float>, corpusCount: Int, dimension: Int, threads: Int = 1,
                                                        blocking: Blocking = Blocking(), progress: ((Int) -> Void)? = nil,
                                                        visitors makeVisitor: (_ slots: Int) -> Visitor) {
        precondition(dimension >= 1)
        guard queryCount > 0, corpusCount > 0 else { return }
        let qb = min(blocking.queryBlock, queryCount)
        let cb = min((blocking.corpusBlock + 15) / 16 * 16, (corpusCount + 15) / 16 * 16)
        let blocks = (queryCount + qb - 1) / qb
        let workers = max(1, min(threads, blocks))
        let visitors = (0..<workers).map { _ in makeVisitor(qb) }
        // Every GEMM single-threaded on the same block shapes: identical results for any thread count.
        let lock = DispatchQueue(label: "gcml.topk.progress")
        var finished = 0
        BLAS.withThreads(1) {
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let visitor = visitors[worker]
                // Per-worker buffers, allocated once: the score block and, for gathered queries, the query block.
                let block = UnsafeMutablePointer<Float>.allocate(capacity: qb * cb)
                let gathered = queryRows == nil ? nil : UnsafeMutablePointer<Float>.allocate(capacity: qb * dimension)
                defer { block.deallocate(); gathered?.deallocate() }
                var blockIndex = worker
                while blockIndex < blocks {
                    let q0 = blockIndex * qb, qn = min(qb, queryCount - q0)
                    var a = queries + q0 * dimension
                    if let queryRows, let gathered {
                        for i in 0..<qn { (gathered + i * dimension).update(from: queries + queryRows[q0 + i] * dimension, count: dimension) }
                        a = UnsafePointer(gathered)
                    }
                    visitor.begin(queries: q0..<(q0 + qn))
                    var c0 = 0
                    while c0 < corpusCount {
                        let cn = min(cb, corpusCount - c0)
                        BLAS.gemm(transposeB: true, m: qn, n: cn, k: dimension, a: a, lda: dimension,
                                  b: corpus + c0 * dimension, ldb: dimension, c: block, ldc: cn)
                        for q in 0..<qn { visitor.visit(block + q * cn, slot: q, rows: c0..<(c0 + cn)) }
                        c0 += cn
                    }
                    visitor.end(queries: q0..<(q0 + qn))
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

    /// The k best (score, corpus row) of each query of a block: per query slot a min-heap
    /// whose root is its worst entry. Rows must be offered in increasing order, so an equal
    /// score never displaces an entry (the smaller row wins ties). Scores of -inf never enter.
    public final class Heaps {
        public let k: Int
        public let slots: Int
        let score: UnsafeMutablePointer<Float>
        let index: UnsafeMutablePointer<Int32>

        public init(slots: Int, k: Int) {
            precondition(slots >= 0 && k >= 0)
            self.slots = slots
            self.k = k
            score = .allocate(capacity: max(1, slots * k))
            index = .allocate(capacity: max(1, slots * k))
        }

        deinit {
            score.deallocate()
            index.deallocate()
        }

        /// Empties the heaps of slots 0..<count.
        public func reset(count: Int) {
            precondition(count <= slots)
            score.update(repeating: -.infinity, count: count * k)
            index.update(repeating: Int32.max, count: count * k)
        }

        /// Offers scores[0..<count], the scores of corpus rows offset..<offset+count, to slot's heap.
        public func offer(_ scores: UnsafePointer<Float>, count: Int, offset: Int, slot: Int) {
            guard k > 0 else { return }
            TopK.offer(scores, count: count, offset: offset, heapScore: score + slot * k, heapIndex: index + slot * k, k: k)
        }

        /// Writes slot's entries best first to outScore/outIndex[0..<k], padding (-inf, -1)
        /// where fewer than k candidates were offered.
        public func finish(slot: Int, outScore: UnsafeMutablePointer<Float>, outIndex: UnsafeMutablePointer<Int32>) {
            guard k > 0 else { return }
            TopK.finishHeap(score + slot * k, index + slot * k, k: k, outScore: outScore, outIndex: outIndex)
        }
    }

    /// innerProduct's visitor: an excluded row scores -inf, every row is offered to the heaps.
    final class Nearest: ScoreBlockVisitor {
        let heaps: Heaps
        let excluding: UnsafePointer<Int32>?
        let outScore: UnsafeMutablePointer<Float>
        let outIndex: UnsafeMutablePointer<Int32>
        var first = 0

        init(capacity: Int, k: Int, excluding: UnsafePointer<Int32>?, outScore: UnsafeMutablePointer<Float>, outIndex: UnsafeMutablePointer<Int32>) {
            heaps = Heaps(slots: capacity, k: k)
            self.excluding = excluding
            self.outScore = outScore
            self.outIndex = outIndex
        }

        func begin(queries: Range<Int>) {
            first = queries.lowerBound
            heaps.reset(count: queries.count)
        }

        func visit(_ scores: UnsafeMutablePointer<Float>, slot: Int, rows: Range<Int>) {
            if let excluding {
                let skip = Int(excluding[first + slot])
                if rows.contains(skip) { scores[skip - rows.lowerBound] = -.infinity }
            }
            heaps.offer(scores, count: rows.count, offset: rows.lowerBound, slot: slot)
        }

        func end(queries: Range<Int>) {
            let k = heaps.k
            for slot in 0..<queries.count {
                heaps.finish(slot: slot, outScore: outScore + (first + slot) * k, outIndex: outIndex + (first + slot) * k)
            }
        }
    }

    /// Offers scores[0..<count] (corpus rows offset..<offset+count) to a min-heap of the k best.
    /// The heap's root is its worst entry; corpus rows arrive in increasing order, so an equal
    /// score never displaces an entry (the smaller row wins ties).
    @inline(__always)
    static func offer(_ scores: UnsafePointer<Float>, count: Int, offset: Int,
                      heapScore: UnsafeMutablePointer<Float>, heapIndex: UnsafeMutablePointer<Int32>, k: Int) {
        var threshold = heapScore[0]
        var j = 0
        let raw = UnsafeRawPointer(scores)
        // 32 scores per test with explicit vector compares (a scalar OR loop is ~7× slower).
        while j + 32 <= count {
            let limit = SIMD16<Float>(repeating: threshold)
            let low = raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self)
            let high = raw.loadUnaligned(fromByteOffset: j * 4 + 64, as: SIMD16<Float>.self)
            if any((low .> limit) .| (high .> limit)) {
                for t in j..<(j + 32) where scores[t] > threshold {
                    replaceRoot(heapScore, heapIndex, k: k, score: scores[t], index: Int32(offset + t))
                    threshold = heapScore[0]
                }
            }
            j += 32
        }
        while j < count {
            if scores[j] > threshold {
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
