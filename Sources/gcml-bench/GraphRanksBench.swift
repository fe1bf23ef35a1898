import Artifacts
import Foundation
import Support

/// build-graph on generated sessions as 1 process and as 2 and 4 MPI ranks (oversubscribed on
/// a small machine): wall time, peak RSS of each rank (`/usr/bin/time`) and the bytes each rank
/// sent to the others in all-to-alls (build-graph's own count on stderr). Sizes are options, so
/// a smoke run is tiny: `gcml-bench graph-ranks --rows 20000 --videos 2000`. `--id-map partitioned` passes
/// build-graph's option on (below its threshold the ranks replicate the id map).
enum GraphRanksBench {
    static func run(_ arguments: [String]) throws {
        func value(_ name: String, _ fallback: Int) -> Int { BenchSupport.intOption(arguments, name, fallback) }
        let rows = value("--rows", 50_000_000), videos = value("--videos", 1_000_000), maxRanks = value("--max-ranks", 4)
        let idMap = arguments.firstIndex(of: "--id-map").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil } ?? "auto"
        try BenchSupport.withMPIScratchFolder("graph-ranks") { folder in
            let (_, seconds) = try BenchSupport.time { try writeInputs(folder: folder, rows: rows, videos: videos) }
            let size = (try FileManager.default.attributesOfItem(atPath: "\(folder)/sessions.tsv")[.size] as? Int) ?? 0
            print("\(rows) session rows (\(size / 1_000_000) MB, ~8 rows per session) over \(videos) videos, window 5, --threads 1 per rank"
                  + ", --id-map \(idMap) (inputs written in \(BenchSupport.format(seconds)) s)")
            print("ranks   seconds   peak RSS per rank (MB)          sent to other ranks per rank (MB)")
            var ranks = 1
            while ranks <= maxRanks {
                let measured = try measure(folder: folder, ranks: ranks, idMap: idMap)
                let rss = measured.peakKilobytes.map { String(format: "%.0f", Double($0) / 1024) }.joined(separator: ", ")
                let sent = measured.bytesSent.map { String(format: "%.1f", Double($0) / 1e6) }.joined(separator: ", ")
                print(String(format: "%5d %9.2f   ", ranks, measured.seconds) + rss.padding(toLength: 32, withPad: " ", startingAt: 0)
                      + (sent.isEmpty ? "-" : sent))
                ranks *= 2
            }
        }
    }

    struct Measured {
        var seconds: Double
        var peakKilobytes: [Int]
        /// Per rank, from build-graph's "sent N bytes" lines (none for one process).
        var bytesSent: [Int]
    }

    /// One build-graph run, each rank under /usr/bin/time (peak RSS appended to a file), stderr kept for the byte counts.
    static func measure(folder: String, ranks: Int, idMap: String) throws -> Measured {
        let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
        let peaks = "\(folder)/peaks-\(ranks).txt", errors = "\(folder)/stderr-\(ranks).txt"
        var command = ["/usr/bin/time", "-a", "-o", peaks, "-f", "%M", "\(binaries)/build-graph", "--features", "\(folder)/features.h5",
                       "--sessions", "\(folder)/sessions.tsv", "--out", "\(folder)/graph-\(ranks).h5", "--threads", "1", "--id-map", idMap]
        if ranks > 1 { command = ["mpirun", "--oversubscribe", "--allow-run-as-root", "-np", "\(ranks)"] + command }
        let started = Date()
        let (status, _) = try BenchSupport.run("/usr/bin/env", ["GCML_QUIET=1", "timeout", "3600", "sh", "-c",
                                                                command.joined(separator: " ") + " 2>" + errors])
        let seconds = Date().timeIntervalSince(started)
        let stderr = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
        guard status == 0 else { throw GCMLError("build-graph on \(ranks) rank(s) failed with status \(status): \(stderr.suffix(500))") }
        let kilobytes = ((try? String(contentsOfFile: peaks, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int($0) }
        // "build-graph: rank R of N: sent B bytes to other ranks in all-to-alls"
        let sent = stderr.split(separator: "\n").filter { $0.contains("bytes to other ranks") }.compactMap { line -> (Int, Int)? in
            let words = line.split(separator: " ")
            guard let r = words.firstIndex(of: "rank"), let s = words.firstIndex(of: "sent"), r + 1 < words.count, s + 1 < words.count,
                  let rank = Int(words[r + 1].trimmingCharacters(in: .punctuationCharacters)), let bytes = Int(words[s + 1]) else { return nil }
            return (rank, bytes)
        }.sorted { $0.0 < $1.0 }.map(\.1)
        try? FileManager.default.removeItem(atPath: "\(folder)/graph-\(ranks).h5")
        return Measured(seconds: seconds, peakKilobytes: kilobytes, bytesSent: sent)
    }

    /// features.h5 (ids "v0"…, a 4-wide visual block) and sessions.tsv: sessions of 2–14 rows, each
    /// wandering near a random start over a Zipf-like popularity (nearby ids co-occur, some pairs often).
    static func writeInputs(folder: String, rows: Int, videos: Int) throws {
        try Artifact.write("\(folder)/features.h5", schema: .features, createdBy: "gcml-bench") { file in
            try file.root.write("video_id", strings: (0..<videos).map { "v\($0)" })
            try file.root.write("visual", [Float](repeating: 1, count: videos * 4), shape: [videos, 4])
            try file.root.write("frame_count", [Int32](repeating: 1, count: videos))
        }
        guard let out = fopen("\(folder)/sessions.tsv", "wb") else { throw GCMLError("\(folder)/sessions.tsv: cannot create") }
        defer { fclose(out) }
        var generator = SeededGenerator(seed: 11)
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 22)
        var written = 0, session = 0
        while written < rows {
            let length = min(rows - written, 2 + generator.below(13))
            var video = Int(Double(videos) * pow(Double(generator.below(1 << 20) + 1) / Double(1 << 20), 2))
            for _ in 0..<length {
                video = (video + generator.below(40)) % videos
                buffer += Array("s\(session)\tv\(video)\n".utf8)
            }
            written += length
            session += 1
            if buffer.count > 1 << 22 {
                fwrite(buffer, 1, buffer.count, out)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        fwrite(buffer, 1, buffer.count, out)
    }
}
