import Contracts
import LinearAlgebra

extension VideoVectors {
    /// Scales every row to unit length (cosine similarity becomes an inner product).
    /// Zero rows stay zero (they score 0 against everything); returns how many there were.
    @discardableResult
    public mutating func normalizeRows() -> Int {
        let (rows, dimension) = (self.rows, self.dimension)
        return values.withUnsafeMutableBufferPointer { RowNormalization.normalize($0, rows: rows, columns: dimension) }
    }
}
