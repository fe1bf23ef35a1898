import Artifacts
import Contracts
import Foundation
import Support

/// The training and evaluation stages as one process and as 2 MPI ranks (mpirun) on generated
/// inputs: wall time, peak RSS of each rank (`/usr/bin/time`), and train-embed's bytes through
/// collectives per step. On a 2-core machine the speed-up is bounded by 2; what should show is
/// that communication stays a small share of a step and which memory is replicated.
enum RanksBench {
    static func run(_ arguments: [String]) throws {
        func value(_ name: String, _ fallback: Int) -> Int { BenchSupport.intOption(arguments, name, fallback) }
        let videos = value("--videos", 20_000), steps = value("--steps", 20), width = value("--width", 1024)
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/mpirun") && FileManager.default.isExecutableFile(atPath: "/usr/bin/time") else {
            print("skipped: needs mpirun and /usr/bin/time (scripts/install-deps.sh)")
            return
        }
        let folder = NSTemporaryDirectory() + "gcml-ranks-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try writeInputs(folder: folder, videos: videos, width: width)
        print("\(videos) videos (\(width) visual + 128 audio), default model sizes, batch 256, \(steps) steps, --threads 1 per rank")
        let train = ["--features", "\(folder)/features.h5", "--triplets", "\(folder)/triplets.h5", "--graph", "\(folder)/graph.h5",
                     "--batch-size", "256", "--steps", "\(steps)", "--threads", "1"]
        let stages: [(String, String, (String) -> [String])] = [
            ("train-embed (triplets)", "train-embed", { train + ["--out", "\(folder)/model-\($0).h5"] }),
            ("embeddings (all videos)", "train-embed", { train + ["--resume", "--out", "\(folder)/model-\($0).h5",
                                                                  "--embeddings", "\(folder)/embeddings-\($0).h5"] }),
            ("eval-map-ndcg (all)", "eval-map-ndcg", { ["--vectors", "\(folder)/embeddings-\($0).h5", "--graph", "\(folder)/graph.h5",
                                                        "--candidates", "all", "--threads", "1", "--out", "\(folder)/retrieval-\($0).h5"] }),
            ("eval-gap", "eval-gap", { ["--vectors", "\(folder)/embeddings-\($0).h5", "--labels", "\(folder)/features.h5", "--epochs", "5",
                                        "--threads", "1", "--out", "\(folder)/annotation-\($0).h5"] }),
        ]
        print("stage                       ranks   seconds   peak RSS per rank (MB)   collectives per step")
        for (label, program, arguments) in stages {
            for ranks in [1, 2] {
                let measured = try measure(program: program, arguments: arguments("\(ranks)"), ranks: ranks, folder: folder)
                let rss = measured.peakKilobytes.map { String(format: "%.0f", Double($0) / 1024) }.joined(separator: ", ")
                print(label.padding(toLength: 28, withPad: " ", startingAt: 0) + String(format: "%5d %9.2f   ", ranks, measured.seconds)
                      + rss.padding(toLength: 25, withPad: " ", startingAt: 0) + (measured.collectives ?? "-"))
            }
        }
    }

    struct Measured {
        var seconds: Double
        var peakKilobytes: [Int]
        var collectives: String?
    }

    /// Runs the stage (under mpirun for 2 ranks), each rank wrapped in /usr/bin/time, which appends
    /// its peak RSS to a file.
    static func measure(program: String, arguments: [String], ranks: Int, folder: String) throws -> Measured {
        let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
        let peaks = "\(folder)/peaks-\(program)-\(ranks).txt"
        var command = ["/usr/bin/time", "-a", "-o", peaks, "-f", "%M", "\(binaries)/\(program)"] + arguments
        if ranks > 1 { command = ["mpirun", "--oversubscribe", "--allow-run-as-root", "-np", "\(ranks)"] + command }
        let started = Date()
        let (status, output) = try BenchSupport.run("/usr/bin/env", ["GCML_QUIET=1", "timeout", "600"] + command)
        let seconds = Date().timeIntervalSince(started)
        guard status == 0 else { throw GCMLError("\(program) on \(ranks) rank(s) failed with status \(status)") }
        let kilobytes = ((try? String(contentsOfFile: peaks, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int($0) }
        try? FileManager.default.removeItem(atPath: peaks)
        let collectives = output.split(separator: "\n").first { $0.hasPrefix("collectives: ") }
            .map { String($0.dropFirst("collectives: ".count).prefix { $0 != " " }) + " B" }
        return Measured(seconds: seconds, peakKilobytes: kilobytes, collectives: collectives)
    }

    /// features.h5 (random visual/audio, one label of 50 per video), triplets.h5 (200 000 random
    /// triplets), graph.h5 (each video's next 5 videos train, the 5 after held out).
    static func writeInputs(folder: String, videos: Int, width: Int) throws {
        var generator = SeededGenerator(seed: 1)
        let ids = (0..<videos).map { "v\($0)" }
        try Artifact.write("\(folder)/features.h5", schema: .features, createdBy: "gcml-bench") { file in
            let writer = try FeaturesWriter(file: file, visualWidth: width, audioWidth: 128, numClasses: 50, labelNames: nil)
            for (row, id) in ids.enumerated() { try writer.addVideo(id: id, frameCount: 1, labels: [Int32(row % 50)]) }
            let visual = (0..<(videos * width)).map { _ in Float(generator.normal()) }
            let audio = (0..<(videos * 128)).map { _ in Float(generator.normal()) }
            try visual.withUnsafeBufferPointer { v in try audio.withUnsafeBufferPointer { try writer.addFeatures(visual: v, audio: $0) } }
            try writer.finish()
        }
        let count = 200_000
        let anchor = (0..<count).map { _ in Int32(generator.below(videos)) }
        let triplets = TripletSet(anchor: anchor, positive: anchor.map { ($0 + 1 + Int32(generator.below(5))) % Int32(videos) },
                                  negative: (0..<count).map { _ in Int32(generator.below(videos)) })
        try Artifact.write("\(folder)/triplets.h5", schema: .triplets, createdBy: "gcml-bench") { try triplets.write(to: $0) }
        func band(_ offsets: ClosedRange<Int>) -> CSRGraph {
            var rows: [Int32] = [], columns: [Int32] = []
            for v in 0..<videos { for o in offsets { let u = (v + o) % videos; rows += [Int32(v), Int32(u)]; columns += [Int32(u), Int32(v)] } }
            return CSRGraph.fromEntries(nodes: videos, rows: rows, columns: columns, weights: [Float](repeating: 1, count: rows.count))
        }
        let graph = RelationalGraph(videoIDs: ids, train: band(1...5), heldout: band(6...10), heldoutNodes: [])
        try Artifact.write("\(folder)/graph.h5", schema: .graph, createdBy: "gcml-bench") { try graph.write(to: $0) }
    }
}
