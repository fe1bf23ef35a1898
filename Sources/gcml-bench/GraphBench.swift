import Foundation
import Graphs
import Interactions
import LinearAlgebra
import Support
#if canImport(Glibc)
import Glibc
#endif

/// build-graph benchmarks.
/// - sessions → pair counts on generated session logs (default 50 M rows): from a file
///   (the stage's path: read, split, map ids, window pairs, count) and from an in-memory
///   buffer (parser + counter alone); rows/s and peak memory vs distinct pairs.
/// - exact kNN, K = 50 on 100 000 × 256 unit vectors (blocked SGEMM + top-k), against
///   faiss IndexFlatIP on the same vectors (bench/knn.py) when Python has faiss.
///
/// Options: --rows 50000000 --videos 200000 --window 5 --knn-n 100000 --knn-d 256 --k 50
///          --threads 2 --query-block 1024 --corpus-block 1024 --only sessions|knn --folder <tmp>
enum GraphBench {
    static func run(_ arguments: [String]) throws {
        var rows = 50_000_000, videos = 200_000, window = 5, n = 100_000, d = 256, k = 50, threads = 2
        var only: String?
        var blocking = TopK.Blocking()
        var folder = NSTemporaryDirectory() + "gcml-graph-bench-\(ProcessInfo.processInfo.processIdentifier)"
        var index = 0
        func value() throws -> String {
            index += 1
            guard index < arguments.count else { throw GCMLError("graph bench: \(arguments[index - 1]) needs a value") }
            return arguments[index]
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--rows": rows = Int(try value()) ?? rows
            case "--videos": videos = Int(try value()) ?? videos
            case "--window": window = Int(try value()) ?? window
            case "--knn-n": n = Int(try value()) ?? n
            case "--knn-d": d = Int(try value()) ?? d
            case "--k": k = Int(try value()) ?? k
            case "--threads": threads = Int(try value()) ?? threads
            case "--only": only = try value()
            case "--query-block": blocking.queryBlock = Int(try value()) ?? blocking.queryBlock
            case "--corpus-block": blocking.corpusBlock = Int(try value()) ?? blocking.corpusBlock
            case "--folder": folder = try value()
            default: throw GCMLError("graph bench: unknown option \(arguments[index])")
            }
            index += 1
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        if only == nil || only == "sessions" { try sessions(rows: rows, videos: videos, window: window, folder: folder) }
        if only == nil || only == "knn" { try knn(n: n, d: d, k: k, threads: threads, blocking: blocking, folder: folder) }
    }

    // MARK: sessions → graph

    /// Session logs like the synthetic corpus's: sessions of 2–18 watches inside one of
    /// `videos / 200` topics of 200 videos, popular videos more likely (squared uniform).
    struct SessionLog {
        let videos: Int
        var random = SeededGenerator(seed: 42)
        var session = 0
        var left = 0
        var topic = 0

        init(videos: Int) { self.videos = videos }

        var ids: [String] { (0..<videos).map { id($0) } }
        func id(_ v: Int) -> String { "v" + digits(v, 7) }

        /// Appends `count` lines to `out`.
        mutating func append(lines count: Int, to out: inout [UInt8]) {
            let topics = max(1, videos / 200)
            for _ in 0..<count {
                if left == 0 {
                    session += 1
                    left = 2 + random.below(17)
                    topic = random.below(topics)
                }
                left -= 1
                let u = random.unit()
                let video = min(videos - 1, topic * 200 + Int(u * u * 200))
                out.append(0x73) // s
                Self.append(session, width: 9, to: &out)
                out.append(0x09)
                out.append(0x76) // v
                Self.append(video, width: 7, to: &out)
                out.append(0x0A)
            }
        }

        static func append(_ value: Int, width: Int, to out: inout [UInt8]) {
            var v = value
            let start = out.count
            for _ in 0..<width { out.append(0) }
            for i in stride(from: start + width - 1, through: start, by: -1) {
                out[i] = 0x30 + UInt8(v % 10)
                v /= 10
            }
        }

        private func digits(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
    }

