import Contracts
import Distributed
import Foundation
import LinearAlgebra
import Support

/// Options of a training run (the `train-embed` flags).
public struct TrainingOptions: Sendable {
    public var visualHidden = 1024
    public var audioHidden = 256
    public var dim = 256
    /// Triplets per step (triplet task) or videos per step (classification).
    public var batch = 256
    public var steps = 1000
    public var adam = AdamSettings()
    /// Clip the global gradient norm to this value (nil = no clipping).
    public var clipNorm: Double? = nil
    public var margin = 0.2
    public var mining = Mining.semihard
    /// Sampled softmax with this many candidate classes; nil or ≥ classes = full softmax.
    public var sampled: Int? = nil
    public var proposal = Proposal.uniform
    public var logEvery = 10
    public var validateEvery = 0
    /// Steps to validate at besides the multiples of `validateEvery` (e.g. log-spaced, `ValidationSchedule.logSpaced`).
    public var validateAt: Set<Int> = []
    public var checkpointEvery = 0
    public var seed: UInt64 = 1
    /// BLAS threads of the GEMMs (the rest of a step is single-threaded, so results do not depend on it
    /// beyond OpenBLAS's own blocking).
    public var threads = 1
    /// Gradient blocks per batch: the batch is cut into blocks of ⌈batch / gradientBlocks⌉ examples (the last
    /// may be shorter) that run through the network separately, their gradients added in float64
    /// (`TwoTowerNetwork`). Blocks are the unit split over ranks, so any number of ranks up to the
    /// number of blocks gives one process's numbers; the value itself changes float rounding only.
    /// nil: `defaultGradientBlocks`, or the number of ranks when that is larger.
    public var gradientBlocks: Int? = nil
    public static let defaultGradientBlocks = 4

    public init() {}
}

/// The training loop: mini-batches drawn from a seeded per-epoch permutation, one forward
/// and one backward pass of the batch (GEMMs), the loss, Adam. All buffers are sized
/// once; a step allocates nothing (beyond the collectives' arrays under several ranks).
///
/// Each batch is cut into `gradientBlocks` fixed gradient blocks of examples (triplets or
/// videos); the network runs every GEMM per block and adds the blocks' parameter gradients in
/// float64, rounding once (`TwoTowerNetwork`). Nothing of that depends on how many ranks share
/// the batch, so the rank count does not change the numbers: N ranks give the one-process
/// weights bit for bit (tested at 3 and 5 ranks; at demo size with semi-hard mining after 150
/// steps, where the float32 per-rank GEMMs before drifted to 1.4e-2 in 10 steps: docs/cluster.md).
/// Embedding shares (validation, `--embeddings`) are whole blocks of rows too (`embeddingShare`):
/// OpenBLAS rounds a row by its place in a GEMM.
///
/// Under N ranks (synchronous data parallelism) every rank draws the same global batch from
/// the seed and runs the towers forward and backward on its contiguous range of whole blocks.
/// The batch's embeddings are gathered on every rank, so the loss sees the whole batch:
/// in-batch mining searches the global batch (each rank mines for its own blocks' anchors, one
/// Gram GEMM per block as one process does, and the chosen negatives are gathered), and the
/// loss and its gradient with respect to all of the batch's embeddings are computed on every
/// rank exactly as one process does (that part is O(batch · dim)); each rank back-propagates
/// its blocks. The float64 gradient sums are added by an allreduce and rounded once, and every
/// rank takes the same optimiser step, so the replicas stay equal. The softmax head's gradient
/// comes from the whole gathered batch on every rank and needs no reduction.
///
/// Row layouts: the loss sees the batch as anchors, positives, negatives (3B rows); the network
/// sees it block by block (each block's anchors, positives, negatives), which is also the order
/// the ranks' rows are gathered in. Classification has one layout: the batch's videos in order.
public final class Trainer {
    public let features: FeatureTable
    public let task: TrainingTask
    public let options: TrainingOptions
    public let network: TwoTowerNetwork<Float>
    public let head: SoftmaxHead<Float>?
    public let networkAdam: AdamState
    public let headAdam: (weight: AdamState, bias: AdamState)?
    /// Completed steps.
    public internal(set) var step = 0
    /// Seconds spent in `run` by this process (the report's wall time; not part of resume state).
    public private(set) var wallSeconds = 0.0
    public internal(set) var history = TrainingHistory()
    /// Draws the sampled-softmax candidates; saved in checkpoints.
    public internal(set) var generator: SeededGenerator
    /// The ranks sharing each batch (`Communicator.serial` for one process).
    public let communicator: Communicator
    /// Bytes this rank passed through collectives during training steps (sent and received).
    public private(set) var communicatedBytes = 0
    /// Seconds this rank spent inside those collectives (waiting for slower ranks included), and in training
    /// steps as a whole: their ratio is the share of a step that communication costs.
    public private(set) var communicationSeconds = 0.0, stepSeconds = 0.0

