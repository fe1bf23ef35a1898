import Foundation
import LinearAlgebra
import Support

/// Proposal distribution of the sampled softmax.
public enum Proposal: String, CaseIterable, Sendable {
    /// Every class equally likely.
    case uniform
    /// P(c) = log((c+2)/(c+1)) / log(C+1): class ids are ranked by decreasing cluster size.
    case logUniform = "log-uniform"
}

/// Draws K distinct candidate classes per step (sampling with replacement until K distinct
/// ones are seen, as TensorFlow's unique samplers do) and gives each class's log expected
/// count, the log-Q correction: E[count of c] = 1 − (1 − q_c)^tries.
public struct ClassSampler: Sendable {
    public let classes: Int
    public let count: Int
    public let proposal: Proposal
    private var seen: [Int32]
    private var stamp: Int32 = 0
    public private(set) var tries = 0

    public init(classes: Int, count: Int, proposal: Proposal) {
        precondition(count >= 1 && count <= classes, "ClassSampler: need 1 <= K <= C")
        self.classes = classes
        self.count = count
        self.proposal = proposal
        seen = [Int32](repeating: 0, count: classes)
    }

    /// Probability of drawing class `c` in one try.
    public func probability(_ c: Int) -> Double {
        switch proposal {
        case .uniform: return 1 / Double(classes)
        case .logUniform: return log(Double(c + 2) / Double(c + 1)) / log(Double(classes + 1))
        }
    }

    /// log E[times c appears] after the last `sample` (its `tries` draws).
    public func logExpectedCount(_ c: Int) -> Double {
        let q = probability(c)
        return log(-expm1(Double(tries) * log1p(-q)))
    }

    /// Fills `into` (K entries) with distinct classes, in drawing order.
    public mutating func sample(into: UnsafeMutablePointer<Int32>, generator: inout SeededGenerator) {
        stamp &+= 1
        if stamp == Int32.max { for i in seen.indices { seen[i] = 0 }; stamp = 1 }
        tries = 0
        var filled = 0
        let logRange = log(Double(classes + 1))
        while filled < count {
            tries += 1
            let c: Int
            switch proposal {
            case .uniform: c = generator.below(classes)
            case .logUniform: c = min(classes - 1, max(0, Int(exp(generator.unit() * logRange)) - 1))
            }
            if seen[c] == stamp { continue }
            seen[c] = stamp
            into[filled] = Int32(c)
            filled += 1
        }
    }
}

/// A linear classifier over the unit embedding with a softmax over a candidate set of
/// classes: all classes (full softmax) or K sampled ones (sampled softmax). The gradient
/// touches only the rows of the candidates and of the batch's true classes, so the
/// optimiser can update those rows alone.
public final class SoftmaxHead<S: NetworkScalar> {
    public let classes: Int
    public let dim: Int
    /// [classes, dim] then bias [classes] are separate buffers.
    public let weight: Buffer<S>
    public let bias: Buffer<S>

    /// Rows touched by the last step: class ids, candidates first then extra true classes.
    public private(set) var touched: Buffer<Int32>
    public private(set) var touchedCount = 0
    /// Gradients of the touched rows: [touchedCount, dim] and [touchedCount].
    public private(set) var weightGradient: Buffer<S>
    public private(set) var biasGradient: Buffer<S>
    /// Threads of the element-wise work between the GEMMs (BLAS threads are set by the caller); results do not depend on it.
    public var threads = 1

    private var slot: [Int32]
    private var gathered: Buffer<S>
    private var gatheredBias: Buffer<S>
    private var logits: Buffer<S>
    private var trueLogit: Buffer<S>
    private var trueSlot: Buffer<Int>
    private var rowLoss: Buffer<Double>
    private var capacity = (rows: 0, candidates: 0)

    public init(classes: Int, dim: Int, seed: UInt64) {
        self.classes = classes
        self.dim = dim
        weight = Buffer(count: classes * dim, repeating: 0)
        bias = Buffer(count: classes, repeating: 0)
        var generator = SeededGenerator(seed: seed)
        let bound = (6 / Double(dim + classes)).squareRoot()   // Glorot-uniform
        for i in 0..<(classes * dim) { weight[i] = S((generator.unit() * 2 - 1) * bound) }
        slot = [Int32](repeating: -1, count: classes)
        touched = Buffer(count: 0, repeating: 0)
        weightGradient = Buffer(count: 0, repeating: 0)
        biasGradient = Buffer(count: 0, repeating: 0)
        gathered = Buffer(count: 0, repeating: 0)
        gatheredBias = Buffer(count: 0, repeating: 0)
        logits = Buffer(count: 0, repeating: 0)
        trueLogit = Buffer(count: 0, repeating: 0)
        trueSlot = Buffer(count: 0, repeating: 0)
        rowLoss = Buffer(count: 0, repeating: 0)
    }

    private func reserve(rows: Int, candidates: Int) {
        guard rows > capacity.rows || candidates > capacity.candidates else { return }
        capacity = (max(rows, capacity.rows), max(candidates, capacity.candidates))
        let maxTouched = capacity.candidates + capacity.rows
        touched = Buffer(count: maxTouched, repeating: 0)
        weightGradient = Buffer(count: maxTouched * dim, repeating: 0)
        biasGradient = Buffer(count: maxTouched, repeating: 0)
        gathered = Buffer(count: maxTouched * dim, repeating: 0)
        gatheredBias = Buffer(count: maxTouched, repeating: 0)
        logits = Buffer(count: capacity.rows * capacity.candidates, repeating: 0)
        trueLogit = Buffer(count: capacity.rows, repeating: 0)
        trueSlot = Buffer(count: capacity.rows, repeating: 0)
        rowLoss = Buffer(count: capacity.rows, repeating: 0)
    }

