import Artifacts
import Contracts
import Embedding
import Foundation
import Support
import XCTest

/// A small problem where a few "topic" directions decide who is related and large
/// nuisance directions do not: raw cosine is poor, a learned embedding can do much better.
struct TopicCorpus {
    var features: FeatureTable
    var topic: [Int]
    var triplets: TripletSet
    /// The triplets' symmetrised anchor–positive pairs (the known neighbours mining skips).
    var neighbours: CSRGraph
    var tripletTask: TrainingTask { .triplets(triplets, neighbours: neighbours) }
    var heldout: CSRGraph

    init(videos: Int = 400, topics: Int = 8, width: Int = 32, audioWidth: Int = 8, nuisances: Int = 12, triplets count: Int = 3000,
         seed: UInt64 = 7) {
        var generator = SeededGenerator(seed: seed)
        let directions = (0..<topics).map { _ in (0..<width).map { _ in generator.normal() } }
        let audioDirections = (0..<topics).map { _ in (0..<audioWidth).map { _ in generator.normal() } }
        let nuisance = (0..<nuisances).map { _ in (0..<width).map { _ in generator.normal() / Double(width).squareRoot() } }
        topic = (0..<videos).map { _ in generator.below(topics) }
        var visual = [Float](), audio = [Float]()
        for v in 0..<videos {
            // Topic signal (norm ≈ √width) plus nuisance along fixed directions, about twice as large, plus a little noise.
            let g = (0..<nuisances).map { _ in 3.5 * generator.normal() }
            for c in 0..<width {
                let n = (0..<nuisances).reduce(0.0) { $0 + g[$1] * nuisance[$1][c] } * Double(width).squareRoot() / Double(nuisances).squareRoot()
                visual.append(Float(directions[topic[v]][c] + n + 0.3 * generator.normal()))
            }
            for c in 0..<audioWidth { audio.append(Float(audioDirections[topic[v]][c] + 0.3 * generator.normal())) }
        }
        features = FeatureTable(videoIDs: (0..<videos).map { "v\($0)" }, visual: visual, visualWidth: width, audio: audio, audioWidth: audioWidth)
        var members = [[Int32]](repeating: [], count: topics)
        for v in 0..<videos { members[topic[v]].append(Int32(v)) }
        var anchor: [Int32] = [], positive: [Int32] = [], negative: [Int32] = []
        for _ in 0..<count {
            let a = generator.below(videos), group = members[topic[a]]
            var p = Int(group[generator.below(group.count)])
            while p == a { p = Int(group[generator.below(group.count)]) }
            var n = generator.below(videos)
            while topic[n] == topic[a] { n = generator.below(videos) }
            anchor.append(Int32(a)); positive.append(Int32(p)); negative.append(Int32(n))
        }
        self.triplets = TripletSet(anchor: anchor, positive: positive, negative: negative)
        neighbours = triplets.pairNeighbours(videos: videos)
        // Held-out relations: every same-topic pair (a perfect topic embedding has MAP 1).
        var rows: [Int32] = [], columns: [Int32] = []
        for group in members {
            for u in group { for v in group where u != v { rows.append(u); columns.append(v) } }
        }
        heldout = CSRGraph.fromEntries(nodes: videos, rows: rows, columns: columns, weights: [Float](repeating: 1, count: rows.count))
    }

    var labels: ClassLabels {
        ClassLabels.fromLevel(ClusterLevel(assignment: topic.map(Int32.init),
                                           size: (0..<(topic.max()! + 1)).map { t in Int64(topic.filter { $0 == t }.count) }, parent: nil))
    }

    func rawFeatureMAP(_ validation: RetrievalValidation) -> Double {
        let width = features.visualWidth
        var vectors: [Float] = []
        for row in validation.rows {
            let x = features.visual[(Int(row) * width)..<((Int(row) + 1) * width)]
            let norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
            vectors += x.map { $0 / norm }
        }
        return validation.meanAveragePrecision(vectors: vectors, dim: width)
    }
}

