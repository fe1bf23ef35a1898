import Contracts
import Embedding
import Foundation
import Support

/// Training throughput: triplet steps (256 triplets = 768 examples, semi-hard mining) and
/// sampled-softmax steps (1024 examples, 50 000 classes, 2048 sampled), default model sizes,
/// compared with the same model in PyTorch (bench/train.py) when torch is importable.
///
/// The comparison runs in rounds (`--rounds`, default 3), each timing ours and then PyTorch's steps, and
/// reports every round's ratio and their median: on a shared machine either side's rate drifts by ±10 %
/// from one minute to the next, so a ratio is only fair between runs made side by side. With more than one
/// gradient block (the default, which makes 1 process equal N ranks), each round also times the sampled-softmax
/// step with one block, the faster setting for a run that stays on one process, against the same PyTorch rate.
enum TrainBench {
    static func run(_ arguments: [String]) throws {
        func value(_ name: String, _ fallback: Int) -> Int { BenchSupport.intOption(arguments, name, fallback) }
        let threads = value("--threads", 2), steps = value("--steps", 200), videos = value("--videos", 20_000)
        let classes = value("--classes", 50_000), sampled = value("--sampled", 2048), rounds = max(1, value("--rounds", 3))
        let blocks = value("--gradient-blocks", TrainingOptions.defaultGradientBlocks)
        print("train-embed bench: \(threads) threads, \(steps) timed steps, \(videos) videos (1500 visual + 128 audio), \(blocks) gradient blocks per batch, \(rounds) rounds")

        var generator = SeededGenerator(seed: 1)
        let visual = (0..<(videos * 1500)).map { _ in Float(generator.normal()) }
        let audio = (0..<(videos * 128)).map { _ in Float(generator.normal()) }
        let features = FeatureTable(videoIDs: (0..<videos).map { "v\($0)" }, visual: visual, visualWidth: 1500, audio: audio, audioWidth: 128)

        let count = 200_000
        let anchor = (0..<count).map { _ in Int32(generator.below(videos)) }
        let positive = anchor.map { ($0 + 1 + Int32(generator.below(50))) % Int32(videos) }
        let negative = (0..<count).map { _ in Int32(generator.below(videos)) }
        let triplets = TripletSet(anchor: anchor, positive: positive, negative: negative)
        let tripletTask = TrainingTask.triplets(triplets, neighbours: triplets.pairNeighbours(videos: videos))
        let labels = ClassLabels(label: (0..<videos).map { _ in Int32(generator.below(classes)) }, cluster: (0..<classes).map(Int32.init))
        var tripletOptions = TrainingOptions()
        tripletOptions.threads = threads
        tripletOptions.batch = 256
        tripletOptions.steps = steps + 3
        tripletOptions.logEvery = 1_000_000
        tripletOptions.gradientBlocks = blocks
        var softmaxOptions = tripletOptions
        softmaxOptions.batch = 1024
        softmaxOptions.sampled = sampled
        var oneBlockOptions = softmaxOptions
        oneBlockOptions.gradientBlocks = 1
        let only = arguments.firstIndex(of: "--only").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
        let withTorch = !arguments.contains("--no-python") && BenchSupport.pythonHas("torch")

        // Rates per round, ours by job and PyTorch's by job; each comparison: (label, our job, PyTorch's job).
        var ours: [String: [Double]] = [:], peers: [String: [Double]] = [:]
        let comparisons = [("triplet", "triplet", "triplet"), ("sampled-dense", "sampled", "sampled-dense"),
                           ("sampled-sparse", "sampled", "sampled-sparse"), ("sampled-sparse, gcml with 1 gradient block", "sampled, 1 block", "sampled-sparse")]
        for round in 1...rounds {
            if rounds > 1 { print("round \(round) of \(rounds)") }
            if only != "softmax" {
                ours["triplet", default: []].append(try measure("triplet (semi-hard)", features: features, task: tripletTask, options: tripletOptions,
                                                                steps: steps, examples: 768))
            }
            if only != "triplet" {
                ours["sampled", default: []].append(try measure("sampled softmax (\(classes) classes, \(sampled) sampled)", features: features,
                                                                task: .classification(labels), options: softmaxOptions, steps: steps, examples: 1024))
                if blocks > 1 {
                    ours["sampled, 1 block", default: []].append(try measure("sampled softmax, 1 gradient block", features: features,
                                                                             task: .classification(labels), options: oneBlockOptions, steps: steps,
                                                                             examples: 1024))
                }
            }
            if round == 1 {
                print(String(format: "peak memory %.0f MiB", BenchSupport.peakMemoryMiB()))
            }
            guard withTorch else { continue }
            // The dense head is slow and only for reference: its rate is taken in the first round.
            var jobs = only == "softmax" ? [] : ["triplet"]
            if only != "triplet" { jobs += round == 1 ? ["sampled-dense", "sampled-sparse"] : ["sampled-sparse"] }
            let peer = try BenchSupport.runPython([BenchSupport.script("train.py"), "--threads", "\(threads)", "--steps", "\(steps)", "--classes", "\(classes)",
                                                   "--sampled", "\(sampled)", "--jobs", jobs.joined(separator: ",")])
            guard peer.status == 0 else { throw GCMLError("python3 bench/train.py failed (status \(peer.status))") }
            print(peer.output.trimmingCharacters(in: .whitespacesAndNewlines))
            for line in peer.output.split(separator: "\n") {
                let parts = line.split(separator: " ")
                guard parts.count >= 3, parts[0] == "RESULT", let torchRate = Double(parts[2]) else { continue }
                let job = String(parts[1])
                peers[job, default: []].append(torchRate)
                for (label, key, peerJob) in comparisons where peerJob == job {
                    if let mine = ours[key]?.last { print(String(format: "ratio gcml / torch %@ (round %d): %.2f", label, round, mine / torchRate)) }
                }
            }
        }
        guard withTorch else {
            print("PyTorch comparison skipped (python3 -c 'import torch' failed, or --no-python; pip install \"torch==2.13.0+cpu\")")
            return
        }
        // Ratios of the rounds where both sides ran side by side, and their median.
        for (label, key, job) in comparisons {
            guard let all = ours[key], let theirs = peers[job], !theirs.isEmpty else { continue }
            let mine = Array(all.prefix(theirs.count))   // the rounds the peer ran (the dense head: the first)
            let ratios = zip(mine, theirs).map { $0 / $1 }
            print(String(format: "ratio gcml / torch %@: median %.2f over %d round%@ (%@; gcml median %.2f steps/s, torch %.2f)", label, median(ratios), ratios.count,
                         ratios.count == 1 ? "" : "s", ratios.map { String(format: "%.2f", $0) }.joined(separator: ", "), median(mine), median(theirs)))
        }
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted(), n = sorted.count
        guard n > 0 else { return .nan }
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
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
