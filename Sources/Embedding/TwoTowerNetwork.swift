import LinearAlgebra
import Support

/// Sizes of the two-tower model: visual Linear(Kv,H)–ReLU–Linear(H,E), audio
/// Linear(Ka,Ha)–ReLU–Linear(Ha,E), element-wise product, L2 normalisation.
/// `audioInput == 0` means a single (visual) tower.
public struct TwoTowerShape: Equatable, Sendable {
    public var visualInput: Int
    public var visualHidden: Int
    public var audioInput: Int
    public var audioHidden: Int
    public var dim: Int

    public init(visualInput: Int, visualHidden: Int = 1024, audioInput: Int = 0, audioHidden: Int = 256, dim: Int = 256) {
        self.visualInput = visualInput
        self.visualHidden = visualHidden
        self.audioInput = audioInput
        self.audioHidden = audioHidden
        self.dim = dim
    }

    public var hasAudio: Bool { audioInput > 0 }
}

/// One fully connected layer inside the flat parameter vector: weight [out,in] then bias [out].
public struct LayerSlot: Equatable, Sendable {
    /// Group path in model.h5, e.g. "visual/fc1".
    public var name: String
    public var inputs: Int
    public var outputs: Int
    public var weight: Int
    public var bias: Int
}

/// The two-tower network: parameters and gradients in one flat vector (so the
/// optimiser and clipping are single loops), activations in buffers sized for
/// the largest batch seen.
///
/// A batch runs in gradient blocks of `blockRows` rows (the last may be shorter): every product
/// is one GEMM per block, and the parameter gradient is each block's own gradient (float32)
/// summed over the blocks in float64 and rounded once. Up to `heldBlocks` block gradients are
/// kept and added in one pass (one read of each, no float64 round trip per block). So a row's numbers and a block's
/// gradient never depend on which other blocks share the call, and the float64 sums are exact
/// in all but rare cases (float32 values spanning more than 2^29 in magnitude): a batch split
/// over processes along block bounds gives the one-process gradient, as a rule bit for bit.
public final class TwoTowerNetwork<S: NetworkScalar> {
    public let shape: TwoTowerShape
    public let layers: [LayerSlot]
    public let parameters: Buffer<S>
    public let gradients: Buffer<S>
    public private(set) var capacity = 0
    /// Threads of the element-wise work between the GEMMs (BLAS threads are set by the caller); results do not depend on it.
    public var threads = 1
    /// Rows per gradient block (see above); results depend on it, not on how many blocks a call holds.
    public var blockRows = Int.max {
        didSet { precondition(blockRows >= 1, "TwoTowerNetwork: blockRows must be at least 1") }
    }

    private var visualHidden = Buffer<S>(count: 0, repeating: 0)
    private var visualOut = Buffer<S>(count: 0, repeating: 0)
    private var audioHidden = Buffer<S>(count: 0, repeating: 0)
    private var audioOut = Buffer<S>(count: 0, repeating: 0)
    private var norms = Buffer<S>(count: 0, repeating: 0)
    private var output = Buffer<S>(count: 0, repeating: 0)
    private var dProduct = Buffer<S>(count: 0, repeating: 0)
    private var dTower = Buffer<S>(count: 0, repeating: 0)
    private var dHidden = Buffer<S>(count: 0, repeating: 0)
    /// The float32 gradients of up to `heldBlocks` blocks, added into the sums together (sized on first use: one block needs none).
    /// Zero between backward passes: the weight-gradient GEMMs add into them (β = 1, exactly their product on zeros),
    /// which spares OpenBLAS a pass zeroing them; the sums pass clears them as it reads them.
    private var blockGradients = Buffer<S>(count: 0, repeating: 0)
    /// The float64 sums of the blocks' gradients while more than `heldBlocks` blocks are added (sized on first use).
    private var gradientSums = Buffer<Double>(count: 0, repeating: 0)
    /// Block gradients held before they are added: 4 covers the default blocks of a batch in one pass.
    static var heldBlocks: Int { 4 }
    /// Held blocks not yet added: how many, whether after the running `sums`, and whether the result is rounded
    /// into `gradients` (else stored to `sums`). Added by `completeGradients`.
    private var pendingSum: (held: Int, continuing: Bool, sums: UnsafeMutablePointer<Double>, rounding: Bool)?
    /// Parameters completed and handed on at a time by `completeGradients` (the blocks' values, the gradient and
    /// the optimiser's three vectors of a range stay within L2).
    static var completionRange: Int { 8192 }

