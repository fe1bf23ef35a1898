import COpenBLAS
import GCMLShim
import Support

/// Row-major BLAS-3/2 wrappers over OpenBLAS. The rest of gcml multiplies
/// matrices only through these (no module outside LinearAlgebra calls cblas).
public enum BLAS {
    /// Threads OpenBLAS uses now (a process-wide setting of the library).
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Runs `body` with OpenBLAS on `threads` threads (nil: leave the setting), then restores the
    /// previous count. Callers pass their thread count down explicitly; this is the one place
    /// that touches OpenBLAS's process-wide setting. Don't nest own threads around a multithreaded call.
    public static func withThreads<R>(_ threads: Int?, _ body: () throws -> R) rethrows -> R {
        guard let threads else { return try body() }
        let saved = openblas_get_num_threads()
        openblas_set_num_threads(Int32(max(1, threads)))
        defer { openblas_set_num_threads(saved) }
        return try body()
    }

    /// The kernel family OpenBLAS runs (e.g. "Haswell", "SkylakeX"; OPENBLAS_CORETYPE chooses it),
    /// printed with benchmark numbers since it alone can change SGEMM speed twofold.
    public static var kernelName: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// C[m,n] = alpha · op(A) · op(B) + beta · C, row-major; op = transpose when asked.
    /// lda/ldb/ldc are row strides of the matrices as stored.
    @inline(__always)
    public static func gemm<S: BLASScalar>(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                                           alpha: S = 1, a: UnsafePointer<S>, lda: Int, b: UnsafePointer<S>, ldb: Int,
                                           beta: S = 0, c: UnsafeMutablePointer<S>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        S.routines.gemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Upper triangle of C[n,n] = alpha · Aᵀ·A + beta · C for A[k,n] row-major (a Gram/covariance update).
    public static func syrkTransposed<S: BLASScalar>(n: Int, k: Int, alpha: S = 1, a: UnsafePointer<S>, lda: Int,
                                                     beta: S = 1, c: UnsafeMutablePointer<S>, ldc: Int) {
        guard n > 0, k > 0 else { return }
        S.routines.syrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(n), Int32(k), alpha, a, Int32(lda), beta, c, Int32(ldc))
    }

    /// y[m] = alpha · op(A) · x + beta · y, A[m,n] row-major.
    public static func gemv<S: BLASScalar>(transpose: Bool = false, m: Int, n: Int, alpha: S = 1, a: UnsafePointer<S>, lda: Int,
                                           x: UnsafePointer<S>, beta: S = 0, y: UnsafeMutablePointer<S>) {
        guard m > 0, n > 0 else { return }
        S.routines.gemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }
}

/// The element types BLAS computes in: Float (the s-routines) and Double (the d-routines).
/// Numeric code generic over it (Matrix, the network) calls `BLAS` once for both precisions.
public protocol BLASScalar: BinaryFloatingPoint {
    static var routines: BLASRoutines<Self> { get }
}

/// The cblas entry points of one precision.
public struct BLASRoutines<S> {
    let gemm: (CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, Int32, Int32, Int32, S, UnsafePointer<S>?, Int32,
               UnsafePointer<S>?, Int32, S, UnsafeMutablePointer<S>?, Int32) -> Void
    let syrk: (CBLAS_ORDER, CBLAS_UPLO, CBLAS_TRANSPOSE, Int32, Int32, S, UnsafePointer<S>?, Int32, S, UnsafeMutablePointer<S>?, Int32) -> Void
    let gemv: (CBLAS_ORDER, CBLAS_TRANSPOSE, Int32, Int32, S, UnsafePointer<S>?, Int32, UnsafePointer<S>?, Int32, S,
               UnsafeMutablePointer<S>?, Int32) -> Void
}

extension Float: BLASScalar {
    public static let routines = BLASRoutines<Float>(gemm: cblas_sgemm, syrk: cblas_ssyrk, gemv: cblas_sgemv)
}

extension Double: BLASScalar {
    public static let routines = BLASRoutines<Double>(gemm: cblas_dgemm, syrk: cblas_dsyrk, gemv: cblas_dgemv)
}