    static func sessions(rows: Int, videos: Int, window: Int, folder: String) throws {
        print("sessions -> pair counts: \(rows) rows, \(videos) videos, window \(window)")
        var log = SessionLog(videos: videos)
        let index = try VideoIndex(ids: log.ids)
        let path = folder + "/sessions.tsv"
        // Write the file in 64 MiB pieces so the generator holds little memory.
        let (bytes, writeSeconds) = try BenchSupport.time { () -> Int in
            guard let file = fopen(path, "wb") else { throw GCMLError(file: path, expected: "a writable file", found: "an error") }
            defer { fclose(file) }
            var buffer: [UInt8] = []
            buffer.reserveCapacity(4 << 20 * 16)
            var written = 0, done = 0
            while done < rows {
                let chunk = min(3_000_000, rows - done)
                buffer.removeAll(keepingCapacity: true)
                log.append(lines: chunk, to: &buffer)
                written += buffer.withUnsafeBytes { fwrite($0.baseAddress!, 1, $0.count, file) }
                done += chunk
            }
            return written
        }
        print(String(format: "  generated %.2f GB of TSV in %.1f s", Double(bytes) / 1e9, writeSeconds))
        let rssBefore = BenchSupport.peakMemoryMiB()
        let cpuBefore = cpuSeconds()
        // The counter itself (not `Interactions.countSessions`), to report its hash-table memory.
        let (counted, fileSeconds) = try BenchSupport.time { () -> CoWatchCounter in
            var counter = CoWatchCounter(index: index, window: window, source: path)
            try TextInput(path: path).forEachLine { line, number in try counter.consume(line, lineNumber: number) }
            counter.finish()
            return counter
        }
        let fromFile = (pairs: counted.pairs.sortedSums(), report: counted.report, tableBytes: counted.pairs.memoryBytes)
        let fileCPU = cpuSeconds() - cpuBefore
        let rssAfter = BenchSupport.peakMemoryMiB()
        let pairs = fromFile.pairs.count
        print(String(format: "  file:      %.1f s, %@ rows/s (%.1f CPU s, %@ rows per CPU-second), %d sessions, %d distinct pairs", fileSeconds,
                     Progress.format(Double(rows) / fileSeconds), fileCPU, Progress.format(Double(rows) / fileCPU), fromFile.report.sessions, pairs))
        print(String(format: "  memory:    pair table %.0f MiB (%.1f bytes per distinct pair); peak RSS %.0f MiB (%.0f before counting)",
                     Double(fromFile.tableBytes) / 1048576, Double(fromFile.tableBytes) / Double(max(1, pairs)), rssAfter, rssBefore))
        let (edges, edgeSeconds) = BenchSupport.time { UndirectedEdges.from(fromFile.pairs, nodes: videos, weighting: .count) }
        let (csr, csrSeconds) = BenchSupport.time { edges.symmetricCSR() }
        print(String(format: "  to edges:  %.2f s (sort %d pairs); to CSR %.2f s (%d entries)", edgeSeconds, pairs, csrSeconds, csr.entryCount))
        try? FileManager.default.removeItem(atPath: path)

        // Parser + counter alone on an in-memory buffer.
        var memory: [UInt8] = []
        memory.reserveCapacity(bytes)
        var again = SessionLog(videos: videos)
        again.append(lines: rows, to: &memory)
        let cpuMemoryBefore = cpuSeconds()
        let (inMemory, memorySeconds) = try BenchSupport.time { () -> Int in
            var counter = CoWatchCounter(index: index, window: window, source: "memory")
            try memory.withUnsafeBytes { raw in
                try TextInput.forEachLine(in: raw) { line, number in try counter.consume(line, lineNumber: number) }
            }
            counter.finish()
            return counter.pairs.count
        }
        let memoryCPU = cpuSeconds() - cpuMemoryBefore
        precondition(inMemory == pairs, "in-memory and file counts differ")
        print(String(format: "  in memory: %.1f s, %@ rows/s (%.1f CPU s, %@ rows per CPU-second; target >= 2 M rows/s)", memorySeconds,
                     Progress.format(Double(rows) / memorySeconds), memoryCPU, Progress.format(Double(rows) / memoryCPU)))
    }

    // MARK: kNN

    static func knn(n: Int, d: Int, k: Int, threads: Int, blocking: TopK.Blocking, folder: String) throws {
        print("exact kNN: \(n) x \(d) unit vectors, K = \(k), \(threads) threads, blocks \(blocking.queryBlock) x \(blocking.corpusBlock)")
        var random = SeededGenerator(seed: 7)
        var x = Matrix<Float>(rows: n, columns: d, values: (0..<(n * d)).map { _ in Float(random.normal()) })
        x = x.normalizedRows
        let path = folder + "/vectors.f32"
        try x.values.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: path)) }
        var best: Double = .infinity
        var result: TopKResult?
        for _ in 0..<2 {
            let (found, seconds) = BenchSupport.time { TopK.innerProduct(queries: x, corpus: x, k: k, excluding: (0..<n).map(Int32.init), threads: threads, blocking: blocking) }
            best = min(best, seconds)
            result = found
        }
        let flops = 2.0 * Double(n) * Double(n) * Double(d)
        print(String(format: "  gcml TopK: %.2f s (best of 2), %.0f queries/s, %.0f GFLOP/s of GEMM work", best, Double(n) / best, flops / best / 1e9))
        if let result { precondition(result.indices[0] >= 0, "no neighbours found") }
        guard BenchSupport.pythonHas("faiss, numpy") else {
            print("  faiss: not importable (pip install faiss-cpu) — no peer number")
            return
        }
        guard let peer = BenchSupport.peer("knn.py", [path, String(n), String(d), String(k), String(threads)]), let faiss = peer["seconds"] else {
            print("  faiss: bench/knn.py failed")
            return
        }
        print(String(format: "  faiss IndexFlatIP: %.2f s → gcml speed = %.2f× faiss (target >= 0.8×)", faiss, faiss / best))
    }

    // MARK: helpers

    /// CPU seconds (user + system) of this process so far: on a shared, loaded machine
    /// rows per CPU-second says more about the code than wall-clock rows/s.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
