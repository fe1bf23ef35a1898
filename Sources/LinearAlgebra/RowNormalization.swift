/// L2 row normalisation: cosine similarity becomes an inner product. The one copy of it
/// (content kNN, evaluation vectors).
public enum RowNormalization {
    /// Scales each of the `rows` rows of `values` ([rows, columns] row-major) to unit length.
    /// Zero rows stay zero (they score 0 against everything); returns how many there were.
    @discardableResult
    public static func normalize(_ values: UnsafeMutableBufferPointer<Float>, rows: Int, columns d: Int) -> Int {
        precondition(values.count >= rows * d)
        var zeros = 0
        for r in 0..<rows {
            var sum: Float = 0
            for j in 0..<d { sum += values[r * d + j] * values[r * d + j] }
            guard sum > 0 else { zeros += 1; continue }
            let scale = 1 / sum.squareRoot()
            for j in 0..<d { values[r * d + j] *= scale }
        }
        return zeros
    }
}

extension Matrix where Scalar == Float {
    /// The matrix with unit rows (zero rows stay zero).
    public var normalizedRows: Matrix<Float> {
        var result = self
        result.values.withUnsafeMutableBufferPointer { _ = RowNormalization.normalize($0, rows: rows, columns: columns) }
        return result
    }
}
