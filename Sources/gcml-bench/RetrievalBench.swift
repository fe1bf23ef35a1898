import Foundation
import LinearAlgebra
import Metrics
import Support

/// Full-corpus retrieval benchmark (eval-map-ndcg --candidates all): exact top-k
/// by cosine for Q queries against N unit vectors of D dims, with 5 relevant
/// videos located and 5 train neighbours excluded per query, as the evaluator
/// does. Prints seconds, queries/s and achieved GFLOP/s (2·Q·N·D flops), the same
/// SGEMM blocks alone (the ceiling), and faiss IndexFlatIP on the same data
/// when Python has faiss (bench/retrieval.py).
///
/// Options: --videos 100000 --dims 256 --queries 10000 --k 60 --threads 2
///          --query-block 1024 --corpus-block 1024 (TopK.Blocking defaults)
enum RetrievalBench {
    static func run(_ arguments: [String]) throws {
        var videos = 100_000, dims = 256, queries = 10_000, k = 60, threads = 2, queryBlock = TopK.Blocking().queryBlock, corpusBlock = TopK.Blocking().corpusBlock
        var index = 0
        func value() throws -> Int {
            index += 1
            guard index < arguments.count, let number = Int(arguments[index]) else {
                throw GCMLError("retrieval bench: \(arguments[index - 1]) needs a number")
            }
            return number
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--videos": videos = try value()
            case "--dims": dims = try value()
            case "--queries": queries = try value()
            case "--k": k = try value()
            case "--threads": threads = try value()
            case "--query-block": queryBlock = try value()
            case "--corpus-block": corpusBlock = try value()
            default: throw GCMLError("retrieval bench: unknown option \(arguments[index])")
            }
            index += 1
        }
        queries = min(queries, videos)
        print("== full-corpus retrieval: \(queries) queries x \(videos) videos x \(dims) dims, top \(k), \(threads) threads ==")

        var generator = SeededGenerator(seed: 1)
        var corpus = [Float](repeating: 0, count: videos * dims)
        for r in 0..<videos {
            var norm: Float = 0
            for j in 0..<dims { let x = Float(generator.normal()); corpus[r * dims + j] = x; norm += x * x }
            let scale = 1 / norm.squareRoot()
            for j in 0..<dims { corpus[r * dims + j] *= scale }
        }
        let queryRows = Array(0..<queries)
        let excluded = queryRows.map { _ in (0..<5).map { _ in Int32(generator.below(videos)) } }
        let targets = queryRows.map { q in (0..<5).map { _ in Int32(generator.below(videos)) }.filter { Int($0) != q } }
        let flops = 2 * Double(queries) * Double(videos) * Double(dims)

        // The SGEMM blocks alone: the ceiling for this shape.
        let gemmSeconds = corpus.withUnsafeBufferPointer { c -> Double in
            let bq = min(queryBlock, queries), bc = min(corpusBlock, videos)
            var scores = [Float](repeating: 0, count: bq * bc)
            let start = Date()
            for q0 in stride(from: 0, to: queries, by: bq) {
                let m = min(bq, queries - q0)
                for c0 in stride(from: 0, to: videos, by: bc) {
                    let n = min(bc, videos - c0)
                    scores.withUnsafeMutableBufferPointer { s in
                        BLAS.gemm(transposeB: true, m: m, n: n, k: dims, a: c.baseAddress! + q0 * dims, lda: dims,
                                  b: c.baseAddress! + c0 * dims, ldb: dims, c: s.baseAddress!, ldc: n)
                    }
                }
            }
            return Date().timeIntervalSince(start)
        }
        print(String(format: "SGEMM blocks only      %7.2f s  %7.1f GFLOP/s", gemmSeconds, flops / gemmSeconds / 1e9))

        let ranking = CorpusRanking(k: k, queryBlock: queryBlock, corpusBlock: corpusBlock, threads: threads)
        let start = Date()
        let result = corpus.withUnsafeBufferPointer {
            ranking.rank(corpus: $0, rows: videos, dimension: dims, queryRows: queryRows, excluded: excluded, targets: targets)
        }
        let seconds = Date().timeIntervalSince(start)
        precondition(result.top.count == queries * min(k, videos - 1))
        print(String(format: "CorpusRanking top-%-3d  %7.2f s  %7.1f GFLOP/s  %8.0f queries/s  (scan %.0f%% of the time)",
                     k, seconds, flops / seconds / 1e9, Double(queries) / seconds, max(0, 100 * (seconds - gemmSeconds) / seconds)))

        // The like-for-like peer of faiss's search: top k only, no target rank counting.
        let topStart = Date()
        let top = corpus.withUnsafeBufferPointer { c in
            TopK.innerProduct(queries: c.baseAddress!, queryCount: queries, corpus: c.baseAddress!, corpusCount: videos, dimension: dims, k: k,
                              threads: threads, blocking: TopK.Blocking(queryBlock: queryBlock, corpusBlock: corpusBlock))
        }
        let topSeconds = Date().timeIntervalSince(topStart)
        precondition(top.indices.count == queries * k)
        print(String(format: "TopK top-%-3d (no ranks) %5.2f s  %7.1f GFLOP/s  %8.0f queries/s  (top k only, as faiss)",
                     k, topSeconds, flops / topSeconds / 1e9, Double(queries) / topSeconds))

        guard BenchSupport.pythonHas("faiss, numpy") else {
            print("faiss peer: skipped (python3 with faiss not available; pip install faiss-cpu)")
            return
        }
        let raw = NSTemporaryDirectory() + "gcml-retrieval-bench-\(ProcessInfo.processInfo.processIdentifier).f32"
        defer { try? FileManager.default.removeItem(atPath: raw) }
        try corpus.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: raw)) }
        let peer = try BenchSupport.runPython([BenchSupport.script("retrieval.py"), raw, String(videos), String(dims), String(queries), String(k), String(threads)])
        guard peer.status == 0, let json = JSON.object(peer.output.split(separator: "\n").last.map(String.init) ?? ""),
              let peerSeconds = json["seconds"] as? Double else {
            print("faiss peer: failed\n\(peer.output)")
            return
        }
        print(String(format: "faiss IndexFlatIP      %7.2f s  %7.1f GFLOP/s  %8.0f queries/s",
                     peerSeconds, flops / peerSeconds / 1e9, Double(queries) / peerSeconds))
        print(String(format: "ratio: CorpusRanking (top k + target ranks) is %.2fx the speed of faiss, TopK.innerProduct (top k) %.2fx (same run)",
                     peerSeconds / seconds, peerSeconds / topSeconds))
    }
}