    let exampleCount: Int
    let rowsPerStep: Int
    private var permutation: [Int32] = []
    private var permutationEpoch = -1
    private let visualBatch: Buffer<Float>
    private let audioBatch: Buffer<Float>?
    private let videoBatch: Buffer<Int32>
    private let outputGradient: Buffer<Float>
    private let gram: Buffer<Float>
    private let negatives: Buffer<Int>
    /// Examples (triplets or videos) per gradient block, and the blocks of a batch (the last may be shorter).
    let blockSize: Int, blockCount: Int
    /// This rank's gradient blocks, and their examples (triplets or videos): all of them in one process.
    let ownedBlocks: Range<Int>
    let share: Range<Int>
    /// Videos (triplets: rows in loss layout) or classes (classification) of the whole batch.
    private let batchVideos: Buffer<Int32>
    /// The whole batch's embeddings in block layout, gathered from the ranks (unused with one rank).
    private let gatheredEmbeddings: Buffer<Float>
    /// The whole batch's embeddings in loss layout and their loss gradient (triplets; classification under several ranks).
    private let batchEmbeddings: Buffer<Float>
    private let batchGradient: Buffer<Float>
    /// The float64 sums of this rank's block gradients, added over the ranks (unused with one rank).
    private let gradientSums: Buffer<Double>
    private var sampler: ClassSampler?
    private let candidates: Buffer<Int32>
    private let candidateCount: Int
    private let eligible: [Int32]
    var lossWindowState = (sum: 0.0, steps: 0)
    /// Sums over the current log window of the per-step mining shares and mean distance (triplets only).
    var miningWindowState = (ownNegative: 0.0, active: 0.0, distance: 0.0)
    private var lastMining: (ownNegative: Double, active: Double, distance: Double)?

