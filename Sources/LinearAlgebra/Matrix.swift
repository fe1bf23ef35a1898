/// A dense row-major matrix that owns its storage. Numeric code works on
/// `values` through pointers and BLAS; this type keeps shape and data together.
public struct Matrix<Scalar: BinaryFloatingPoint>: Equatable {
    public var rows: Int
    public var columns: Int
    public var values: [Scalar]

    public init(rows: Int, columns: Int, repeating value: Scalar = 0) {
        self.rows = rows
        self.columns = columns
        values = [Scalar](repeating: value, count: rows * columns)
    }

    public init(rows: Int, columns: Int, values: [Scalar]) {
        precondition(values.count == rows * columns, "Matrix: \(values.count) values for \(rows)x\(columns)")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    public subscript(row: Int, column: Int) -> Scalar {
        get { values[row * columns + column] }
        set { values[row * columns + column] = newValue }
    }

    public func row(_ index: Int) -> ArraySlice<Scalar> { values[(index * columns)..<((index + 1) * columns)] }

    public var transposed: Matrix {
        var result = Matrix(rows: columns, columns: rows)
        for r in 0..<rows { for c in 0..<columns { result.values[c * rows + r] = values[r * columns + c] } }
        return result
    }
}

extension Matrix where Scalar: BLASScalar {
    /// self · other (BLAS-3), in either precision.
    public func multiplied(by other: Matrix<Scalar>, transposeSelf: Bool = false, transposeOther: Bool = false) -> Matrix<Scalar> {
        let m = transposeSelf ? columns : rows, k = transposeSelf ? rows : columns
        let n = transposeOther ? other.rows : other.columns
        precondition(k == (transposeOther ? other.columns : other.rows), "Matrix: inner dimensions differ")
        var result = Matrix<Scalar>(rows: m, columns: n)
        values.withUnsafeBufferPointer { a in
            other.values.withUnsafeBufferPointer { b in
                result.values.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(transposeA: transposeSelf, transposeB: transposeOther, m: m, n: n, k: k, a: a.baseAddress!, lda: columns,
                              b: b.baseAddress!, ldb: other.columns, c: c.baseAddress!, ldc: n)
                }
            }
        }
        return result
    }
}