    public init(shape: TwoTowerShape, seed: UInt64) {
        self.shape = shape
        var slots: [LayerSlot] = []
        var offset = 0
        func add(_ name: String, _ inputs: Int, _ outputs: Int) {
            slots.append(LayerSlot(name: name, inputs: inputs, outputs: outputs, weight: offset, bias: offset + inputs * outputs))
            offset += inputs * outputs + outputs
        }
        add("visual/fc1", shape.visualInput, shape.visualHidden)
        add("visual/fc2", shape.visualHidden, shape.dim)
        if shape.hasAudio {
            add("audio/fc1", shape.audioInput, shape.audioHidden)
            add("audio/fc2", shape.audioHidden, shape.dim)
        }
        layers = slots
        parameters = Buffer(count: offset, repeating: 0)
        gradients = Buffer(count: offset, repeating: 0)
        // He-uniform before a ReLU, Glorot-uniform before the product; biases start at 0.
        var generator = SeededGenerator(seed: seed)
        for slot in slots {
            let fanIn = Double(slot.inputs), fanOut = Double(slot.outputs)
            let bound = slot.name.hasSuffix("fc1") ? (6 / fanIn).squareRoot() : (6 / (fanIn + fanOut)).squareRoot()
            for i in 0..<(slot.inputs * slot.outputs) {
                parameters[slot.weight + i] = S((generator.unit() * 2 - 1) * bound)
            }
        }
    }

    public var parameterCount: Int { parameters.count }

    /// Sizes the activation buffers for batches of up to `rows` (allocates only when growing).
    public func reserve(rows: Int) {
        guard rows > capacity else { return }
        capacity = rows
        let hidden = max(shape.visualHidden, shape.hasAudio ? shape.audioHidden : 0)
        visualHidden = Buffer(count: rows * shape.visualHidden, repeating: 0)
        visualOut = Buffer(count: rows * shape.dim, repeating: 0)
        if shape.hasAudio {
            audioHidden = Buffer(count: rows * shape.audioHidden, repeating: 0)
            audioOut = Buffer(count: rows * shape.dim, repeating: 0)
        }
        norms = Buffer(count: rows, repeating: 0)
        output = Buffer(count: rows * shape.dim, repeating: 0)
        dProduct = Buffer(count: rows * shape.dim, repeating: 0)
        dTower = Buffer(count: rows * shape.dim, repeating: 0)
        dHidden = Buffer(count: rows * hidden, repeating: 0)
    }

    /// Unit embeddings [rows, dim] of the batch (valid until the next forward).
    public var embeddings: UnsafeMutablePointer<S> { output.pointer }

    /// Forward pass of `rows` examples: `visual` [rows, Kv], `audio` [rows, Ka] (nil for one tower).
    @discardableResult
    public func forward(visual: UnsafePointer<S>, audio: UnsafePointer<S>?, rows: Int) -> UnsafeMutablePointer<S> {
        reserve(rows: rows)
        let dim = shape.dim
        linearForward(layers[0], input: visual, rows: rows, output: visualHidden.pointer, relu: true)
        linearForward(layers[1], input: visualHidden.pointer, rows: rows, output: visualOut.pointer, relu: false)
        let z = output.pointer
        if shape.hasAudio, let audio {
            linearForward(layers[2], input: audio, rows: rows, output: audioHidden.pointer, relu: true)
            linearForward(layers[3], input: audioHidden.pointer, rows: rows, output: audioOut.pointer, relu: false)
            Kernels.multiply(rows * dim, visualOut.pointer, audioOut.pointer, z)
        } else {
            z.update(from: visualOut.pointer, count: rows * dim)
        }
        let norms = norms.pointer
        Kernels.forEachChunk(rows, threads: threads, minimum: 128) { chunk in
            for r in chunk {
                let row = z + r * dim
                let norm = max(S.sqrt(Kernels.dot(dim, row, row)), S(1e-12))
                norms[r] = norm
                Kernels.scale(dim, row, 1 / norm)
            }
        }
        return z
    }

    /// Backward pass for the batch of the last `forward`: `outputGradient` is dLoss/dEmbedding [rows, dim].
    /// Overwrites `gradients` with the float64 sum of the blocks' gradients, rounded once. With `completing: false`
    /// the last addition is left to `completeGradients`, which must run before the next backward pass.
    public func backward(visual: UnsafePointer<S>, audio: UnsafePointer<S>?, rows: Int, outputGradient: UnsafePointer<S>,
                         completing: Bool = true) {
        backwardBlocks(visual: visual, audio: audio, rows: rows, outputGradient: outputGradient, sums: nil, completing: completing)
    }

