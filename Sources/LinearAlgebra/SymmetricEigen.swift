import GCMLShim
import Support

/// Eigendecomposition of a real symmetric matrix with LAPACK's divide-and-conquer
/// `dsyevd`, returned by decreasing eigenvalue, eigenvectors as rows.
public enum SymmetricEigen {
    public struct Result {
        /// Eigenvalues, largest first.
        public var values: [Double]
        /// Row i is the unit eigenvector of `values[i]` (n values per row).
        public var vectors: [Double]
    }

    /// `matrix` is n×n row-major; only its upper triangle (row-major view) is read.
    public static func decompose(_ matrix: [Double], n: Int) throws -> Result {
        precondition(matrix.count == n * n)
        if n == 0 { return Result(values: [], vectors: []) }
        // Row-major upper triangle == column-major lower triangle: ask LAPACK for "L".
        var a = matrix
        var w = [Double](repeating: 0, count: n)
        var nn = Int32(n), lda = Int32(n), info: Int32 = 0
        var lwork: Int32 = -1, liwork: Int32 = -1
        var workQuery = [Double](repeating: 0, count: 1)
        var iworkQuery = [Int32](repeating: 0, count: 1)
        let jobz: CChar = 86 /* V */, uplo: CChar = 76 /* L */
        var jz = jobz, ul = uplo
        dsyevd_(&jz, &ul, &nn, &a, &lda, &w, &workQuery, &lwork, &iworkQuery, &liwork, &info)
        lwork = Int32(workQuery[0])
        liwork = iworkQuery[0]
        var work = [Double](repeating: 0, count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: Int(liwork))
        dsyevd_(&jz, &ul, &nn, &a, &lda, &w, &work, &lwork, &iwork, &liwork, &info)
        guard info == 0 else { throw GCMLError("dsyevd: eigendecomposition of a \(n)x\(n) matrix failed (info \(info))") }
        // Column-major eigenvectors: column j (ascending) is a[j*n ..< (j+1)*n] — already a row in row-major terms.
        var values = [Double](repeating: 0, count: n)
        var vectors = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            let j = n - 1 - i
            values[i] = w[j]
            for c in 0..<n { vectors[i * n + c] = a[j * n + c] }
        }
        return Result(values: values, vectors: vectors)
    }
}