    public init(features: FeatureTable, task: TrainingTask, options: TrainingOptions, communicator: Communicator = .serial) throws {
        self.features = features
        self.task = task
        self.options = options
        self.communicator = communicator
        guard options.batch >= 1 else { throw GCMLError(parameter: "batchSize", expected: "at least 1", found: "\(options.batch)") }
        let blocks = try communicator.gradientBlocks(requested: options.gradientBlocks, standard: TrainingOptions.defaultGradientBlocks)
        guard options.batch >= communicator.size else {
            throw GCMLError(parameter: "batchSize", expected: "at least the number of ranks (\(communicator.size))", found: "\(options.batch)")
        }
        blockSize = (options.batch + blocks - 1) / blocks
        blockCount = (options.batch + blockSize - 1) / blockSize
        guard blockCount >= communicator.size else {
            throw GCMLError("\(parameter: "batchSize") \(options.batch) in \(parameter: "gradientBlocks") \(blocks) gives \(blockCount) "
                            + "gradient blocks of \(blockSize) \(blockSize == 1 ? "example" : "examples"): expected at least the number of ranks (\(communicator.size)) blocks, "
                            + "each rank computing whole blocks; raise \(parameter: "gradientBlocks") (or \(parameter: "batchSize")) or use fewer ranks")
        }
        ownedBlocks = communicator.share(of: blockCount)
        share = (ownedBlocks.lowerBound * blockSize)..<min(options.batch, ownedBlocks.upperBound * blockSize)
        let shape = TwoTowerShape(visualInput: features.visualWidth, visualHidden: options.visualHidden,
                                  audioInput: features.audioWidth, audioHidden: options.audioHidden, dim: options.dim)
        network = TwoTowerNetwork(shape: shape, seed: options.seed)
        network.threads = options.threads
        networkAdam = AdamState(count: network.parameterCount)
        generator = SeededGenerator(seed: options.seed ^ 0x5EED_5A3F_1ED5_0F7A)
        switch task {
        case .triplets(let triplets, _):
            exampleCount = triplets.count
            rowsPerStep = 3 * options.batch
            eligible = []
            head = nil
            headAdam = nil
            candidateCount = 0
            candidates = Buffer(count: 0, repeating: 0)
        case .classification(let labels):
            eligible = (0..<labels.label.count).filter { labels.label[$0] >= 0 }.map(Int32.init)
            guard !eligible.isEmpty, labels.classCount >= 2 else {
                throw GCMLError("classification: expected at least 2 clusters with 2 or more videos, found \(labels.classCount) classes")
            }
            exampleCount = eligible.count
            rowsPerStep = options.batch
            let classes = labels.classCount
            let softmax = SoftmaxHead<Float>(classes: classes, dim: options.dim, seed: options.seed &+ 7)
            softmax.threads = options.threads
            head = softmax
            headAdam = (AdamState(count: classes * options.dim), AdamState(count: classes))
            if let k = options.sampled, k < classes {
                sampler = ClassSampler(classes: classes, count: k, proposal: options.proposal)
                candidateCount = k
                candidates = Buffer(count: k, repeating: 0)
            } else {
                candidateCount = classes
                candidates = Buffer((0..<classes).map(Int32.init))
            }
        }
        guard exampleCount > 0 else { throw GCMLError("no training examples") }
        let rows = rowsPerStep
        network.blockRows = blockSize * rows / options.batch
        network.reserve(rows: rows)
        visualBatch = Buffer(count: rows * features.visualWidth, repeating: 0)
        audioBatch = features.audio == nil ? nil : Buffer(count: rows * features.audioWidth, repeating: 0)
        videoBatch = Buffer(count: rows, repeating: 0)
        outputGradient = Buffer(count: rows * options.dim, repeating: 0)
        if case .triplets = task, options.mining != .none {
            gram = Buffer(count: share.count * rows, repeating: 0)   // the rows of this rank's anchors
        } else {
            gram = Buffer(count: 0, repeating: 0)
        }
        negatives = Buffer(count: options.batch, repeating: 0)
        batchVideos = Buffer(count: rows, repeating: 0)
        let distributed = communicator.size > 1
        gatheredEmbeddings = Buffer(count: distributed ? rows * options.dim : 0, repeating: 0)
        let lossLayout = distributed || rowsPerStep > options.batch ? rows * options.dim : 0
        batchEmbeddings = Buffer(count: lossLayout, repeating: 0)
        batchGradient = Buffer(count: lossLayout, repeating: 0)
        gradientSums = Buffer(count: distributed ? network.parameterCount : 0, repeating: 0)
    }

    /// Examples (network inputs: 3 per triplet, 1 per labelled video) per step.
    public var examplesPerStep: Int { rowsPerStep }
    /// Network inputs (rows) per step.
    public var rowsPerBatch: Int { rowsPerStep }