extension TopicCorpus {
    static func freshTriplets(topic: [Int], count: Int, seed: UInt64) -> [(Int32, Int32, Int32)] {
        var generator = SeededGenerator(seed: seed)
        var result: [(Int32, Int32, Int32)] = []
        while result.count < count {
            let a = generator.below(topic.count), p = generator.below(topic.count), n = generator.below(topic.count)
            if a != p, topic[a] == topic[p], topic[n] != topic[a] { result.append((Int32(a), Int32(p), Int32(n))) }
        }
        return result
    }
}

/// Mean [‖a−p‖² − ‖a−n‖² + margin]₊ of the model's embeddings, from the definition.
func tripletLoss(_ trainer: Trainer, _ triplets: [(Int32, Int32, Int32)], margin: Double) -> Double {
    let dim = trainer.options.dim
    let z = trainer.embed(rows: triplets.flatMap { [$0.0, $0.1, $0.2] })
    var total = 0.0
    for t in 0..<triplets.count {
        func distance(_ i: Int, _ j: Int) -> Double { (0..<dim).reduce(0.0) { $0 + Double(pow(z[i * dim + $1] - z[j * dim + $1], 2)) } }
        total += max(0, distance(3 * t, 3 * t + 1) - distance(3 * t, 3 * t + 2) + margin)
    }
    return total / Double(triplets.count)
}

final class TrainingTests: XCTestCase {
    static let corpus = TopicCorpus()

    func smallOptions(steps: Int) -> TrainingOptions {
        var options = TrainingOptions()
        options.visualHidden = 32
        options.audioHidden = 16
        options.dim = 16
        options.batch = 32
        options.steps = steps
        options.adam.learningRate = 3e-3
        options.logEvery = 5
        options.seed = 42
        return options
    }


    func testTripletTrainingReducesLossAndBeatsRawFeatureRetrieval() throws {
        let corpus = Self.corpus
        var options = smallOptions(steps: 300)
        options.validateEvery = 100
        let trainer = try Trainer(features: corpus.features, task: corpus.tripletTask, options: options)
        let validation = RetrievalValidation(train: CSRGraph(nodes: corpus.features.count), heldout: corpus.heldout, queries: 150, seed: 1)
        // Validation loss: fresh topic triplets with their given negatives (the semi-hard training loss
        // itself need not fall much, since mining gets harder as the model improves).
        let check = TopicCorpus.freshTriplets(topic: corpus.topic, count: 1000, seed: 99)
        let before = tripletLoss(trainer, check, margin: options.margin)
        try trainer.run(validation: validation)
        let history = trainer.history
        XCTAssertEqual(history.step.last, 300)
        let after = tripletLoss(trainer, check, margin: options.margin)
        XCTAssertLessThan(after, 0.5 * before, "validation loss \(before) → \(after)")
        let raw = corpus.rawFeatureMAP(validation)
        let learned = history.validationMAP.last!
        XCTAssertEqual(history.validationStep, [0, 100, 200, 300])
        XCTAssertGreaterThan(learned, raw + 0.3, "MAP raw \(raw), learned \(learned)")
        XCTAssertGreaterThan(learned, history.validationMAP.first! + 0.15)
    }

    func testSampledSoftmaxClassificationBeatsRawFeatureRetrieval() throws {
        let corpus = Self.corpus
        var options = smallOptions(steps: 200)
        options.sampled = 3
        options.proposal = .logUniform
        options.validateEvery = 200
        let trainer = try Trainer(features: corpus.features, task: .classification(corpus.labels), options: options)
        let validation = RetrievalValidation(train: CSRGraph(nodes: corpus.features.count), heldout: corpus.heldout, queries: 150, seed: 1)
        try trainer.run(validation: validation)
        let early = trainer.history.loss.prefix(3).reduce(0, +) / 3, late = trainer.history.loss.suffix(3).reduce(0, +) / 3
        XCTAssertLessThan(late, 0.7 * early, "loss \(early) → \(late)")
        let raw = corpus.rawFeatureMAP(validation)
        XCTAssertGreaterThan(trainer.history.validationMAP.last!, raw + 0.3, "raw \(raw)")
    }

    func parametersAndHistory(_ trainer: Trainer) -> ([Float], [Float], TrainingHistory, [UInt64]) {
        (trainer.network.parameters.array, trainer.head?.weight.array ?? [], trainer.history, trainer.generator.stateWords)
    }

