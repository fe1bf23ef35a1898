import Distributed
import Foundation
import LinearAlgebra
import Support

/// The annotation probe: one fully connected layer with sigmoid outputs on top of
/// frozen per-video vectors, trained with binary cross-entropy (one independent
/// logistic regression per class, sharing the input), Adam and L2 on the weights.
public struct AnnotationClassifier {
    public struct Options: Sendable {
        public var epochs = 10
        public var batchSize = 256
        public var learningRate: Float = 0.01
        /// L2 penalty λ/2·‖W‖² (its gradient λW is added to the weights' gradient).
        public var l2: Float = 1e-5
        public var seed: UInt64 = 0
        /// Gradient blocks per batch (at least the number of ranks; nil: `defaultGradientBlocks` or one per rank
        /// when the ranks are more): every batch is cut into this many fixed blocks whatever the ranks, so N ranks
        /// compute the one-process gradients bit for bit.
        public var gradientBlocks: Int?
        public static let defaultGradientBlocks = 4
        public init(epochs: Int = 10, batchSize: Int = 256, learningRate: Float = 0.01, l2: Float = 1e-5, seed: UInt64 = 0,
                    gradientBlocks: Int? = nil) {
            self.epochs = epochs
            self.batchSize = batchSize
            self.learningRate = learningRate
            self.l2 = l2
            self.seed = seed
            self.gradientBlocks = gradientBlocks
        }
    }

    public let inputs: Int
    public let classes: Int
    /// [classes, inputs] row-major.
    public private(set) var weight: [Float]
    public private(set) var bias: [Float]
    /// Mean training loss (BCE summed over classes, averaged over videos) of each epoch.
    public private(set) var lossHistory: [Double] = []

    public init(inputs: Int, classes: Int) {
        self.inputs = inputs
        self.classes = classes
        weight = [Float](repeating: 0, count: inputs * classes)
        bias = [Float](repeating: 0, count: classes)
    }

    /// Trains on `rows` of `x` ([*, inputs] row-major) with their `labels` (true classes
    /// per row, aligned with `rows`). Deterministic for a seed. Every batch is cut into
    /// `gradientBlocks` fixed blocks (`Communicator.gradientBlocks`: fewer than the ranks are refused); each block's gradient is one GEMM, widened to float64
    /// and summed (float32 block terms add exactly in float64 unless their magnitudes are 2²⁹ apart),
    /// then rounded once. Under several ranks every rank draws the same batches and computes whole
    /// blocks; the float64 sums are added by an allreduce and every rank takes the same Adam step:
    /// the one-process weights bit for bit.
    public static func train(x: [Float], rows: [Int], labels: [[Int32]], classes: Int, inputs: Int,
                             options: Options, communicator: Communicator = .serial,
                             progress: Support.Progress? = nil) throws -> AnnotationClassifier {
        precondition(rows.count == labels.count)
        var model = AnnotationClassifier(inputs: inputs, classes: classes)
        guard !rows.isEmpty else { return model }
        // Start the bias at the log-odds of each class's frequency (smoothed): the
        // weights then only learn what the vector adds to the prior.
        var counts = [Int](repeating: 0, count: classes)
        for row in labels { for c in Set(row) { counts[Int(c)] += 1 } }
        for c in 0..<classes {
            let p = (Double(counts[c]) + 0.5) / (Double(rows.count) + 1)
            model.bias[c] = Float(log(p / (1 - p)))
        }
        let b = max(1, min(options.batchSize, rows.count)), d = inputs, c = classes
        let blockCount = try communicator.gradientBlocks(requested: options.gradientBlocks, standard: Options.defaultGradientBlocks)
        let ownedBlocks = communicator.share(of: blockCount)
        let blockRows = (b + blockCount - 1) / blockCount
        var batch = [Float](repeating: 0, count: blockRows * d)
        var logits = [Float](repeating: 0, count: blockRows * c)
        var gradW = [Float](repeating: 0, count: c * d)
        var gradB = [Float](repeating: 0, count: c)
        // The float64 sums of the blocks' gradients, weights then bias.
        var sums = [Double](repeating: 0, count: c * d + c)
        let adamW = AdamState(count: c * d), adamB = AdamState(count: c)
        let adam = AdamSettings(learningRate: Double(options.learningRate))
        var step = 0
        var order = Array(rows.indices)
        var generator = SeededGenerator(seed: options.seed)
        for _ in 0..<options.epochs {
            order.fisherYatesShuffle(using: &generator)
            // Per block index (the same rank owns it in every batch): the loss of its rows, in batch order.
            var blockLoss = [Double](repeating: 0, count: blockCount)
            for start in stride(from: 0, to: order.count, by: b) {
                // The whole batch's size scales the gradient; this rank computes its blocks' terms.
                let whole = min(b, order.count - start)
                for k in 0..<sums.count { sums[k] = 0 }
                for block in ownedBlocks {
                    let rowsOfBlock = Partition.range(whole, part: block, of: blockCount)
                    guard !rowsOfBlock.isEmpty else { continue }
                    blockLoss[block] += blockGradient(x: x, rows: rows, labels: labels, order: order, first: start + rowsOfBlock.lowerBound,
                                                      count: rowsOfBlock.count, whole: whole, model: model, batch: &batch,
                                                      logits: &logits, gradW: &gradW, gradB: &gradB)
                    for k in 0..<(c * d) { sums[k] += Double(gradW[k]) }
                    for j in 0..<c { sums[c * d + j] += Double(gradB[j]) }
                }
                if communicator.size > 1 { communicator.allreduce(&sums) }
                for k in 0..<(c * d) { gradW[k] = Float(sums[k]) }
                for j in 0..<c { gradB[j] = Float(sums[c * d + j]) }
                if options.l2 > 0 { for i in 0..<(c * d) { gradW[i] += options.l2 * model.weight[i] } }
                step += 1
                adamW.update(&model.weight, gradients: gradW, settings: adam, step: step)
                adamB.update(&model.bias, gradients: gradB, settings: adam, step: step)
            }
            // Each block's loss is non-zero on one rank only, so the allreduce is exact; added in block order.
            if communicator.size > 1 { communicator.allreduce(&blockLoss) }
            model.lossHistory.append(blockLoss.reduce(0, +) / Double(order.count))
            progress?.advance(note: String(format: "loss %.4f", model.lossHistory.last!))
        }
        return model
    }

