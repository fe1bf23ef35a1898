import Contracts
import Embedding
import Foundation
import Support

/// Training throughput: triplet steps (256 triplets = 768 examples, semi-hard mining) and
/// sampled-softmax steps (1024 examples, 50 000 classes, 2048 sampled), default model sizes,
/// compared with the same model in PyTorch (bench/train.py) when torch is importable.
enum TrainBench {
    static func run(_ arguments: [String]) throws {
        func value(_ name: String, _ fallback: Int) -> Int { BenchSupport.intOption(arguments, name, fallback) }
        let threads = value("--threads", 2), steps = value("--steps", 200), videos = value("--videos", 20_000)
        let classes = value("--classes", 50_000), sampled = value("--sampled", 2048)
        let blocks = value("--gradient-blocks", TrainingOptions.defaultGradientBlocks)
        print("train-embed bench: \(threads) threads, \(steps) timed steps, \(videos) videos (1500 visual + 128 audio), \(blocks) gradient blocks per batch")

        var generator = SeededGenerator(seed: 1)
        let visual = (0..<(videos * 1500)).map { _ in Float(generator.normal()) }
        let audio = (0..<(videos * 128)).map { _ in Float(generator.normal()) }
        let features = FeatureTable(videoIDs: (0..<videos).map { "v\($0)" }, visual: visual, visualWidth: 1500, audio: audio, audioWidth: 128)

        let count = 200_000
        let anchor = (0..<count).map { _ in Int32(generator.below(videos)) }
        let positive = anchor.map { ($0 + 1 + Int32(generator.below(50))) % Int32(videos) }
        let negative = (0..<count).map { _ in Int32(generator.below(videos)) }
        let triplets = TripletSet(anchor: anchor, positive: positive, negative: negative)
        var options = TrainingOptions()
        options.threads = threads
        options.batch = 256
        options.steps = steps + 3
        options.logEvery = 1_000_000
        options.gradientBlocks = blocks
        let only = arguments.firstIndex(of: "--only").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
        let tripletRate = only == "softmax" ? .nan : try measure("triplet (semi-hard)", features: features, task: .triplets(triplets, neighbours: triplets.pairNeighbours(videos: videos)), options: options, steps: steps,
                                      examples: 768)

        let labels = ClassLabels(label: (0..<videos).map { _ in Int32(generator.below(classes)) }, cluster: (0..<classes).map(Int32.init))
        options.batch = 1024
        options.sampled = sampled
        let softmaxRate = only == "triplet" ? .nan : try measure("sampled softmax (\(classes) classes, \(sampled) sampled)", features: features,
                                      task: .classification(labels), options: options, steps: steps, examples: 1024)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print(String(format: "peak memory %.0f MB", Double(usage.ru_maxrss) / 1024))

        guard !arguments.contains("--no-python"), BenchSupport.pythonHas("torch") else {
            print("PyTorch comparison skipped (python3 -c 'import torch' failed; pip install \"torch==2.13.0+cpu\")")
            return
        }
        let peer = try BenchSupport.runPython([BenchSupport.script("train.py"), "--threads", "\(threads)", "--steps", "\(steps)", "--classes", "\(classes)", "--sampled", "\(sampled)"])
        guard peer.status == 0 else { throw GCMLError("python3 bench/train.py failed (status \(peer.status))") }
        let output = peer.output
        print(output.trimmingCharacters(in: .whitespacesAndNewlines))
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count >= 3, parts[0] == "RESULT", let torchRate = Double(parts[2]) else { continue }
            let ours = parts[1] == "triplet" ? tripletRate : parts[1] == "sampled-dense" || parts[1] == "sampled-sparse" ? softmaxRate : nil
            if let ours { print(String(format: "ratio gcml / torch %@: %.2f", String(parts[1]), ours / torchRate)) }
        }
    }

    /// Steps per second after 3 warm-up steps.
    static func measure(_ label: String, features: FeatureTable, task: TrainingTask, options: TrainingOptions, steps: Int,
                        examples: Int) throws -> Double {
        let trainer = try Trainer(features: features, task: task, options: options)
        for _ in 0..<3 { try trainer.trainStep() }
        let start = Date(), cpuStart = cpuSeconds()
        for _ in 0..<steps { try trainer.trainStep() }
        let seconds = Date().timeIntervalSince(start), cpu = cpuSeconds() - cpuStart
        let rate = Double(steps) / seconds
        print(String(format: "%@: %.2f steps/s, %.0f examples/s (%.1f ms/step wall, %.1f ms/step CPU)", label, rate,
                     rate * Double(examples), 1000 * seconds / Double(steps), 1000 * cpu / Double(steps)))
        return rate
    }

    /// CPU time of the process (all threads): on a shared machine a steadier measure than wall time.
    static func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
