import Foundation
import Distributed
import Embedding
import Support
import XCTest

/// The network's gradient blocks: a batch runs as fixed blocks of rows whose gradients are added in
/// float64, so the numbers do not depend on how the blocks are split over processes (ranks).
final class GradientBlockTests: XCTestCase {
    let shape = TwoTowerShape(visualInput: 40, visualHidden: 48, audioInput: 12, audioHidden: 20, dim: 16)
    let rows = 45, blockRows = 12   // blocks of 12, 12, 12 and 9 rows

    struct Batch {
        var visual: [Float], audio: [Float], upstream: [Float]
    }

    func batch() -> Batch {
        var generator = SeededGenerator(seed: 31)
        func random(_ count: Int) -> [Float] { (0..<count).map { _ in Float(generator.normal()) } }
        return Batch(visual: random(rows * shape.visualInput), audio: random(rows * shape.audioInput), upstream: random(rows * shape.dim))
    }

    /// A network with non-zero biases, the same for every call.
    func network(blockRows: Int = .max) -> TwoTowerNetwork<Float> {
        let network = TwoTowerNetwork<Float>(shape: shape, seed: 8)
        for i in 0..<network.parameterCount { network.parameters[i] += Float(i % 11) * 0.01 - 0.05 }
        network.blockRows = blockRows
        return network
    }

    /// Embeddings and the float64 block-gradient sums of rows `range` of the batch, run by a network of its own.
    func run(_ batch: Batch, rows range: Range<Int>) -> (z: [Float], sums: [Double]) {
        let network = network(blockRows: blockRows), dim = shape.dim
        var sums = [Double](repeating: 0, count: network.parameterCount)
        let visual = Array(batch.visual[(range.lowerBound * shape.visualInput)..<(range.upperBound * shape.visualInput)])
        let audio = Array(batch.audio[(range.lowerBound * shape.audioInput)..<(range.upperBound * shape.audioInput)])
        let upstream = Array(batch.upstream[(range.lowerBound * dim)..<(range.upperBound * dim)])
        let z = Array(UnsafeBufferPointer(start: network.forward(visual: visual, audio: audio, rows: range.count), count: range.count * dim))
        sums.withUnsafeMutableBufferPointer {
            network.backward(visual: visual, audio: audio, rows: range.count, outputGradient: upstream, sums: $0.baseAddress!)
        }
        return (z, sums)
    }

    /// The blocked gradient is each block's own float32 gradient (the block run alone, in one GEMM),
    /// added up in float64 by a plain loop and rounded once: bit for bit. Blocks of 12 rows give 4 blocks
    /// (added in one pass); blocks of 5 give 9, more than the network holds, so they are added in groups.
    func testBlockedGradientIsTheFloat64SumOfTheBlocksRunAlone() {
        for blockRows in [12, 5] {
            XCTAssertEqual((rows + blockRows - 1) / blockRows > 4, blockRows == 5, "the cases straddle the 4 held blocks")
            let batch = batch()
            let blocked = network(blockRows: blockRows)
            let z = Array(UnsafeBufferPointer(start: blocked.forward(visual: batch.visual, audio: batch.audio, rows: rows), count: rows * shape.dim))
            blocked.backward(visual: batch.visual, audio: batch.audio, rows: rows, outputGradient: batch.upstream)

            var sums = [Double](repeating: 0, count: blocked.parameterCount)
            var expectedZ: [Float] = []
            for start in stride(from: 0, to: rows, by: blockRows) {
                let end = min(rows, start + blockRows), alone = network()
                let visual = Array(batch.visual[(start * shape.visualInput)..<(end * shape.visualInput)])
                let audio = Array(batch.audio[(start * shape.audioInput)..<(end * shape.audioInput)])
                let upstream = Array(batch.upstream[(start * shape.dim)..<(end * shape.dim)])
                expectedZ += UnsafeBufferPointer(start: alone.forward(visual: visual, audio: audio, rows: end - start), count: (end - start) * shape.dim)
                alone.backward(visual: visual, audio: audio, rows: end - start, outputGradient: upstream)
                for i in 0..<alone.parameterCount { sums[i] += Double(alone.gradients[i]) }
            }
            XCTAssertEqual(z, expectedZ, "blocks of \(blockRows): a row's embedding is the one of its block run alone")
            XCTAssertEqual(blocked.gradients.array, sums.map { Float($0) }, "blocks of \(blockRows)")
            XCTAssertGreaterThan(sums.map(abs).max() ?? 0, 1e-3, "not a trivially zero gradient")

            // The float64 sums themselves (the form added over ranks), before rounding.
            let again = network(blockRows: blockRows)
            var unrounded = [Double](repeating: .nan, count: again.parameterCount)
            again.forward(visual: batch.visual, audio: batch.audio, rows: rows)
            unrounded.withUnsafeMutableBufferPointer {
                again.backward(visual: batch.visual, audio: batch.audio, rows: rows, outputGradient: batch.upstream, sums: $0.baseAddress!)
            }
            XCTAssertEqual(unrounded, sums, "blocks of \(blockRows): float64 sums")

            // The last addition left to completeGradients (as the trainer's Adam pass does): the same gradient, handed
            // on in disjoint ranges that cover every parameter; the next backward pass then starts from cleared blocks.
            let deferred = network(blockRows: blockRows)
            deferred.threads = 2
            for pass in 0..<2 {
                deferred.forward(visual: batch.visual, audio: batch.audio, rows: rows)
                deferred.backward(visual: batch.visual, audio: batch.audio, rows: rows, outputGradient: batch.upstream, completing: false)
                let lock = NSLock()
                var seen = [Int](repeating: 0, count: deferred.parameterCount)
                deferred.completeGradients { range in
                    lock.lock()
                    for i in range { seen[i] += 1 }
                    lock.unlock()
                }
                XCTAssertEqual(Set(seen), [1], "blocks of \(blockRows), pass \(pass): every parameter handed on once")
                XCTAssertEqual(deferred.gradients.array, sums.map { Float($0) }, "blocks of \(blockRows), pass \(pass): completed gradient")
            }
        }
    }