    /// Adds the held blocks (the last ones of a `backward(…, completing: false)`) range by range over `threads`
    /// threads, handing each range of `gradients` to `body` as soon as it is complete, while its values are in cache
    /// (the optimiser's step reads them there instead of from memory). Ranges are disjoint, cover all parameters,
    /// and start at multiples of 8. When nothing is pending, hands on the ranges of `gradients` as they are.
    public func completeGradients(_ body: (Range<Int>) -> Void = { _ in }) {
        let size = parameterCount, pending = pendingSum, kept = blockGradients.pointer, g = gradients.pointer
        Kernels.forEachChunk(size, threads: threads, minimum: 1 << 16, alignment: 8) { part in
            var start = part.lowerBound
            while start < part.upperBound {
                let end = min(part.upperBound, start + Self.completionRange)
                if let pending {
                    Kernels.addInOrderClearing(end - start, kept + start, stride: size, count: pending.held, continuing: pending.continuing,
                                               sums: pending.sums + start, rounded: pending.rounding ? g + start : nil)
                }
                body(start..<end)
                start = end
            }
        }
        pendingSum = nil
    }

    /// Backward pass that writes the float64 sum of the blocks' gradients into `sums` [parameterCount] (for
    /// sums still to be added across processes; zeros for no rows); `gradients` is left as it was.
    public func backward(visual: UnsafePointer<S>, audio: UnsafePointer<S>?, rows: Int, outputGradient: UnsafePointer<S>,
                         sums: UnsafeMutablePointer<Double>) {
        if rows == 0 { sums.update(repeating: 0, count: parameterCount) }
        backwardBlocks(visual: visual, audio: audio, rows: rows, outputGradient: outputGradient, sums: sums, completing: true)
    }

    /// `gradients` = `sums` rounded to S.
    public func roundGradients(from sums: UnsafePointer<Double>) {
        let g = gradients.pointer
        Kernels.forEachChunk(parameterCount, threads: threads, minimum: 1 << 16, alignment: 8) { part in
            Kernels.round(part.count, sums + part.lowerBound, into: g + part.lowerBound)
        }
    }

    /// The blocks' gradients added in float64 in block order: into `sums`, or (nil) rounded into `gradients`,
    /// where a single block writes its own gradient directly; the last addition left pending unless `completing`.
    private func backwardBlocks(visual: UnsafePointer<S>, audio: UnsafePointer<S>?, rows: Int, outputGradient: UnsafePointer<S>,
                                sums: UnsafeMutablePointer<Double>?, completing: Bool) {
        // The held blocks must be cleared (added) before they are reused.
        precondition(pendingSum == nil, "TwoTowerNetwork: completeGradients must run between backward passes")
        let dim = shape.dim
        let z = output.pointer, dp = dProduct.pointer
        // Through z = p/‖p‖: dp = (dz − z (z·dz)) / ‖p‖ (row by row).
        let norms = norms.pointer
        Kernels.forEachChunk(rows, threads: threads, minimum: 128) { chunk in
            for r in chunk {
                let zr = z + r * dim, gr = outputGradient + r * dim
                Kernels.tangent(dim, gr, zr, Kernels.dot(dim, zr, gr), 1 / norms[r], dp + r * dim)
            }
        }
        let blockCount = rows == 0 ? 0 : (rows - 1) / blockRows + 1   // blockRows may be Int.max
        let direct = sums == nil && blockCount == 1
        let held = min(blockCount, Self.heldBlocks), size = parameterCount
        if !direct && blockGradients.count < held * size { blockGradients = Buffer(count: held * size, repeating: 0) }
        if sums == nil && blockCount > held && gradientSums.count != size { gradientSums = Buffer(count: size, repeating: 0) }
        let running = sums ?? gradientSums.pointer
        var holding = 0, continuing = false
        let dt = dTower.pointer
        for (index, start) in blocks(rows).enumerated() {
            let count = min(blockRows, rows - start), at = start * dim
            let target = direct ? gradients.pointer : blockGradients.pointer + holding * size
            if shape.hasAudio, let audio {
                // p = v ⊙ a: dv = dp ⊙ a, da = dp ⊙ v.
                Kernels.multiply(count * dim, dp + at, visualOut.pointer + at, dt + at)
                towerBackward(fc1: layers[2], fc2: layers[3], input: audio + start * shape.audioInput, hidden: audioHidden.pointer + start * shape.audioHidden,
                              rows: count, outputGradient: dt + at, into: target, zeroed: !direct)
                Kernels.multiply(count * dim, dp + at, audioOut.pointer + at, dt + at)
                towerBackward(fc1: layers[0], fc2: layers[1], input: visual + start * shape.visualInput,
                              hidden: visualHidden.pointer + start * shape.visualHidden, rows: count, outputGradient: dt + at, into: target, zeroed: !direct)
            } else {
                towerBackward(fc1: layers[0], fc2: layers[1], input: visual + start * shape.visualInput,
                              hidden: visualHidden.pointer + start * shape.visualHidden, rows: count, outputGradient: dp + at, into: target, zeroed: !direct)
            }
            holding += 1
            let last = index == blockCount - 1
            guard !direct, holding == held || last else { continue }
            // The held blocks added in order after the running sums: rounded into `gradients` after the last block of
            // a one-process call, and then only when `completing` (else the caller's pass adds them).
            pendingSum = (holding, continuing, running, last && sums == nil)
            if !last || completing { completeGradients() }
            holding = 0
            continuing = true
        }
    }