    /// The gradient of one block of `count` rows (positions `first...` of `order`) into `gradW`, `gradB`,
    /// scaled by 1/`whole` (the batch); returns the block's loss sum.
    private static func blockGradient(x: [Float], rows: [Int], labels: [[Int32]], order: [Int], first: Int, count m: Int, whole: Int,
                                      model: AnnotationClassifier, batch: inout [Float], logits: inout [Float],
                                      gradW: inout [Float], gradB: inout [Float]) -> Double {
        let d = model.inputs, c = model.classes
        for i in 0..<m {
            let source = rows[order[first + i]] * d
            for j in 0..<d { batch[i * d + j] = x[source + j] }
        }
        // logits = X·Wᵀ + b
        batch.withUnsafeBufferPointer { xb in
            model.weight.withUnsafeBufferPointer { w in
                logits.withUnsafeMutableBufferPointer { z in
                    BLAS.gemm(transposeB: true, m: m, n: c, k: d, a: xb.baseAddress!, lda: d, b: w.baseAddress!, ldb: d,
                              c: z.baseAddress!, ldc: c)
                }
            }
        }
        // dL/dz = (σ(z) − y)/whole; loss = softplus(z) − y·z, computed stably.
        var lossSum = 0.0
        for j in 0..<c { gradB[j] = 0 }
        let scale = 1 / Float(whole)
        for i in 0..<m {
            let truth = Set(labels[order[first + i]])
            for label in truth { lossSum -= Double(logits[i * c + Int(label)] + model.bias[Int(label)]) }
            for j in 0..<c {
                let z = logits[i * c + j] + model.bias[j]
                lossSum += Double(max(z, 0) + log1p(exp(-abs(z))))
                logits[i * c + j] = sigmoid(z) * scale
            }
            for label in truth { logits[i * c + Int(label)] -= scale }
            for j in 0..<c { gradB[j] += logits[i * c + j] }
        }
        // dW = Gᵀ·X (the L2 term is added to the summed gradient)
        logits.withUnsafeBufferPointer { g in
            batch.withUnsafeBufferPointer { xb in
                gradW.withUnsafeMutableBufferPointer { gw in
                    BLAS.gemm(transposeA: true, m: c, n: d, k: m, a: g.baseAddress!, lda: c, b: xb.baseAddress!, ldb: d,
                              c: gw.baseAddress!, ldc: d)
                }
            }
        }
        return lossSum
    }

    /// Rows per prediction GEMM.
    public static let predictionBlock = 1024

    /// Sigmoid scores for `rows` of `x`, in blocks: calls `body` with each block's
    /// first position in `rows` and its [count, classes] scores.
    public func predict(x: [Float], rows: [Int], blockSize: Int = Self.predictionBlock,
                        _ body: (_ start: Int, _ scores: UnsafeBufferPointer<Float>) throws -> Void) rethrows {
        let d = inputs, c = classes, b = max(1, min(blockSize, rows.count))
        var block = [Float](repeating: 0, count: b * d)
        var scores = [Float](repeating: 0, count: b * c)
        for start in stride(from: 0, to: rows.count, by: b) {
            let m = min(b, rows.count - start)
            for i in 0..<m {
                let source = rows[start + i] * d
                for j in 0..<d { block[i * d + j] = x[source + j] }
            }
            block.withUnsafeBufferPointer { xb in
                weight.withUnsafeBufferPointer { w in
                    scores.withUnsafeMutableBufferPointer { z in
                        BLAS.gemm(transposeB: true, m: m, n: c, k: d, a: xb.baseAddress!, lda: d, b: w.baseAddress!, ldb: d,
                                  c: z.baseAddress!, ldc: c)
                    }
                }
            }
            for i in 0..<m { for j in 0..<c { scores[i * c + j] = sigmoid(scores[i * c + j] + bias[j]) } }
            try scores.withUnsafeBufferPointer { try body(start, UnsafeBufferPointer(rebasing: $0[0..<(m * c)])) }
        }
    }
}

@inline(__always) func sigmoid(_ z: Float) -> Float {
    z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z))
}