    /// Index of the `offset`-th example of the whole run: epochs are seeded permutations.
    private func example(_ global: Int) -> Int {
        let epoch = global / exampleCount
        if epoch != permutationEpoch {
            var order = permutation.count == exampleCount ? permutation : (0..<exampleCount).map(Int32.init)
            for i in 0..<exampleCount { order[i] = Int32(i) }
            var shuffle = SeededGenerator(seed: options.seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(epoch + 1))
            order.fisherYatesShuffle(using: &shuffle)
            permutation = order
            permutationEpoch = epoch
        }
        return Int(permutation[global % exampleCount])
    }

    @inline(__always)
    private func gather(video: Int32, row: Int) {
        let v = Int(video)
        features.visual.withUnsafeBufferPointer { source in
            (visualBatch.pointer + row * features.visualWidth).update(from: source.baseAddress! + v * features.visualWidth,
                                                                       count: features.visualWidth)
        }
        if let audio = features.audio, let audioBatch {
            audio.withUnsafeBufferPointer { source in
                (audioBatch.pointer + row * features.audioWidth).update(from: source.baseAddress! + v * features.audioWidth,
                                                                         count: features.audioWidth)
            }
        }
        videoBatch[row] = video
    }

    /// Copies the features of `rows` batch rows (row → its video) into the batch buffers, split over the threads.
    private func gatherFeatures(rows: Int, video: (Int) -> Int32) {
        Kernels.forEachChunk(rows, threads: options.threads, minimum: 128) { chunk in
            for row in chunk { gather(video: video(row), row: row) }
        }
    }

    /// Triplets of gradient block `block`.
    private func blockTriplets(_ block: Int) -> Range<Int> { (block * blockSize)..<min(options.batch, (block + 1) * blockSize) }

    /// Copies rows between the loss layout (all anchors, positives, negatives) and the block layout of `blocks`
    /// (their anchors, positives, negatives block after block, from row 0 of `blockLayout`), `dim` values a row.
    private func convertLayout(blocks: Range<Int>, blockLayout: UnsafeMutablePointer<Float>, lossLayout: UnsafeMutablePointer<Float>,
                               toLossLayout: Bool) {
        let dim = options.dim, b = options.batch
        var row = 0
        for block in blocks {
            let triplets = blockTriplets(block)
            for part in 0..<3 {
                let loss = lossLayout + (part * b + triplets.lowerBound) * dim, local = blockLayout + row * dim
                if toLossLayout { loss.update(from: local, count: triplets.count * dim) } else { local.update(from: loss, count: triplets.count * dim) }
                row += triplets.count
            }
        }
    }