    func checkResumeEqualsUninterrupted(task: TrainingTask, configure: (inout TrainingOptions) -> Void) throws {
        var options = smallOptions(steps: 24)
        options.logEvery = 5   // a log window spans the checkpoint at step 13
        configure(&options)
        let whole = try Trainer(features: Self.corpus.features, task: task, options: options)
        try whole.run()

        let folder = NSTemporaryDirectory() + "gcml-resume-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/model.h5"
        var interrupted = options
        interrupted.steps = 13
        let first = try Trainer(features: Self.corpus.features, task: task, options: options)
        while first.step < interrupted.steps { try first.trainStep() }
        try Artifact.write(path, schema: .model, createdBy: "test") { file in try Checkpoint.write(first, to: file) }
        let resumed = try Trainer(features: Self.corpus.features, task: task, options: options)
        try Checkpoint.restore(resumed, from: path)
        XCTAssertEqual(resumed.step, 13)
        try resumed.run()
        let a = parametersAndHistory(whole), b = parametersAndHistory(resumed)
        XCTAssertEqual(a.0, b.0, "network weights")
        XCTAssertEqual(a.1, b.1, "classifier weights")
        XCTAssertEqual(a.2, b.2, "history")
        XCTAssertEqual(a.3, b.3, "generator")
    }

    func testResumedTripletRunEqualsUninterruptedRun() throws {
        try checkResumeEqualsUninterrupted(task: Self.corpus.tripletTask) { $0.mining = .semihard; $0.clipNorm = 1 }
    }

    func testResumedSampledSoftmaxRunEqualsUninterruptedRun() throws {
        try checkResumeEqualsUninterrupted(task: .classification(Self.corpus.labels)) {
            $0.sampled = 4
            $0.adam.warmup = 5
            $0.adam.cosine = true
        }
    }

    func testSameSeedGivesIdenticalModelAndDifferentSeedDoesNot() throws {
        func train(seed: UInt64) throws -> [Float] {
            var options = smallOptions(steps: 10)
            options.seed = seed
            let trainer = try Trainer(features: Self.corpus.features, task: Self.corpus.tripletTask, options: options)
            try trainer.run()
            return trainer.embed(rows: [0, 1, 2, 3])
        }
        let a = try train(seed: 5), b = try train(seed: 5), c = try train(seed: 6)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
    }

    func testValidationDrawsNothingFromTheTrainingStream() throws {
        // Same seed, with and without (log-spaced + full-corpus) validation: the same weights and losses.
        func train(validate: Bool) throws -> Trainer {
            var options = smallOptions(steps: 25)
            if validate {
                options.validateEvery = 20
                options.validateAt = ValidationSchedule.logSpaced(below: 20).union([3])
            }
            let trainer = try Trainer(features: Self.corpus.features, task: Self.corpus.tripletTask, options: options)
            let train = CSRGraph(nodes: Self.corpus.features.count)
            let sampled = RetrievalValidation(train: train, heldout: Self.corpus.heldout, queries: 50, seed: 3)
            try trainer.run(validation: validate ? sampled : nil,
                            fullCorpus: validate ? FullCorpusValidation(train: train, heldout: Self.corpus.heldout, queries: sampled.queries) : nil)
            return trainer
        }
        let plain = try train(validate: false), validated = try train(validate: true)
        XCTAssertEqual(plain.network.parameters.array, validated.network.parameters.array)
        XCTAssertEqual(plain.history.loss, validated.history.loss)
        XCTAssertEqual(validated.history.validationStep, [0, 3, 10, 20, 25])
        XCTAssertEqual(validated.history.validationMAPFullCorpus.count, 5)
        XCTAssertTrue(plain.history.validationStep.isEmpty)
    }