    /// The tower's parameter gradients into `gradients` (a parameter-vector layout; `zeroed`: its weights are all zero).
    private func towerBackward(fc1: LayerSlot, fc2: LayerSlot, input: UnsafePointer<S>, hidden: UnsafeMutablePointer<S>, rows: Int,
                               outputGradient: UnsafePointer<S>, into gradients: UnsafeMutablePointer<S>, zeroed: Bool) {
        let dh = dHidden.pointer
        linearBackward(fc2, input: hidden, rows: rows, outputGradient: outputGradient, inputGradient: dh, into: gradients, zeroed: zeroed)
        Kernels.forEachChunk(rows * fc1.outputs, threads: threads, minimum: 1 << 16, alignment: 8) { part in
            Kernels.reluMask(part.count, dh + part.lowerBound, hidden + part.lowerBound)
        }
        linearBackward(fc1, input: input, rows: rows, outputGradient: dh, inputGradient: nil, into: gradients, zeroed: zeroed)
    }

    /// The gradient blocks of `rows` rows.
    private func blocks(_ rows: Int) -> StrideTo<Int> { stride(from: 0, to: rows, by: blockRows) }

    /// y = x Wᵀ + b (then ReLU): one GEMM per gradient block.
    private func linearForward(_ layer: LayerSlot, input: UnsafePointer<S>, rows: Int, output: UnsafeMutablePointer<S>, relu: Bool) {
        let w = UnsafePointer(parameters.pointer + layer.weight), b = parameters.pointer + layer.bias
        for start in blocks(rows) {
            BLAS.gemm(transposeA: false, transposeB: true, m: min(blockRows, rows - start), n: layer.outputs, k: layer.inputs, alpha: 1,
                      a: input + start * layer.inputs, lda: layer.inputs, b: w, ldb: layer.inputs, beta: 0,
                      c: output + start * layer.outputs, ldc: layer.outputs)
        }
        Kernels.forEachChunk(rows, threads: rows * layer.outputs >= 1 << 16 ? threads : 1, minimum: 64) { chunk in
            Kernels.addBias(rows: chunk.count, columns: layer.outputs, output + chunk.lowerBound * layer.outputs, b, relu: relu)
        }
    }

    /// dW = dYᵀ X, db = Σ rows dY (into `gradients`, a parameter-vector layout; when `zeroed`, dW is added to its
    /// zeros, the same numbers without OpenBLAS's zeroing pass), dX = dY W (when asked): two GEMMs.
    private func linearBackward(_ layer: LayerSlot, input: UnsafePointer<S>, rows: Int, outputGradient: UnsafePointer<S>,
                                inputGradient: UnsafeMutablePointer<S>?, into gradients: UnsafeMutablePointer<S>, zeroed: Bool) {
        let gw = gradients + layer.weight, gb = gradients + layer.bias
        BLAS.gemm(transposeA: true, transposeB: false, m: layer.outputs, n: layer.inputs, k: rows, alpha: 1, a: outputGradient,
               lda: layer.outputs, b: input, ldb: layer.inputs, beta: zeroed ? 1 : 0, c: gw, ldc: layer.inputs)
        Kernels.columnSums(rows: rows, columns: layer.outputs, outputGradient, gb, threads: rows * layer.outputs >= 1 << 16 ? threads : 1)
        if let inputGradient {
            BLAS.gemm(transposeA: false, transposeB: false, m: rows, n: layer.inputs, k: layer.outputs, alpha: 1, a: outputGradient,
                   lda: layer.outputs, b: UnsafePointer(parameters.pointer + layer.weight), ldb: layer.inputs, beta: 0,
                   c: inputGradient, ldc: layer.inputs)
        }
    }
}
