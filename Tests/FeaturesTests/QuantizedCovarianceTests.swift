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

    func dequantized(_ codes: [UInt8]) -> [Float] { codes.map { quantization.table[Int($0)] } }

    /// Adds the rows in uneven pieces (1, 4, 7, … rows) so block boundaries fall mid-piece.
    func accumulate(_ values: [Float], width: Int) -> QuantizedCovarianceAccumulator {
        let accumulator = QuantizedCovarianceAccumulator(dimension: width, quantization: quantization)
        let n = values.count / width
        var start = 0, piece = 1
        while start < n {
            let take = min(piece, n - start)
            accumulator.add(Array(values[(start * width)..<((start + take) * width)]), rows: take)
            start += take
            piece = piece % 300 + 3
        }
        return accumulator
    }

    func testTotalsEqualBruteForceIntegerSums() {
        let width = 5
        for rows in [1, 255, 256, 257, 1000, 3 * 256 + 17] {
            let codes = randomCodes(rows: rows, width: width, seed: UInt64(rows))
            let totals = accumulate(dequantized(codes), width: width).totals()
            XCTAssertEqual(totals.count, Int64(rows))
            var histogram = [Int64](repeating: 0, count: width * 256)
            var gram = [Int64](repeating: 0, count: width * width)
            for r in 0..<rows {
                for i in 0..<width {
                    let a = Int64(codes[r * width + i])
                    histogram[i * 256 + Int(a)] += 1
                    for j in i..<width { gram[i * width + j] += a * Int64(codes[r * width + j]) }
                }
            }
            XCTAssertEqual(totals.histogram, histogram, "\(rows) rows")
            for i in 0..<width {
                for j in i..<width { XCTAssertEqual(totals.gram[i * width + j], Double(gram[i * width + j]), "\(rows) rows, (\(i), \(j))") }
            }
        }
    }

    func testMeanAndCovarianceMatchAFloat64Reference() {
        let width = 6, rows = 2000
        let values = dequantized(randomCodes(rows: rows, width: width, seed: 3))
        let (mean, covariance, count) = accumulate(values, width: width).finish(over: .serial)
        XCTAssertEqual(count, rows)
        var reference = [Double](repeating: 0, count: width)
        for r in 0..<rows { for j in 0..<width { reference[j] += Double(values[r * width + j]) } }
        reference = reference.map { $0 / Double(rows) }
        for j in 0..<width { XCTAssertEqual(mean[j], reference[j], accuracy: 1e-12) }
        for i in 0..<width {
            for j in 0..<width {
                var sum = 0.0
                for r in 0..<rows { sum += (Double(values[r * width + i]) - reference[i]) * (Double(values[r * width + j]) - reference[j]) }
                let expected = sum / Double(rows - 1)
                // The table is affine up to float32 rounding of its values.
                XCTAssertEqual(covariance[i * width + j], expected, accuracy: 1e-6 * max(abs(expected), 1e-3), "(\(i), \(j))")
            }
        }
    }

    /// Rows split over 1, 2 or 3 accumulators (as over ranks) and their totals summed give the same bits.
    func testSplittingTheRowsGivesIdenticalResults() {
        let width = 7, rows = 1500
        let values = dequantized(randomCodes(rows: rows, width: width, seed: 11))
        var results: [([Double], [Double])] = []
        for (parts, cuts) in [(1, [0, rows]), (2, [0, 777, rows]), (3, [0, 1, 600, rows])] {
            var count: Int64 = 0
            var histogram = [Int64](repeating: 0, count: width * 256)
            var gram = [Double](repeating: 0, count: width * width)
            for p in (0..<parts).reversed() {   // a different order of combining too
                let part = Array(values[(cuts[p] * width)..<(cuts[p + 1] * width)])
                let totals = accumulate(part, width: width).totals()
                count += totals.count
                for i in histogram.indices { histogram[i] += totals.histogram[i] }
                for i in gram.indices { gram[i] += totals.gram[i] }
            }
            let moments = QuantizedCovarianceAccumulator.moments(count: count, histogram: histogram, gram: gram, dimension: width,
                                                                 quantization: quantization)
            results.append((moments.mean, moments.covariance))
        }
        for result in results.dropFirst() {
            XCTAssertEqual(result.0.map(\.bitPattern), results[0].0.map(\.bitPattern))
            XCTAssertEqual(result.1.map(\.bitPattern), results[0].1.map(\.bitPattern))
        }
    }
}