    func testMiningStatisticsAreLoggedPerWindowAsShares() throws {
        var options = smallOptions(steps: 20)
        options.logEvery = 5
        let mined = try Trainer(features: Self.corpus.features, task: Self.corpus.tripletTask, options: options)
        try mined.run()
        let h = mined.history
        XCTAssertEqual(h.step, [5, 10, 15, 20])
        for values in [h.presampledNegativeChosen, h.activeFraction] {
            XCTAssertEqual(values.count, 4)
            XCTAssertTrue(values.allSatisfy { (0...1).contains($0) }, "\(values)")
        }
        XCTAssertTrue(h.anchorNegativeDistance.allSatisfy { (0...2).contains($0) }, "\(h.anchorNegativeDistance)")
        // Semi-hard mining over 3 × 32 rows replaces most pre-sampled negatives.
        XCTAssertLessThan(h.presampledNegativeChosen.reduce(0, +) / 4, 0.5)
        options.mining = .none
        let unmined = try Trainer(features: Self.corpus.features, task: Self.corpus.tripletTask, options: options)
        try unmined.run()
        XCTAssertEqual(unmined.history.presampledNegativeChosen, [1, 1, 1, 1])
        // Classification logs no mining statistics.
        let classifier = try Trainer(features: Self.corpus.features, task: .classification(Self.corpus.labels), options: smallOptions(steps: 5))
        try classifier.run()
        XCTAssertTrue(classifier.history.presampledNegativeChosen.isEmpty)
    }

    func testFullCorpusValidationMatchesABruteForceRanking() throws {
        let trainer = try Trainer(features: Self.corpus.features, task: Self.corpus.tripletTask, options: smallOptions(steps: 3))
        try trainer.run()
        let n = Self.corpus.features.count, dim = trainer.options.dim
        let all = trainer.embed(rows: (0..<n).map(Int32.init))
        // Train edges: each video's next two videos of another topic (excluded from its ranking); held-out: same topic.
        var rows: [Int32] = [], columns: [Int32] = []
        let topic = Self.corpus.topic
        for v in 0..<n {
            for d in 1...2 where topic[(v + d) % n] != topic[v] {
                let u = (v + d) % n
                rows += [Int32(v), Int32(u)]; columns += [Int32(u), Int32(v)]
            }
        }
        let train = CSRGraph.fromEntries(nodes: n, rows: rows, columns: columns, weights: [Float](repeating: 1, count: rows.count))
        let queries: [Int32] = [0, 7, 50, 123, 399]
        let validation = FullCorpusValidation(train: train, heldout: Self.corpus.heldout, queries: queries)
        let map = all.withUnsafeBufferPointer { validation.meanAveragePrecision(corpus: $0, rows: n, dim: dim, threads: 1) }
        var total = 0.0
        for q in queries.map(Int.init) {
            let excluded = Set(train.neighbours(q).map { Int(train.indices[$0]) } + [q])
            let relevant = Set(Self.corpus.heldout.neighbours(q).map { Int(Self.corpus.heldout.indices[$0]) }).subtracting(excluded)
            func score(_ v: Int) -> Double {
                var sum = 0.0
                for c in 0..<dim { sum += Double(all[q * dim + c]) * Double(all[v * dim + c]) }
                return sum
            }
            let ranked = (0..<n).filter { !excluded.contains($0) }.sorted { score($0) > score($1) }
            var hits = 0, ap = 0.0
            for (i, v) in ranked.enumerated() where relevant.contains(v) { hits += 1; ap += Double(hits) / Double(i + 1) }
            total += ap / Double(relevant.count)
        }
        XCTAssertEqual(map, total / Double(queries.count), accuracy: 1e-4)
    }

    func testEmbeddingsAreUnitRowsForEveryVideo() throws {
        let trainer = try Trainer(features: Self.corpus.features, task: Self.corpus.tripletTask, options: smallOptions(steps: 2))
        try trainer.run()
        let n = Self.corpus.features.count, dim = trainer.options.dim
        var all = [Float](repeating: 0, count: n * dim)
        all.withUnsafeMutableBufferPointer { trainer.embed(range: 0..<n, into: $0.baseAddress!) }
        for r in 0..<n {
            let norm = (0..<dim).reduce(Float(0)) { $0 + all[r * dim + $1] * all[r * dim + $1] }
            XCTAssertEqual(norm, 1, accuracy: 1e-5)
        }
        // Same vectors whichever batch a video is embedded in (up to GEMM blocking).
        for (a, b) in zip(Array(all[(5 * dim)..<(7 * dim)]), trainer.embed(rows: [5, 6])) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }
}
