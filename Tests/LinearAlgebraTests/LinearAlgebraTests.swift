import LinearAlgebra
import XCTest

final class LinearAlgebraTests: XCTestCase {
    func testGemmMatchesHandComputedProductsWithTransposes() {
        let a = Matrix<Float>(rows: 2, columns: 3, values: [1, 2, 3, 4, 5, 6])
        let b = Matrix<Float>(rows: 3, columns: 2, values: [7, 8, 9, 10, 11, 12])
        XCTAssertEqual(a.multiplied(by: b).values, [58, 64, 139, 154])
        XCTAssertEqual(a.multiplied(by: a, transposeOther: true).values, [14, 32, 32, 77])
        XCTAssertEqual(a.multiplied(by: a, transposeSelf: true).values, [17, 22, 27, 22, 29, 36, 27, 36, 45])
        let d = Matrix<Double>(rows: 2, columns: 2, values: [1, 2, 3, 4])
        XCTAssertEqual(d.multiplied(by: d).values, [7, 10, 15, 22])
    }

    func testSyrkGivesTheUpperTriangleOfTheGram() {
        let a: [Double] = [1, 2, 3, 4, 5, 6]   // 2x3
        var c = [Double](repeating: 0, count: 9)
        BLAS.syrkTransposed(n: 3, k: 2, a: a, lda: 3, beta: 0, c: &c, ldc: 3)
        XCTAssertEqual([c[0], c[1], c[2], c[4], c[5], c[8]], [17, 22, 27, 29, 36, 45])
    }

    func testEigenOfAKnownMatrix() throws {
        // [[2,1],[1,2]] has eigenvalues 3 and 1 with eigenvectors (1,1)/√2 and (1,−1)/√2.
        let result = try SymmetricEigen.decompose([2, 1, 1, 2], n: 2)
        XCTAssertEqual(result.values[0], 3, accuracy: 1e-12)
        XCTAssertEqual(result.values[1], 1, accuracy: 1e-12)
        XCTAssertEqual(abs(result.vectors[0]), 1 / 2.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(result.vectors[0] * result.vectors[1], 0.5, accuracy: 1e-12)
        XCTAssertEqual(result.vectors[2] * result.vectors[3], -0.5, accuracy: 1e-12)
    }

    func testEigenReconstructsARandomSymmetricMatrix() throws {
        let n = 12
        var a = [Double](repeating: 0, count: n * n)
        var seed: UInt64 = 99
        for i in 0..<n { for j in i..<n {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let v = Double(seed >> 11) / Double(1 << 53) - 0.5
            a[i * n + j] = v; a[j * n + i] = v
        } }
        let e = try SymmetricEigen.decompose(a, n: n)
        XCTAssertEqual(e.values, e.values.sorted(by: >))
        for i in 0..<n { for j in 0..<n {
            var sum = 0.0
            for k in 0..<n { sum += e.vectors[k * n + i] * e.values[k] * e.vectors[k * n + j] }
            XCTAssertEqual(sum, a[i * n + j], accuracy: 1e-10)
        } }
    }
}
