import LinearAlgebra

/// Streaming mean and covariance of rows of width `dimension`.
///
/// Rows are gathered into blocks of `blockRows`; each block is centred by a shift
/// (the mean of the first block, a provisional mean that removes the large common
/// offset before anything is squared), multiplied out with one float32 SSYRK
/// (BLAS-3, the whole cost), and the block's Gram matrix and column sums are added
/// into float64 totals. So rounding is float32 only within one block of rows and
/// float64 across blocks; memory is two D×D matrices and one block, whatever the rows.
public final class CovarianceAccumulator {
    public let dimension: Int
    public let blockRows: Int
    /// Rows added so far.
    public private(set) var count = 0

    private var shift: [Float]
    private var hasShift = false
    private var block: [Float]
    private var blockFill = 0
    private var blockGram: [Float]
    private var ones: [Float]
    private var blockSums: [Float]
    /// Upper triangle of Σ (x − shift)(x − shift)ᵀ, row-major.
    private var gram: [Double]
    /// Σ (x − shift).
    private var sums: [Double]

    public init(dimension: Int, blockRows: Int = 4096) {
        precondition(dimension > 0 && blockRows > 0)
        self.dimension = dimension
        self.blockRows = blockRows
        shift = [Float](repeating: 0, count: dimension)
        block = [Float](repeating: 0, count: blockRows * dimension)
        blockGram = [Float](repeating: 0, count: dimension * dimension)
        ones = [Float](repeating: 1, count: blockRows)
        blockSums = [Float](repeating: 0, count: dimension)
        gram = [Double](repeating: 0, count: dimension * dimension)
        sums = [Double](repeating: 0, count: dimension)
    }

    /// Adds `rows` rows (row-major, `dimension` values each).
    public func add(_ values: UnsafePointer<Float>, rows: Int) {
        let d = dimension
        var row = 0
        while row < rows {
            let take = min(rows - row, blockRows - blockFill)
            block.withUnsafeMutableBufferPointer { b in
                let target = b.baseAddress! + blockFill * d
                let source = values + row * d
                if hasShift {
                    shift.withUnsafeBufferPointer { s in
                        for r in 0..<take {
                            let t = target + r * d, x = source + r * d
                            for j in 0..<d { t[j] = x[j] - s[j] }
                        }
                    }
                } else {
                    target.update(from: source, count: take * d)
                }
            }
            blockFill += take
            row += take
            count += take
            if blockFill == blockRows { flush() }
        }
    }

    public func add(_ values: [Float], rows: Int) {
        values.withUnsafeBufferPointer { add($0.baseAddress!, rows: rows) }
    }

    /// Multiplies out the rows gathered so far (the first time, after fixing the shift).
    private func flush() {
        guard blockFill > 0 else { return }
        let d = dimension, n = blockFill
        block.withUnsafeMutableBufferPointer { b in
            if !hasShift {
                // Provisional mean: the mean of the first block, subtracted from it and every later row.
                var mean = [Double](repeating: 0, count: d)
                for r in 0..<n { for j in 0..<d { mean[j] += Double(b[r * d + j]) } }
                for j in 0..<d { shift[j] = Float(mean[j] / Double(n)) }
                for r in 0..<n { for j in 0..<d { b[r * d + j] -= shift[j] } }
                hasShift = true
            }
            blockGram.withUnsafeMutableBufferPointer { g in
                BLAS.syrkTransposed(n: d, k: n, alpha: Float(1), a: b.baseAddress!, lda: d, beta: 0, c: g.baseAddress!, ldc: d)
            }
            ones.withUnsafeBufferPointer { o in
                blockSums.withUnsafeMutableBufferPointer { s in
                    BLAS.gemv(transpose: true, m: n, n: d, alpha: Float(1), a: b.baseAddress!, lda: d, x: o.baseAddress!, beta: 0,
                              y: s.baseAddress!)
                }
            }
        }
        blockGram.withUnsafeBufferPointer { g in
            gram.withUnsafeMutableBufferPointer { total in
                for i in 0..<d {
                    let base = i * d
                    for j in i..<d { total[base + j] += Double(g[base + j]) }
                }
            }
        }
        for j in 0..<d { sums[j] += Double(blockSums[j]) }
        blockFill = 0
    }

    /// Mean [D] and covariance [D×D] (unbiased, divided by count − 1; full symmetric, row-major).
    public func finish() -> (mean: [Double], covariance: [Double]) {
        let moments = moments()
        return (moments.mean, Self.covariance(scatter: moments.scatter, count: count))
    }

    /// Count, mean [D] and scatter Σ (x − mean)(x − mean)ᵀ [D×D] of the rows added here (zeros without rows).
    func moments() -> RowMoments {
        flush()
        let d = dimension
        guard count > 0 else { return .empty(dimension: d) }
        let n = Double(count)
        let centre = sums.map { $0 / n }  // mean of the shifted rows
        var scatter = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in i..<d {
                let value = gram[i * d + j] - n * centre[i] * centre[j]
                scatter[i * d + j] = value
                scatter[j * d + i] = value
            }
        }
        let mean = (0..<d).map { Double(shift[$0]) + centre[$0] }
        return RowMoments(count: count, mean: mean, scatter: scatter)
    }

    /// Unbiased covariance from a scatter matrix (divided by count − 1, or 1 for a single row).
    static func covariance(scatter: [Double], count: Int) -> [Double] {
        let denominator = Double(max(count - 1, 1))
        return scatter.map { $0 / denominator }
    }
}
