import Contracts
import LinearAlgebra
import Support

/// Fitting a PCA from a covariance and projecting frames with it (the model itself and its
/// file layout: Contracts/PCAModel.swift).
extension PCAModel {
    /// Top-`dimension` eigenvectors of `covariance` (D×D row-major, upper triangle read) via dsyevd.
    /// Sign convention: each component's entry of largest magnitude (first one on ties) is positive,
    /// so two fits of the same data give the same components.
    public static func fit(mean: [Double], covariance: [Double], dimension k: Int) throws -> PCAModel {
        let d = mean.count
        precondition(k >= 1 && k <= d)
        let eigen = try SymmetricEigen.decompose(covariance, n: d)
        var components = [Float](repeating: 0, count: k * d)
        for i in 0..<k {
            let row = eigen.vectors[(i * d)..<((i + 1) * d)]
            var best = row.startIndex
            for j in row.indices where abs(row[j]) > abs(row[best]) { best = j }
            let sign: Double = row[best] < 0 ? -1 : 1
            for j in 0..<d { components[i * d + j] = Float(sign * row[row.startIndex + j]) }
        }
        // Tiny negative eigenvalues are rounding of zero variance.
        let variance = eigen.values.prefix(k).map { max($0, 0) }
        var trace = 0.0
        for j in 0..<d { trace += covariance[j * d + j] }
        return PCAModel(mean: mean, components: components, explainedVariance: Array(variance), totalVariance: trace)
    }

    /// Scale of each output column: 1, or 1/√variance when whitening (0 for a direction without variance).
    public func outputScale(whiten: Bool) -> [Float] {
        guard whiten else { return [Float](repeating: 1, count: outputDimension) }
        let largest = explainedVariance.first ?? 0
        return explainedVariance.map { $0 > largest * 1e-12 && $0 > 0 ? Float(1 / $0.squareRoot()) : 0 }
    }

    /// Projects `rows` rows of `input` (row-major, D wide) into `output` (k wide):
    /// (x − mean) · componentsᵀ, one SGEMM; `centred` is caller-owned scratch of rows × D.
    public func project(_ input: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>,
                        scale: [Float], centred: UnsafeMutablePointer<Float>) {
        let d = inputDimension, k = outputDimension
        guard rows > 0 else { return }
        mean.withUnsafeBufferPointer { m in
            for r in 0..<rows {
                let x = input + r * d, c = centred + r * d
                for j in 0..<d { c[j] = Float(Double(x[j]) - m[j]) }
            }
        }
        components.withUnsafeBufferPointer { w in
            BLAS.gemm(transposeB: true, m: rows, n: k, k: d, alpha: Float(1), a: centred, lda: d, b: w.baseAddress!, ldb: d,
                      beta: 0, c: output, ldc: k)
        }
        if scale.contains(where: { $0 != 1 }) {
            for r in 0..<rows { for j in 0..<k { output[r * k + j] *= scale[j] } }
        }
    }

    /// Convenience: projects rows held in an array.
    public func project(_ input: [Float], rows: Int, whiten: Bool = false) -> [Float] {
        var output = [Float](repeating: 0, count: rows * outputDimension)
        var centred = [Float](repeating: 0, count: rows * inputDimension)
        let scale = outputScale(whiten: whiten)
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                centred.withUnsafeMutableBufferPointer { c in
                    project(x.baseAddress!, rows: rows, into: y.baseAddress!, scale: scale, centred: c.baseAddress!)
                }
            }
        }
        return output
    }
}