    /// Against the gradient computed in float64 (the Double network in one GEMM, itself checked against
    /// finite differences in GradientTests): the blocks change float32 rounding only.
    func testBlockedGradientMatchesTheFloat64Gradient() {
        let batch = batch()
        let blocked = network(blockRows: blockRows)
        blocked.forward(visual: batch.visual, audio: batch.audio, rows: rows)
        blocked.backward(visual: batch.visual, audio: batch.audio, rows: rows, outputGradient: batch.upstream)
        let reference = TwoTowerNetwork<Double>(shape: shape, seed: 8)
        let float = network()
        for i in 0..<reference.parameterCount { reference.parameters[i] = Double(float.parameters[i]) }
        let visual = batch.visual.map(Double.init), audio = batch.audio.map(Double.init), upstream = batch.upstream.map(Double.init)
        reference.forward(visual: visual, audio: audio, rows: rows)
        reference.backward(visual: visual, audio: audio, rows: rows, outputGradient: upstream)
        let expected = reference.gradients.array, largest = expected.map(abs).max() ?? 0
        XCTAssertGreaterThan(largest, 1e-3)
        var worst = 0.0
        for (a, b) in zip(blocked.gradients.array, expected) { worst = max(worst, abs(Double(a) - b) / largest) }
        XCTAssertLessThan(worst, 1e-5, "largest difference relative to the largest gradient")
    }

    /// The batch's blocks split over 1, 2 and 3 simulated ranks as train-embed splits them (contiguous
    /// ranges of whole blocks), each part run by its own replica, the parts' float64 sums added in either
    /// order: identical embeddings and, after one rounding, identical gradients, equal to one call's.
    func testGradientIsTheSameForOneTwoAndThreePartitions() {
        let batch = batch()
        let whole = network(blockRows: blockRows)
        let z = Array(UnsafeBufferPointer(start: whole.forward(visual: batch.visual, audio: batch.audio, rows: rows), count: rows * shape.dim))
        whole.backward(visual: batch.visual, audio: batch.audio, rows: rows, outputGradient: batch.upstream)
        let expected = whole.gradients.array
        let blocks = (rows + blockRows - 1) / blockRows
        for parts in 1...3 {
            let results = (0..<parts).map { part -> (z: [Float], sums: [Double]) in
                let owned = Partition.range(blocks, part: part, of: parts)
                return run(batch, rows: (owned.lowerBound * blockRows)..<min(rows, owned.upperBound * blockRows))
            }
            XCTAssertEqual(results.flatMap(\.z), z, "\(parts) parts: embeddings")
            for order in [Array(0..<parts), Array((0..<parts).reversed())] {
                var total = [Double](repeating: 0, count: expected.count)
                for part in order { for i in total.indices { total[i] += results[part].sums[i] } }
                XCTAssertEqual(total.map { Float($0) }, expected, "\(parts) parts added in order \(order): gradients")
            }
        }
    }
}