    /// Mean cross-entropy of `rows` embeddings `z` [rows, dim] with labels, over the candidates
    /// (K distinct classes). Logits of candidates and true classes are corrected by subtracting
    /// `logCorrection(c)` (log expected count; 0 for the full softmax); a candidate equal to a
    /// row's true class (an accidental hit) is removed from that row. Writes dLoss/dz into
    /// `embeddingGradient` and the touched rows' gradients into `weightGradient`/`biasGradient`.
    public func lossAndGradient(embeddings z: UnsafePointer<S>, rows: Int, labels: UnsafePointer<Int32>,
                                candidates: UnsafePointer<Int32>, candidateCount k: Int, logCorrection: (Int) -> S,
                                embeddingGradient: UnsafeMutablePointer<S>) -> Double {
        reserve(rows: rows, candidates: k)
        // Touched rows: candidates first (their slots are 0..<K), then true classes not among them.
        var u = 0
        for j in 0..<k {
            let c = Int(candidates[j])
            slot[c] = Int32(u)
            touched[u] = Int32(c)
            u += 1
        }
        for r in 0..<rows {
            let c = Int(labels[r])
            if slot[c] < 0 {
                slot[c] = Int32(u)
                touched[u] = Int32(c)
                u += 1
            }
            trueSlot[r] = Int(slot[c])
        }
        touchedCount = u
        for s in 0..<u { slot[Int(touched[s])] = -1 }
        // Gather the touched rows once (bias with its log-Q correction); the GEMMs read them, the optimiser updates them in place.
        let g = gathered.pointer, gb = gatheredBias.pointer, t = UnsafePointer(touched.pointer)
        Kernels.forEachChunk(u, threads: threads, minimum: 256) { slots in
            for s in slots {
                let c = Int(t[s])
                (g + s * dim).update(from: weight.pointer + c * dim, count: dim)
                gb[s] = bias[c] - logCorrection(c)
            }
        }
        // Logits of all candidates for the whole batch: one GEMM.
        let l = logits.pointer
        BLAS.gemm(transposeA: false, transposeB: true, m: rows, n: k, k: dim, alpha: 1, a: z, lda: dim, b: UnsafePointer(g), ldb: dim,
               beta: 0, c: l, ldc: k)
        let inverseRows = 1 / S(rows)
        let trueSlot = UnsafePointer(self.trueSlot.pointer), trueLogit = self.trueLogit.pointer, rowLoss = self.rowLoss.pointer
        // Rows are independent here: split over the threads; the loss is summed in row order afterwards.
        Kernels.forEachChunk(rows, threads: threads, minimum: 64) { chunk in
            for r in chunk {
                let row = l + r * k, zr = z + r * dim, ts = trueSlot[r]
                let w = g + ts * dim
                let t: S = gb[ts] + Kernels.dot(dim, zr, w)
                // The largest logit, the accidental hit's included: any upper bound stabilises.
                let top = Kernels.addReturningMaximum(k, row, gb, floor: t)
                // exp(logit − top) on SIMD lanes; the accidental hit's term is then removed.
                let sumCandidates = Kernels.expShifted(k, row, top: top)
                let trueTerm = S.exp(t - top)
                var sum = trueTerm + sumCandidates
                if ts < k {
                    sum -= row[ts]
                    row[ts] = 0
                }
                rowLoss[r] = Double(top + S.log(sum) - t)
                // Softmax gradient: p/rows for candidates, (p_true − 1)/rows for the true class.
                let inverse = inverseRows / sum
                Kernels.scale(k, row, inverse)
                trueLogit[r] = trueTerm * inverse - inverseRows
            }
        }
        var total = 0.0
        for r in 0..<rows { total += rowLoss[r] }
        // dz = dlogits · W_candidates (+ true-class terms); dW_candidates = dlogitsᵀ z.
        BLAS.gemm(transposeA: false, transposeB: false, m: rows, n: dim, k: k, alpha: 1, a: UnsafePointer(l), lda: k, b: UnsafePointer(g),
               ldb: dim, beta: 0, c: embeddingGradient, ldc: dim)
        let gw = weightGradient.pointer, gbias = biasGradient.pointer
        BLAS.gemm(transposeA: true, transposeB: false, m: k, n: dim, k: rows, alpha: 1, a: UnsafePointer(l), lda: k, b: z, ldb: dim,
               beta: 0, c: gw, ldc: dim)
        if u > k { (gw + k * dim).update(repeating: 0, count: (u - k) * dim) }
        Kernels.columnSums(rows: rows, columns: k, l, gbias, threads: threads)
        if u > k { (gbias + k).update(repeating: 0, count: u - k) }
        Kernels.forEachChunk(rows, threads: threads, minimum: 256) { chunk in
            for r in chunk { Kernels.addScaled(dim, embeddingGradient + r * dim, g + trueSlot[r] * dim, trueLogit[r]) }
        }
        // Rows sharing a true class add into one gradient row: kept in row order.
        for r in 0..<rows {
            let ts = trueSlot[r], d = trueLogit[r]
            Kernels.addScaled(dim, gw + ts * dim, z + r * dim, d)
            gbias[ts] += d
        }
        return total / Double(rows)
    }
}
