import Contracts
import Distributed
import Features
import Support
import XCTest

/// The exact statistics of byte-quantised rows against brute-force Int64 and float64 references.
final class QuantizedCovarianceTests: XCTestCase {
    let quantization = Quantization(minimum: -2, maximum: 2)

    /// Random codes: column j centred on a different code with a different spread (some clipped at 0 and 255).
    func randomCodes(rows: Int, width: Int, seed: UInt64) -> [UInt8] {
        var random = SeededGenerator(seed: seed)
        return (0..<(rows * width)).map { i in
            let j = i % width
            let value = 40.0 + 25.0 * Double(j) + random.normal() * Double(60 >> (j % 4))
            return UInt8(max(0, min(255, value.rounded())))
        }
    }

    /// Codes at the ends of the range (0, 1, 254, 255): c² near 2¹⁴, so float32 block sums pass 2²⁴
    /// after about 1024 rows and are exact only if the block is multiplied out before.
    func extremeCodes(rows: Int, width: Int, seed: UInt64) -> [UInt8] {
        var random = SeededGenerator(seed: seed)
        let ends: [UInt8] = [0, 1, 254, 255, 0, 0]
        return (0..<(rows * width)).map { _ in ends[Int(random.next() % UInt64(ends.count))] }
    }

    func dequantized(_ codes: [UInt8]) -> [Float] { codes.map { quantization.table[Int($0)] } }

    /// Adds the rows in uneven pieces (1, 4, 7, … rows) so block boundaries fall mid-piece.
    func accumulate(_ codes: [UInt8], width: Int, blockRows: Int = 4096) -> QuantizedCovarianceAccumulator {
        let accumulator = QuantizedCovarianceAccumulator(dimension: width, quantization: quantization, blockRows: blockRows)
        let n = codes.count / width
        var start = 0, piece = 1
        while start < n {
            let take = min(piece, n - start)
            accumulator.add(Array(codes[(start * width)..<((start + take) * width)]), rows: take)
            start += take
            piece = piece % 300 + 3
        }
        return accumulator
    }

    func assertTotalsAreExact(_ codes: [UInt8], width: Int, blockRows: Int, _ what: String) {
        let rows = codes.count / width
        let totals = accumulate(codes, width: width, blockRows: blockRows).totals()
        XCTAssertEqual(totals.count, Int64(rows), what)
        var sums = [Int64](repeating: 0, count: width)
        var gram = [Int64](repeating: 0, count: width * width)
        for r in 0..<rows {
            for i in 0..<width {
                let a = Int64(codes[r * width + i]) - 128
                sums[i] += a
                for j in i..<width { gram[i * width + j] += a * (Int64(codes[r * width + j]) - 128) }
            }
        }
        XCTAssertEqual(totals.sums, sums, what)
        for i in 0..<width {
            for j in i..<width { XCTAssertEqual(totals.gram[i * width + j], Double(gram[i * width + j]), "\(what), (\(i), \(j))") }
        }
    }

    func testTotalsEqualBruteForceIntegerSums() {
        let width = 5
        for rows in [1, 255, 256, 257, 1000, 3 * 256 + 17] {
            for blockRows in [1, 100, 4096] {
                assertTotalsAreExact(randomCodes(rows: rows, width: width, seed: UInt64(rows)), width: width, blockRows: blockRows,
                                     "\(rows) rows, blocks of \(blockRows)")
            }
        }
    }

    /// Codes at the ends of the range reach the float32 limit within one 4096-row block:
    /// the block is multiplied out early and the totals stay exact.
    func testExtremeCodesStayExactInLargeBlocks() {
        let width = 4
        for rows in [1023, 1024, 1025, 2500, 5000] {
            assertTotalsAreExact(extremeCodes(rows: rows, width: width, seed: UInt64(rows)), width: width, blockRows: 4096, "\(rows) extreme rows")
        }
    }

    func testMeanAndCovarianceMatchAFloat64ReferenceOfTheDequantisedValues() {
        let width = 6, rows = 2000
        let codes = randomCodes(rows: rows, width: width, seed: 3)
        let values = dequantized(codes)
        let (mean, covariance, count) = accumulate(codes, width: width).finish(over: .serial)
        XCTAssertEqual(count, rows)
        var reference = [Double](repeating: 0, count: width)
        for r in 0..<rows { for j in 0..<width { reference[j] += Double(values[r * width + j]) } }
        reference = reference.map { $0 / Double(rows) }
        // The table is affine up to the float32 rounding of its values (relative 1e-7 of its range).
        for j in 0..<width { XCTAssertEqual(mean[j], reference[j], accuracy: 4e-7) }
        for i in 0..<width {
            for j in 0..<width {
                var sum = 0.0
                for r in 0..<rows { sum += (Double(values[r * width + i]) - reference[i]) * (Double(values[r * width + j]) - reference[j]) }
                let expected = sum / Double(rows - 1)
                XCTAssertEqual(covariance[i * width + j], expected, accuracy: 1e-6 * max(abs(expected), 1e-3), "(\(i), \(j))")
            }
        }
    }

    /// Rows split over 1, 2 or 3 accumulators (as over ranks, with other block sizes) and their
    /// totals summed in another order give the same bits.
    func testSplittingTheRowsGivesIdenticalResults() {
        let width = 7, rows = 1500
        let codes = randomCodes(rows: rows, width: width, seed: 11)
        var results: [([Double], [Double])] = []
        for (parts, cuts, blockRows) in [(1, [0, rows], 4096), (2, [0, 777, rows], 64), (3, [0, 1, 600, rows], 1000)] {
            var count: Int64 = 0
            var sums = [Int64](repeating: 0, count: width)
            var gram = [Double](repeating: 0, count: width * width)
            for p in (0..<parts).reversed() {   // a different order of combining too
                let part = Array(codes[(cuts[p] * width)..<(cuts[p + 1] * width)])
                let totals = accumulate(part, width: width, blockRows: blockRows).totals()
                count += totals.count
                for i in sums.indices { sums[i] += totals.sums[i] }
                for i in gram.indices { gram[i] += totals.gram[i] }
            }
            let moments = QuantizedCovarianceAccumulator.moments(count: count, sums: sums, gram: gram, dimension: width,
                                                                 quantization: quantization)
            results.append((moments.mean, moments.covariance))
        }
        for result in results.dropFirst() {
            XCTAssertEqual(result.0.map(\.bitPattern), results[0].0.map(\.bitPattern))
            XCTAssertEqual(result.1.map(\.bitPattern), results[0].1.map(\.bitPattern))
        }
    }
}
