import GCMLShim
import XCTest

/// The rank-counting kernels of GCMLShim (rank_count.c), each one this CPU runs, against a plain count
/// (added to the running counts they are given):
/// rows of every length around the vector widths, scores with many exact ties with the thresholds,
/// ±infinity and NaN, and threshold counts around the eight-per-pass grouping.
final class RankCountTests: XCTestCase {
    func testEveryKernelCountsLikeAPlainLoop() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        // Few distinct values, so scores equal thresholds often; the specials now and then.
        let specials: [Float] = [.infinity, -.infinity, .nan, 0, -0.0]
        func value() -> Float { next(10) == 0 ? specials[next(specials.count)] : Float(next(17) - 8) / 4 }
        let best = Int(gcml_count_at_least_best_kernel())
        XCTAssertGreaterThanOrEqual(best, GCML_COUNT_PORTABLE)
        for rowLength in [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 1027] {
            for thresholdCount in [0, 1, 2, 7, 8, 9, 16, 17, 40, 64, 65] {
                let row = (0..<rowLength).map { _ in value() }
                let thresholds = (0..<thresholdCount).map { _ in value() }
                let expected = thresholds.map { t in row.filter { $0 >= t }.count }
                for kernel in 0...best {
                    var counts = [Int64](repeating: 7, count: thresholdCount)  // the kernels add to the running counts
                    row.withUnsafeBufferPointer { r in
                        thresholds.withUnsafeBufferPointer { t in
                            counts.withUnsafeMutableBufferPointer { c in
                                gcml_count_at_least(Int32(kernel), t.baseAddress, thresholdCount, r.baseAddress, rowLength, c.baseAddress)
                            }
                        }
                    }
                    XCTAssertEqual(counts.map { Int($0) - 7 }, expected, "kernel \(kernel), \(rowLength) scores, \(thresholdCount) thresholds")
                }
            }
        }
    }
}