    /// Loss of the next batch and the gradients (network and head, summed over ranks), without updating.
    func computeGradients() throws -> Double {
        let b = options.batch
        let first = step * b
        let dim = options.dim
        let audio = audioBatch.map { UnsafePointer($0.pointer) }
        let local = share.count
        let loss: Double
        let backwardGradient: UnsafePointer<Float>
        switch task {
        case .triplets(let triplets, let neighbours):
            // Every rank knows the whole batch's videos (loss layout); it gathers features for its own blocks only.
            for j in 0..<b {
                let t = example(first + j)
                batchVideos[j] = triplets.anchor[t]
                batchVideos[b + j] = triplets.positive[t]
                batchVideos[2 * b + j] = triplets.negative[t]
            }
            var row = 0
            for block in ownedBlocks {
                let t = blockTriplets(block)
                for part in 0..<3 {
                    for j in t {
                        videoBatch[row] = batchVideos[part * b + j]
                        row += 1
                    }
                }
            }
            gatherFeatures(rows: 3 * local) { videoBatch[$0] }
            let rows = 3 * b
            let z = network.forward(visual: visualBatch.pointer, audio: audio, rows: 3 * local)
            let blockLayout = try gatherBatch(z, rows: 3 * local)
            let all: UnsafeMutablePointer<Float>
            if blockCount == 1 {
                all = blockLayout   // one block: the layouts agree
            } else {
                convertLayout(blocks: 0..<blockCount, blockLayout: blockLayout, lossLayout: batchEmbeddings.pointer, toLossLayout: true)
                all = batchEmbeddings.pointer
            }
            // Mining for this rank's anchors over the whole batch: their rows of the Gram matrix, one GEMM per block.
            if options.mining != .none {
                for block in ownedBlocks {
                    let anchors = blockTriplets(block)
                    BLAS.gemm(transposeA: false, transposeB: true, m: anchors.count, n: rows, k: dim, a: all + anchors.lowerBound * dim, lda: dim,
                              b: all, ldb: dim, c: gram.pointer + (anchors.lowerBound - share.lowerBound) * rows, ldc: rows)
                }
            }
            TripletLoss.selectNegatives(gram: gram.pointer, anchors: options.mining == .none ? 0..<b : share, tripletCount: b, videos: batchVideos.pointer,
                                        neighbours: neighbours, mining: options.mining, into: negatives.pointer)
            if communicator.size > 1 && options.mining != .none {
                let chosen = try collective(bytes: 4 * (b + local)) { try communicator.allgatherv(share.map { Int32(negatives[$0]) }).values }
                for j in 0..<b { negatives[j] = Int(chosen[j]) }
            }
            // The loss and its gradient for every embedding of the batch, as one process computes them.
            let gradient = blockCount == 1 ? outputGradient.pointer : batchGradient.pointer
            let result = TripletLoss.lossAndGradient(embeddings: all, dim: dim, tripletCount: b, negatives: negatives.pointer,
                                                     margin: Float(options.margin), gradient: gradient)
            loss = result.loss
            let mined = TripletLoss.miningStatistics(embeddings: all, dim: dim, tripletCount: b, negatives: negatives.pointer)
            lastMining = (Double(mined.ownNegativeChosen) / Double(b), Double(result.active) / Double(b), mined.distanceSum / Double(b))
            if blockCount > 1 {
                convertLayout(blocks: ownedBlocks, blockLayout: outputGradient.pointer, lossLayout: gradient, toLossLayout: false)
            }
            backwardGradient = UnsafePointer(outputGradient.pointer)
        case .classification(let labels):
            for j in 0..<b { batchVideos[j] = labels.label[Int(eligible[example(first + j)])] }   // the class of each row
            for (l, j) in share.enumerated() { videoBatch[l] = eligible[example(first + j)] }
            gatherFeatures(rows: local) { videoBatch[$0] }
            let z = network.forward(visual: visualBatch.pointer, audio: audio, rows: local)
            let all = try gatherBatch(z, rows: local)
            let gradient = communicator.size > 1 ? batchGradient.pointer : outputGradient.pointer
            let softmax = head!
            if var sampler {
                sampler.sample(into: candidates.pointer, generator: &generator)
                self.sampler = sampler
                loss = softmax.lossAndGradient(embeddings: all, rows: b, labels: batchVideos.pointer, candidates: candidates.pointer,
                                               candidateCount: candidateCount, logCorrection: { Float(sampler.logExpectedCount($0)) },
                                               embeddingGradient: gradient)
            } else {
                loss = softmax.lossAndGradient(embeddings: all, rows: b, labels: batchVideos.pointer, candidates: candidates.pointer,
                                               candidateCount: candidateCount, logCorrection: { _ in 0 },
                                               embeddingGradient: gradient)
            }
            // This rank's rows are contiguous in the batch.
            backwardGradient = UnsafePointer(gradient + (communicator.size > 1 ? share.lowerBound * dim : 0))
        }
        let rows = rowsPerStep / b * local
        if communicator.size > 1 {
            // Each rank's block sums in float64, added over the ranks, rounded once: the one-process gradient.
            let sums = gradientSums.pointer, count = network.parameterCount
            network.backward(visual: visualBatch.pointer, audio: audio, rows: rows, outputGradient: backwardGradient, sums: sums)
            collective(bytes: 2 * 8 * count) { communicator.allreduce(UnsafeMutableBufferPointer(start: sums, count: count)) }
            network.roundGradients(from: sums)
        } else {
            // The last addition of the block gradients is left to the optimiser's pass (`updateParameters`).
            network.backward(visual: visualBatch.pointer, audio: audio, rows: rows, outputGradient: backwardGradient, completing: false)
        }
        return loss
    }

