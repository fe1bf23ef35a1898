import Contracts
import Distributed
import LinearAlgebra

/// Exact, order-independent statistics of byte-quantised rows (frames.h5 uint8, YouTube-8M
/// TFRecords), accumulated from the byte codes q themselves: the same totals whatever the
/// order of the rows, their split over ranks or the number of ranks, so the PCA fitted from
/// them is bit-identical.
///
/// The codes are centred on 128 (c = q − 128, |c| ≤ 128, exact in float32) and gathered
/// into a float32 block; one SSYRK per block gives Σ c cᵀ. Every partial sum the SSYRK forms
/// (in whatever order OpenBLAS adds) is an integer no larger in magnitude than
/// Σ_rows |c_i c_j| ≤ max(Σ c_i², Σ c_j²) (Cauchy–Schwarz), so the block is multiplied out as
/// soon as some column's Σ c² could pass 2²⁴ with the next row: every float32 sum is then exact.
/// That is at least 1024 rows (128²·1024 = 2²⁴) and, when the codes stay within about ±64
/// of 128 (rms), the whole block of `blockRows` (4096; the demo corpus: rms 42). Column sums Σ c are kept in integers. The
/// block totals go into float64 totals, exact integers below 2⁵³ (at least 5·10¹¹ rows).
///
/// The covariance of the codes, computed in float64 from these exact totals, is scaled by the
/// quantisation step squared, and the mean is the affine image of the mean code: the table
/// dequantises affinely up to the float32 rounding of its values (relative 1e-7), well inside
/// the PCA's tolerance.
public final class QuantizedCovarianceAccumulator {
    public let dimension: Int
    public let quantization: Quantization
    /// Rows held by the block at most.
    public let blockRows: Int
    /// Rows added so far on this rank.
    public private(set) var count = 0
    /// The largest Σ c² of a column that still lets one more row (c² ≤ 2¹⁴) keep every sum at most 2²⁴.
    static let squareSumLimit: Int32 = (1 << 24) - (1 << 14)

    private var block: [Float]
    private var blockFill = 0
    private var blockGram: [Float]
    /// Σ c and Σ c² of each column over the rows in the block (exact: |Σ c| ≤ Σ c² ≤ 2²⁴).
    private var blockSums: [Int32]
    private var blockSquares: [Int32]
    /// Upper triangle of Σ c cᵀ, row-major; exact integers.
    private var gram: [Double]
    /// Σ c per column.
    private var sums: [Int64]

    public init(dimension: Int, quantization: Quantization, blockRows: Int = 4096) {
        precondition(dimension > 0 && blockRows > 0)
        self.dimension = dimension
        self.quantization = quantization
        self.blockRows = blockRows
        block = [Float](repeating: 0, count: blockRows * dimension)
        blockGram = [Float](repeating: 0, count: dimension * dimension)
        blockSums = [Int32](repeating: 0, count: dimension)
        blockSquares = [Int32](repeating: 0, count: dimension)
        gram = [Double](repeating: 0, count: dimension * dimension)
        sums = [Int64](repeating: 0, count: dimension)
    }

    /// Adds `rows` rows of byte codes (row-major, `dimension` codes each).
    public func add(_ codes: UnsafePointer<UInt8>, rows: Int) {
        let d = dimension
        for r in 0..<rows {
            let largest = block.withUnsafeMutableBufferPointer { b in
                blockSums.withUnsafeMutableBufferPointer { s in
                    blockSquares.withUnsafeMutableBufferPointer { squares in
                        Self.centre(codes + r * d, count: d, into: b.baseAddress! + blockFill * d, sums: s.baseAddress!,
                                    squares: squares.baseAddress!)
                    }
                }
            }
            blockFill += 1
            count += 1
            if blockFill == blockRows || largest > Self.squareSumLimit { flush() }
        }
    }

    public func add(_ codes: [UInt8], rows: Int) {
        precondition(codes.count >= rows * dimension)
        codes.withUnsafeBufferPointer { if let base = $0.baseAddress { add(base, rows: rows) } }
    }

    /// Writes c = q − 128 of one row as floats, adds c and c² to the column sums and returns the
    /// largest column Σ c² (plain loops over the row, which the compiler vectorises).
    @inline(__always)
    private static func centre(_ codes: UnsafePointer<UInt8>, count d: Int, into target: UnsafeMutablePointer<Float>,
                               sums: UnsafeMutablePointer<Int32>, squares: UnsafeMutablePointer<Int32>) -> Int32 {
        var largest: Int32 = 0
        for j in 0..<d {
            let c = Int32(codes[j]) &- 128
            target[j] = Float(c)
            sums[j] &+= c
            let square = squares[j] &+ c &* c
            squares[j] = square
            largest = square > largest ? square : largest
        }
        return largest
    }

