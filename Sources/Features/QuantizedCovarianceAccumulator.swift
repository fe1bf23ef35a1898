import Contracts
import Distributed
import LinearAlgebra

/// Mean and covariance statistics of frame rows, combined over the ranks of a communicator.
public protocol FrameStatistics: AnyObject {
    var dimension: Int { get }
    /// Adds `rows` rows (row-major, `dimension` values each).
    func add(_ values: [Float], rows: Int)
    /// Mean [D], unbiased covariance [D×D] and row count of the rows added on every rank.
    func finish(over communicator: Communicator) -> (mean: [Double], covariance: [Double], count: Int)
}

extension CovarianceAccumulator: FrameStatistics {}

/// Exact, order-independent statistics of byte-quantised rows (frames.h5 uint8, YouTube-8M
/// TFRecords): the same totals whatever the order of the rows, their split over ranks or
/// the number of ranks, so the PCA fitted from them is bit-identical.
///
/// Each dequantised value is mapped back to its byte code q. Per column, a histogram of
/// the codes (Int64) gives Σq and the exact mean of the dequantised values; Σ q qᵀ comes from
/// float32 SSYRKs of blocks of at most 256 rows of codes, exact since every partial sum is
/// an integer below 255²·256 < 2²⁴, added into float64 totals, exact integers below 2⁵³
/// (about 1.4·10¹¹ rows). The covariance of the codes, computed in float64 from these exact
/// totals, is scaled by the quantisation step squared: the dequantisation is affine up to its
/// float32 rounding (relative 1e-7), well inside the PCA's tolerance.
public final class QuantizedCovarianceAccumulator: FrameStatistics {
    public let dimension: Int
    public let quantization: Quantization
    /// Rows added so far on this rank.
    public private(set) var count = 0
    /// Rows per SSYRK block: the most that keeps float32 sums of code products exact.
    public static let blockRows = 256

    private var block: [Float]
    private var blockFill = 0
    private var blockGram: [Float]
    /// Upper triangle of Σ q qᵀ, row-major; exact integers.
    private var gram: [Double]
    /// dimension × 256 code counts.
    private var histogram: [Int64]
    /// Value of code 0 and the step between codes, to find a value's code arithmetically.
    private let origin: Float
    private let inverseStep: Float

    public init(dimension: Int, quantization: Quantization) {
        precondition(dimension > 0)
        self.dimension = dimension
        self.quantization = quantization
        block = [Float](repeating: 0, count: Self.blockRows * dimension)
        blockGram = [Float](repeating: 0, count: dimension * dimension)
        gram = [Double](repeating: 0, count: dimension * dimension)
        histogram = [Int64](repeating: 0, count: dimension * 256)
        origin = quantization.table[0]
        inverseStep = 255 / (quantization.table[255] - quantization.table[0])
    }

    /// The byte code of a dequantised value. Every source that reports a quantisation
    /// dequantised through its table, so any other value is a programming error.
    @inline(__always)
    private func code(of value: Float, table: UnsafeBufferPointer<Float>) -> UInt8 {
        let nearest = Int(max(0, min(255, ((value - origin) * inverseStep).rounded())))
        precondition(table[nearest] == value, "\(value) is not a value of the quantisation table \(quantization.minimum) … \(quantization.maximum)")
        return UInt8(nearest)
    }

    public func add(_ values: [Float], rows: Int) {
        let d = dimension
        precondition(values.count >= rows * d)
        for r in 0..<rows {
            values.withUnsafeBufferPointer { v in
                block.withUnsafeMutableBufferPointer { b in
                    histogram.withUnsafeMutableBufferPointer { h in
                        quantization.table.withUnsafeBufferPointer { table in
                            let target = b.baseAddress! + blockFill * d, source = v.baseAddress! + r * d
                            for j in 0..<d {
                                let q = code(of: source[j], table: table)
                                target[j] = Float(q)
                                h[j * 256 + Int(q)] += 1
                            }
                        }
                    }
                }
            }
            blockFill += 1
            count += 1
            if blockFill == Self.blockRows { block.withUnsafeBufferPointer { flush($0.baseAddress!) } }
        }
    }

    private func flush(_ rows: UnsafePointer<Float>) {
        guard blockFill > 0 else { return }
        let d = dimension
        blockGram.withUnsafeMutableBufferPointer { g in
            BLAS.syrkTransposed(n: d, k: blockFill, alpha: Float(1), a: rows, lda: d, beta: 0, c: g.baseAddress!, ldc: d)
            gram.withUnsafeMutableBufferPointer { total in
                for i in 0..<d {
                    let base = i * d
                    for j in i..<d { total[base + j] += Double(g[base + j]) }
                }
            }
        }
        blockFill = 0
    }

    /// Exact totals of this rank: count, code histogram, upper triangle of Σ q qᵀ.
    public func totals() -> (count: Int64, histogram: [Int64], gram: [Double]) {
        block.withUnsafeBufferPointer { flush($0.baseAddress!) }
        return (Int64(count), histogram, gram)
    }

    public func finish(over communicator: Communicator) -> (mean: [Double], covariance: [Double], count: Int) {
        var (n, histogram, gram) = totals()
        if communicator.isLaunched {
            n = communicator.allreduce(n)
            communicator.allreduce(&histogram)
            communicator.allreduce(&gram)   // exact integers: the sum is the same in any order
        }
        let (mean, covariance) = Self.moments(count: n, histogram: histogram, gram: gram, dimension: dimension, quantization: quantization)
        return (mean, covariance, Int(n))
    }

    /// Mean of the dequantised values and unbiased covariance (full symmetric, row-major)
    /// from exact totals; zeros without rows.
    public static func moments(count: Int64, histogram: [Int64], gram: [Double], dimension d: Int,
                        quantization: Quantization) -> (mean: [Double], covariance: [Double]) {
        var mean = [Double](repeating: 0, count: d)
        var covariance = [Double](repeating: 0, count: d * d)
        guard count > 0 else { return (mean, covariance) }
        let n = Double(count)
        var codeSums = [Double](repeating: 0, count: d)
        for j in 0..<d {
            var sum: Int64 = 0, value = 0.0
            for c in 0..<256 {
                let k = histogram[j * 256 + c]
                sum += k * Int64(c)
                value += Double(k) * Double(quantization.table[c])
            }
            codeSums[j] = Double(sum)
            mean[j] = value / n
        }
        // The table's step, as the table applies it (float32).
        let step = Double(Float((quantization.maximum - quantization.minimum) / 255))
        let scale = step * step / Double(max(count - 1, 1))
        for i in 0..<d {
            for j in i..<d {
                let value = (gram[i * d + j] - codeSums[i] * codeSums[j] / n) * scale
                covariance[i * d + j] = value
                covariance[j * d + i] = value
            }
        }
        return (mean, covariance)
    }
}