    /// Runs one collective of a training step, counting its bytes (sent and received) and its time.
    private func collective<R>(bytes: Int, _ body: () throws -> R) rethrows -> R {
        let started = DispatchTime.now().uptimeNanoseconds
        defer {
            communicationSeconds += Self.seconds(since: started)
            communicatedBytes += bytes
        }
        return try body()
    }

    private static func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 }

    /// The whole batch's embeddings in block layout, from each rank's `z` [rows, dim] (its blocks, in order):
    /// with one rank, `z` itself.
    private func gatherBatch(_ z: UnsafeMutablePointer<Float>, rows: Int) throws -> UnsafeMutablePointer<Float> {
        guard communicator.size > 1 else { return z }
        let dim = options.dim
        let gathered = try collective(bytes: 4 * (rowsPerStep + rows) * dim) {
            try communicator.allgatherv(Array(UnsafeBufferPointer(start: z, count: rows * dim))).values
        }
        gathered.withUnsafeBufferPointer { gatheredEmbeddings.pointer.update(from: $0.baseAddress!, count: rowsPerStep * dim) }
        return gatheredEmbeddings.pointer
    }

    /// One optimisation step. Throws (leaving the parameters untouched) when the loss is not finite.
    @discardableResult
    public func trainStep() throws -> Double {
        try BLAS.withThreads(options.threads) {
            let loss = try computeGradients()
            guard loss.isFinite else {
                network.completeGradients()
                throw GCMLError("step \(step + 1): the loss is \(loss) (not finite); training stopped. Try a smaller \(parameter: "learningRate") or \(parameter: "clip").")
            }
            var scale: Float = 1
            if let limit = options.clipNorm {
                network.completeGradients()
                var squares = 0.0
                let g = network.gradients.pointer
                for i in 0..<network.parameterCount { squares += Double(g[i] * g[i]) }
                if let head {
                    let gw = head.weightGradient.pointer, gb = head.biasGradient.pointer
                    for i in 0..<(head.touchedCount * head.dim) { squares += Double(gw[i] * gw[i]) }
                    for i in 0..<head.touchedCount { squares += Double(gb[i] * gb[i]) }
                }
                let norm = squares.squareRoot()
                if norm > limit { scale = Float(limit / norm) }
            }
            step += 1
            let rate = options.adam.rate(step: step, totalSteps: options.steps)
            updateParameters(rate: rate, scale: scale)
            lossWindowState.sum += loss
            lossWindowState.steps += 1
            if let mining = lastMining {
                miningWindowState.ownNegative += mining.ownNegative
                miningWindowState.active += mining.active
                miningWindowState.distance += mining.distance
            }
            if step % max(1, options.logEvery) == 0 { flushLoss() }
            return loss
        }
    }

    /// Adam on the network (densely, each range as soon as its gradient is complete) and on the head rows the step
    /// touched (lazily), split over the threads: every value is updated by itself, so the split changes no number.
    private func updateParameters(rate: Double, scale: Float) {
        let settings = options.adam, step = step
        let network = network, networkAdam = networkAdam
        network.completeGradients { range in
            networkAdam.update(parameters: network.parameters.pointer + range.lowerBound, gradients: network.gradients.pointer + range.lowerBound,
                               offset: range.lowerBound, count: range.count, settings: settings, step: step, rate: rate, scale: scale)
        }
        guard let head, let headAdam else { return }
        let dim = head.dim
        // The touched classes are distinct, so their rows can be updated in any order.
        Kernels.forEachChunk(head.touchedCount, threads: options.threads, minimum: 256) { slots in
            for s in slots {
                let c = Int(head.touched[s])
                headAdam.weight.update(parameters: head.weight.pointer + c * dim, gradients: head.weightGradient.pointer + s * dim,
                                       offset: c * dim, count: dim, settings: settings, step: step, rate: rate, scale: scale)
                headAdam.bias.update(parameters: head.bias.pointer + c, gradients: head.biasGradient.pointer + s, offset: c, count: 1,
                                     settings: settings, step: step, rate: rate, scale: scale)
            }
        }
    }

    /// The history with the mean loss of the steps since the last log point appended (what model.h5
    /// shows); `history` itself keeps only completed log windows so that a resumed run logs the same points.
    public var reportedHistory: TrainingHistory {
        var result = history
        if lossWindowState.steps > 0 { Self.appendWindow(&result, step: step, loss: lossWindowState, mining: miningWindowState, isTriplet: isTriplet) }
        return result
    }

    var isTriplet: Bool { if case .triplets = task { return true }; return false }

    private func flushLoss() {
        guard lossWindowState.steps > 0 else { return }
        Self.appendWindow(&history, step: step, loss: lossWindowState, mining: miningWindowState, isTriplet: isTriplet)
        lossWindowState = (0, 0)
        miningWindowState = (0, 0, 0)
    }

    /// One logged point: the window's mean loss and, for triplets, its mean mining statistics.
    private static func appendWindow(_ history: inout TrainingHistory, step: Int, loss: (sum: Double, steps: Int),
                                     mining: (ownNegative: Double, active: Double, distance: Double), isTriplet: Bool) {
        let n = Double(loss.steps)
        history.step.append(Int64(step))
        history.loss.append(loss.sum / n)
        if isTriplet {
            history.presampledNegativeChosen.append(mining.ownNegative / n)
            history.activeFraction.append(mining.active / n)
            history.anchorNegativeDistance.append(mining.distance / n)
        }
    }

    /// When validation is due.
    public var validationSchedule: ValidationSchedule { ValidationSchedule(every: options.validateEvery, extra: options.validateAt) }

    /// Trains until `options.steps`, validating and checkpointing as configured.
    /// `checkpoint` is called every `checkpointEvery` steps (it writes model.h5).
    /// Validation reads the network and scratch buffers only: it draws no random numbers, so the same
    /// seed gives the same weights with or without it.
    public func run(validation: RetrievalValidation? = nil, fullCorpus: FullCorpusValidation? = nil,
                    progress reporter: ProgressReporter = .unnamed, checkpoint: ((Trainer) throws -> Void)? = nil) throws {
        try BLAS.withThreads(options.threads) {
            let remaining = max(0, options.steps - step)
            let progress = reporter.progress(total: remaining, unit: "steps")
            let schedule = validationSchedule
            if let validation, !schedule.isEmpty, step == 0 { try validate(validation, fullCorpus: fullCorpus) }
            let started = Date()
            var lastLoss = Double.nan
            while step < options.steps {
                let stepStarted = DispatchTime.now().uptimeNanoseconds
                lastLoss = try trainStep()
                stepSeconds += Self.seconds(since: stepStarted)
                if let validation, schedule.isDue(step: step, lastStep: options.steps) {
                    try validate(validation, fullCorpus: fullCorpus)
                }
                if let checkpoint, options.checkpointEvery > 0, step % options.checkpointEvery == 0, step < options.steps {
                    try checkpoint(self)
                }
                let rate = Double(progress.done + 1) * Double(examplesPerStep) / max(1e-9, Date().timeIntervalSince(started))
                progress.advance(note: String(format: "step %d, loss %.4f, %@ examples/s", step, lastLoss, Progress.format(rate)))
            }
            wallSeconds += Date().timeIntervalSince(started)
            progress.finish(note: lastLoss.isNaN ? "nothing to do" : String(format: "final loss %.4f", lastLoss))
        }
    }

    /// Validation MAP: each rank embeds its share of the sample's videos and scores its share of the
    /// queries; the vectors and the APs are gathered, the APs added up in query order.
    func validate(_ validation: RetrievalValidation, fullCorpus: FullCorpusValidation? = nil) throws {
        let dim = options.dim
        var vectors = embed(rows: Array(validation.rows[embeddingShare(of: validation.rows.count)]))
        if communicator.size > 1 { vectors = try communicator.allgatherv(vectors).values }
        var sampled = validation.averagePrecisions(vectors: vectors, dim: dim, queries: communicator.share(of: validation.queries.count))
        if communicator.size > 1 { sampled = try communicator.allgatherv(sampled).values }
        history.validationStep.append(Int64(step))
        history.validationMAP.append(FullCorpusValidation.mean(sampled))
        // Full corpus: each rank embeds its share of the videos and ranks its share of the queries
        // against the gathered corpus; the APs are gathered in query order and summed as one process does.
        if let fullCorpus {
            let rows = features.count, videos = embeddingShare(of: rows)
            var corpus = [Float](repeating: 0, count: videos.count * dim)
            if !videos.isEmpty { corpus.withUnsafeMutableBufferPointer { embed(range: videos, into: $0.baseAddress!) } }
            if communicator.size > 1 { corpus = try communicator.allgatherv(corpus).values }
            var averagePrecisions = corpus.withUnsafeBufferPointer {
                fullCorpus.averagePrecisions(corpus: $0, rows: rows, dim: dim,
                                             queries: communicator.share(of: fullCorpus.queries.count, inBlocksOf: FullCorpusValidation.queryBlock))
            }
            if communicator.size > 1 { averagePrecisions = try communicator.allgatherv(averagePrecisions).values }
            history.validationMAPFullCorpus.append(FullCorpusValidation.mean(averagePrecisions))
        }
    }

    /// This rank's share of `count` rows to embed: whole gradient blocks of rows (`network.blockRows`).
    /// A row's embedding depends on its place in the GEMM (OpenBLAS's tiling; measured: up to 3e-7 apart),
    /// so the ranks embed at the places one process does.
    public func embeddingShare(of count: Int) -> Range<Int> {
        communicator.share(of: count, inBlocksOf: network.blockRows)
    }

    /// Rows per forward call when embedding: whole gradient blocks, so a call that starts at a multiple of
    /// `network.blockRows` runs the GEMMs one process runs there.
    public var embeddingChunk: Int { max(1, rowsPerStep / network.blockRows) * network.blockRows }

    /// Unit embeddings [rows.count, dim] of the given videos, in batches (of whole gradient blocks from the first row).
    public func embed(rows: [Int32]) -> [Float] {
        BLAS.withThreads(options.threads) {
            let dim = options.dim
            var result = [Float](repeating: 0, count: rows.count * dim)
            var start = 0
            let chunk = embeddingChunk
            let audio = audioBatch.map { UnsafePointer($0.pointer) }
            while start < rows.count {
                let n = min(chunk, rows.count - start)
                for j in 0..<n { gather(video: rows[start + j], row: j) }
                let z = network.forward(visual: visualBatch.pointer, audio: audio, rows: n)
                result.withUnsafeMutableBufferPointer { ($0.baseAddress! + start * dim).update(from: z, count: n * dim) }
                start += n
            }
            return result
        }
    }

    /// Unit embeddings of videos `range` into `output` [range.count, dim] (for writing all videos in batches;
    /// in whole gradient blocks from `range.lowerBound`).
    public func embed(range: Range<Int>, into output: UnsafeMutablePointer<Float>) {
        BLAS.withThreads(options.threads) {
            let dim = options.dim
            let audio = audioBatch.map { UnsafePointer($0.pointer) }
            var start = range.lowerBound
            while start < range.upperBound {
                let n = min(embeddingChunk, range.upperBound - start)
                for j in 0..<n { gather(video: Int32(start + j), row: j) }
                let z = network.forward(visual: visualBatch.pointer, audio: audio, rows: n)
                (output + (start - range.lowerBound) * dim).update(from: z, count: n * dim)
                start += n
            }
        }
    }
}