    /// Multiplies out the block (one SSYRK, exact) and adds it into the float64 totals.
    private func flush() {
        guard blockFill > 0 else { return }
        let d = dimension
        block.withUnsafeBufferPointer { b in
            blockGram.withUnsafeMutableBufferPointer { g in
                BLAS.syrkTransposed(n: d, k: blockFill, alpha: Float(1), a: b.baseAddress!, lda: d, beta: 0, c: g.baseAddress!, ldc: d)
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
        for j in 0..<d {
            sums[j] += Int64(blockSums[j])
            blockSums[j] = 0
            blockSquares[j] = 0
        }
        blockFill = 0
    }

    /// Exact totals of this rank: row count, Σ c per column, upper triangle of Σ c cᵀ (c = q − 128).
    public func totals() -> (count: Int64, sums: [Int64], gram: [Double]) {
        flush()
        return (Int64(count), sums, gram)
    }

    /// Mean [D], unbiased covariance [D×D] and row count of the rows added on every rank:
    /// allreduces of exact integers, so the same bits in any order.
    public func finish(over communicator: Communicator) -> (mean: [Double], covariance: [Double], count: Int) {
        var (n, sums, gram) = totals()
        if communicator.isLaunched {
            n = communicator.allreduce(n)
            communicator.allreduce(&sums)
            communicator.allreduce(&gram)
        }
        let (mean, covariance) = Self.moments(count: n, sums: sums, gram: gram, dimension: dimension, quantization: quantization)
        return (mean, covariance, Int(n))
    }

    /// Mean of the dequantised values and unbiased covariance (full symmetric, row-major)
    /// from exact totals of centred codes; zeros without rows.
    public static func moments(count: Int64, sums: [Int64], gram: [Double], dimension d: Int,
                               quantization: Quantization) -> (mean: [Double], covariance: [Double]) {
        var mean = [Double](repeating: 0, count: d)
        var covariance = [Double](repeating: 0, count: d * d)
        guard count > 0 else { return (mean, covariance) }
        let n = Double(count)
        // The table's value of code q is q·step + value(0), each rounded to float32 as the table applies it.
        let step = Double(Float((quantization.maximum - quantization.minimum) / 255))
        let origin = Double(quantization.table[0])
        let meanCode = sums.map { Double($0) / n }   // of c = q − 128
        for j in 0..<d { mean[j] = origin + step * (128 + meanCode[j]) }
        let scale = step * step / Double(max(count - 1, 1))
        for i in 0..<d {
            for j in i..<d {
                let value = (gram[i * d + j] - Double(sums[i]) * meanCode[j]) * scale
                covariance[i * d + j] = value
                covariance[j * d + i] = value
            }
        }
        return (mean, covariance)
    }
}

/// The fitting statistics of one modality: exact code statistics for byte-quantised frames
/// (bit-identical under any rank split), fixed blocks of float accumulators otherwise
/// (bit-identical under any split into whole blocks).
enum FrameStatistics {
    case float(FixedBlockCovariance)
    case quantized(QuantizedCovarianceAccumulator)

    init(dimension: Int, quantization: Quantization?, blockRows: Int, isFirstRank: Bool) {
        if let quantization {
            self = .quantized(QuantizedCovarianceAccumulator(dimension: dimension, quantization: quantization, blockRows: blockRows))
        } else {
            self = .float(FixedBlockCovariance(dimension: dimension, blockRows: blockRows, isFirstRank: isFirstRank))
        }
    }

    var dimension: Int {
        switch self {
        case .float(let accumulator): return accumulator.dimension
        case .quantized(let accumulator): return accumulator.dimension
        }
    }

    /// The next rows start a fixed statistics block (code statistics are exact: no blocks needed).
    func startBlock() {
        if case .float(let accumulator) = self { accumulator.startBlock() }
    }

    /// Adds `rows` frames: their codes when quantised (a source that reports a quantisation
    /// hands the codes of every video), else their values.
    func add(values: [Float], codes: [UInt8]?, rows: Int) {
        switch self {
        case .float(let accumulator): accumulator.add(values, rows: rows)
        case .quantized(let accumulator):
            guard let codes else { preconditionFailure("a source with a quantisation gave a video without its byte codes") }
            accumulator.add(codes, rows: rows)
        }
    }

    func finish(over communicator: Communicator) -> (mean: [Double], covariance: [Double], count: Int) {
        switch self {
        case .float(let accumulator): return accumulator.finish(over: communicator)
        case .quantized(let accumulator): return accumulator.finish(over: communicator)
        }
    }
}
