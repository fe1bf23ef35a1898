import Artifacts
import Contracts
import Foundation
import Support

/// Every distributed stage as one process and as 2 MPI ranks (mpirun): wall time, peak RSS of
/// each rank (`/usr/bin/time`), and for train-embed the bytes through collectives per step and the
/// share of the step time spent inside them. extract-pca and sample-triplets run on a gcml-synth
/// corpus (its graph and tree built once, untimed); training and evaluation on generated features of
/// the paper's widths. On a 2-core machine the speed-up is bounded by 2; what should show is that
/// communication stays a small share of a step and which memory is split (falls per rank) or replicated.
enum RanksBench {
    static func run(_ arguments: [String]) throws {
        func value(_ name: String, _ fallback: Int) -> Int { BenchSupport.intOption(arguments, name, fallback) }
        let videos = value("--videos", 20_000), steps = value("--steps", 20), width = value("--width", 1024)
        let corpusVideos = value("--corpus-videos", 20_000), tripletCount = value("--triplets", 400_000)
        try BenchSupport.withMPIScratchFolder("ranks") { folder in
            let corpus = "\(folder)/corpus"
            try prepare("gcml-synth", ["--profile", "demo", "--videos", "\(corpusVideos)", "--threads", "1", "--out", corpus])
            try writeInputs(folder: folder, videos: videos, width: width)
            print("extract-pca, sample-triplets: gcml-synth demo corpus of \(corpusVideos) videos (uint8 frames, 2048 + 128 wide), PCA to 256, "
                  + "\(tripletCount) smart triplets")
            print("training, evaluation: \(videos) videos (\(width) visual + 128 audio), default model sizes, batch 256, \(steps) steps; --threads 1 per rank")
            let train = ["--features", "\(folder)/features.h5", "--triplets", "\(folder)/triplets.h5", "--graph", "\(folder)/graph.h5",
                         "--batch-size", "256", "--steps", "\(steps)", "--threads", "1"]
            // The graph and tree of sample-triplets come from the 1-rank features, built once before that stage is timed.
            let corpusGraph = {
                try prepare("build-graph", ["--features", "\(folder)/corpus-features-1.h5", "--sessions", "\(corpus)/sessions.tsv", "--window", "5",
                                            "--holdout-nodes", "0.1", "--holdout-edges", "0.1", "--threads", "1", "--out", "\(folder)/corpus-graph.h5"])
                try prepare("affinity-tree", ["--graph", "\(folder)/corpus-graph.h5", "--levels", "3", "--threads", "1", "--out", "\(folder)/corpus-tree.h5"])
            }
            let stages: [(label: String, program: String, before: (() throws -> Void)?, arguments: (String) -> [String])] = [
                ("extract-pca (frames)", "extract-pca", nil, { ["--frames", "\(corpus)/frames.h5", "--dim", "256", "--threads", "1",
                                                                "--out", "\(folder)/corpus-features-\($0).h5"] }),
                ("sample-triplets (smart)", "sample-triplets", corpusGraph, { ["--graph", "\(folder)/corpus-graph.h5", "--tree", "\(folder)/corpus-tree.h5",
                                                                              "--strategy", "smart", "--count", "\(tripletCount)", "--level", "1",
                                                                              "--threads", "1", "--out", "\(folder)/corpus-triplets-\($0).h5"] }),
                ("train-embed (triplets)", "train-embed", nil, { train + ["--out", "\(folder)/model-\($0).h5"] }),
                ("embeddings (all videos)", "train-embed", nil, { train + ["--resume", "--out", "\(folder)/model-\($0).h5",
                                                                           "--embeddings", "\(folder)/embeddings-\($0).h5"] }),
                ("eval-map-ndcg (all)", "eval-map-ndcg", nil, { ["--vectors", "\(folder)/embeddings-\($0).h5", "--graph", "\(folder)/graph.h5",
                                                                 "--candidates", "all", "--threads", "1", "--out", "\(folder)/retrieval-\($0).h5"] }),
                ("eval-gap", "eval-gap", nil, { ["--vectors", "\(folder)/embeddings-\($0).h5", "--labels", "\(folder)/features.h5", "--epochs", "5",
                                                 "--threads", "1", "--out", "\(folder)/annotation-\($0).h5"] }),
            ]
            print("stage                       ranks   seconds   peak RSS per rank (MB)   collectives per step (rank 0)")
            for stage in stages {
                for ranks in [1, 2] {
                    if ranks == 1 { try stage.before?() }
                    let measured = try measure(program: stage.program, arguments: stage.arguments("\(ranks)"), ranks: ranks, folder: folder)
                    let rss = measured.peakKilobytes.map { String(format: "%.0f", Double($0) / 1024) }.joined(separator: ", ")
                    print(stage.label.padding(toLength: 28, withPad: " ", startingAt: 0) + String(format: "%5d %9.2f   ", ranks, measured.seconds)
                          + rss.padding(toLength: 25, withPad: " ", startingAt: 0) + (measured.collectives ?? "-"))
                }
            }
        }
    }

    /// Runs a gcml program that makes a bench input (untimed, quiet).
    static func prepare(_ program: String, _ arguments: [String]) throws {
        let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
        let (status, _) = try BenchSupport.run("/usr/bin/env", ["GCML_QUIET=1", "\(binaries)/\(program)"] + arguments)
        guard status == 0 else { throw GCMLError("\(program) (making the bench input) failed with status \(status)") }
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
        // "collectives: N bytes ..." (train-embed adds ", S % of the step time inside them")
        let collectives = output.split(separator: "\n").first { $0.hasPrefix("collectives: ") }.map { line -> String in
            let bytes = line.split(separator: " ")[1]
            let share = line.range(of: #"[0-9.]+ % of the step time"#, options: .regularExpression).map { ", " + line[$0] }
            return "\(bytes) B" + (share ?? "")
        }
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
