import Artifacts
import Contracts
import Features
import Foundation
import LinearAlgebra
import Support
import XCTest

final class PCAFitTests: FeaturesTestCase {
    let scales = [9.0, 6.0, 4.0, 2.5, 1.5, 1.0, 0.6, 0.4, 0.25, 0.15]

    /// Streams the fixture's frames through the accumulator in uneven pieces.
    func streamedFit(_ rows: [Float], width: Int, k: Int, blockRows: Int) throws -> PCAModel {
        let accumulator = CovarianceAccumulator(dimension: width, blockRows: blockRows)
        var start = 0, piece = 1
        let n = rows.count / width
        while start < n {
            let take = min(piece, n - start)
            accumulator.add(Array(rows[(start * width)..<((start + take) * width)]), rows: take)
            start += take
            piece = piece % 13 + 3
        }
        let (mean, covariance) = accumulator.finish()
        return try PCAModel.fit(mean: mean, covariance: covariance, dimension: k)
    }

    func testComponentsSpanTheExactEigenspaceOfTheExplicitCovariance() throws {
        // A large common offset: the streamed float32 blocks must not lose the small variances to it.
        let fixture = FrameFixture.random(videos: 40, framesPerVideo: 5...20, visualScales: scales, offset: 1000)
        let d = scales.count, k = 4
        let model = try streamedFit(fixture.visual, width: d, k: k, blockRows: 64)
        let (mean, covariance) = Reference.meanAndCovariance(fixture.visual, width: d)
        let exact = try SymmetricEigen.decompose(covariance, n: d)

        for j in 0..<d { XCTAssertEqual(model.mean[j], mean[j], accuracy: 1e-6 * 1000) }
        let components = model.components.map(Double.init)
        XCTAssertLessThan(Reference.subspaceDistance(components, Array(exact.vectors.prefix(k * d)), k: k, d: d), 1e-4)
        for i in 0..<k {
            XCTAssertEqual(model.explainedVariance[i], exact.values[i], accuracy: 1e-4 * exact.values[0])
            if i > 0 { XCTAssertGreaterThanOrEqual(model.explainedVariance[i - 1], model.explainedVariance[i]) }
        }
        // Orthonormal rows.
        for a in 0..<k {
            for b in 0..<k {
                var dot = 0.0
                for j in 0..<d { dot += components[a * d + j] * components[b * d + j] }
                XCTAssertEqual(dot, a == b ? 1 : 0, accuracy: 1e-5)
            }
        }
        var trace = 0.0
        for j in 0..<d { trace += covariance[j * d + j] }
        XCTAssertEqual(model.totalVariance!, trace, accuracy: 1e-6 * trace)
    }

    func testFullRankFitIsAnOrthonormalBasisWithAllTheVariance() throws {
        let fixture = FrameFixture.random(videos: 30, framesPerVideo: 3...9, visualScales: scales, seed: 5)
        let d = scales.count
        let model = try streamedFit(fixture.visual, width: d, k: d, blockRows: 16)
        XCTAssertEqual(model.explainedVariance.reduce(0, +), model.totalVariance!, accuracy: 1e-6 * model.totalVariance!)
    }

    func testSignConventionMakesTheLargestEntryPositiveAndFitsRepeatable() throws {
        let fixture = FrameFixture.random(videos: 25, framesPerVideo: 4...8, visualScales: scales, seed: 9)
        let d = scales.count
        let first = try streamedFit(fixture.visual, width: d, k: 5, blockRows: 32)
        let second = try streamedFit(fixture.visual, width: d, k: 5, blockRows: 32)
        XCTAssertEqual(first, second)
        for i in 0..<5 {
            let row = first.components[(i * d)..<((i + 1) * d)]
            let largest = row.max { abs($0) < abs($1) }!
            XCTAssertGreaterThan(largest, 0)
        }
        // A different block size changes rounding only: the same axes with the same signs.
        let other = try streamedFit(fixture.visual, width: d, k: 5, blockRows: 7)
        for (a, b) in zip(first.components, other.components) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    }

    func testProjectionCentresAndRotates() throws {
        // Hand-worked: mean (1, 2), axes e2 then e1 → x ↦ (x2 − 2, x1 − 1); whitening divides by √variance.
        let model = PCAModel(mean: [1, 2], components: [0, 1, 1, 0], explainedVariance: [4, 1])
        XCTAssertEqual(model.project([3, 7, 1, 2], rows: 2), [5, 2, 0, 0])
        XCTAssertEqual(model.project([3, 7], rows: 1, whiten: true), [2.5, 2])
    }

    func testReservoirKeepsEveryFrameUntilFullThenAUniformSample() throws {
        let reservoir = FrameReservoir(capacity: 100, widths: [1], seed: 3)
        var counts = [Int](repeating: 0, count: 1000)
        // Frequency of each frame over many seeds ≈ capacity / frames.
        for seed in 0..<200 {
            let sample = FrameReservoir(capacity: 100, widths: [1], seed: UInt64(seed))
            let values = (0..<1000).map(Float.init)
            values.withUnsafeBufferPointer { v in for r in 0..<1000 { sample.offer([v.baseAddress!], row: r) } }
            for value in sample.rows[0] { counts[Int(value)] += 1 }
        }
        // Expected 20 per frame; the first and last 100 frames as often as the rest.
        let head = Double(counts.prefix(100).reduce(0, +)) / 100, tail = Double(counts.suffix(100).reduce(0, +)) / 100
        XCTAssertEqual(head, 20, accuracy: 3)
        XCTAssertEqual(tail, 20, accuracy: 3)
        let values = (0..<50).map(Float.init)
        values.withUnsafeBufferPointer { v in for r in 0..<50 { reservoir.offer([v.baseAddress!], row: r) } }
        XCTAssertEqual(reservoir.rows[0], values)
    }

    func testReservoirFitIsCloseToTheFullFit() throws {
        let fixture = FrameFixture.random(videos: 400, framesPerVideo: 10...20, visualScales: scales, seed: 11)
        let d = scales.count, k = 3
        var options = ExtractionOptions()
        options.dimension = k
        let full = try extract(fixture, options, name: "full.h5", blockFrames: 256)
        options.fitFrames = 3000
        options.seed = 4
        let sampled = try extract(fixture, options, name: "sampled.h5", blockFrames: 256)
        XCTAssertEqual(sampled.summary.fitFrames, 3000)
        XCTAssertLessThan(Reference.subspaceDistance(full.summary.visual.components.map(Double.init),
                                                     sampled.summary.visual.components.map(Double.init), k: k, d: d), 0.05)
        for i in 0..<k {
            XCTAssertEqual(sampled.summary.visual.explainedVariance[i], full.summary.visual.explainedVariance[i],
                           accuracy: 0.1 * full.summary.visual.explainedVariance[i])
        }
        // Same seed, same sample, same output; a sample as large as the corpus is the full fit.
        XCTAssertEqual(try extract(fixture, options, name: "again.h5", blockFrames: 256).visual, sampled.visual)
        options.fitFrames = fixture.frames + 10
        XCTAssertEqual(try extract(fixture, options, name: "whole.h5", blockFrames: 256).visual, full.visual)
    }
}

/// The float fitting statistics in fixed blocks of videos, against the float64 two-pass reference.
final class FixedBlockCovarianceTests: FeaturesTestCase {
    func testBlocksAddUpToTheCovarianceOfAllRows() throws {
        // A large common offset and unequal blocks (one empty): each block has its own shift, and
        // adding the blocks' moments must recover the small variances exactly as one pass would.
        let fixture = FrameFixture.random(videos: 30, framesPerVideo: 3...40, visualScales: [5, 2, 1, 0.3, 0.05], offset: 500)
        let d = 5, rows = fixture.visual.count / d
        let (mean, covariance) = Reference.meanAndCovariance(fixture.visual, width: d)
        for starts in [[], [1], [7, 8, 8, 200], Array(stride(from: 5, to: rows, by: 37))] {
            let statistics = FixedBlockCovariance(dimension: d, blockRows: 16, isFirstRank: true)
            var row = 0
            for start in starts + [rows] where start <= rows {
                statistics.add(Array(fixture.visual[(row * d)..<(start * d)]), rows: start - row)
                statistics.startBlock()
                row = start
            }
            let (m, c, count) = statistics.finish(over: .serial)
            XCTAssertEqual(count, rows)
            for j in 0..<d { XCTAssertEqual(m[j], mean[j], accuracy: 1e-7 * 500, "blocks at \(starts)") }
            for i in 0..<(d * d) { XCTAssertEqual(c[i], covariance[i], accuracy: 1e-5 * covariance[0], "blocks at \(starts)") }
        }
    }

    func testStatisticsBlocksCoverTheVideosInOrderBalancedByFrames() {
        // 24 videos of 1 frame then 1 video of 24 frames: 12 blocks of 48 frames split where the frames are.
        let offsets = (0...24).map(Int64.init) + [48]
        let blocks = FeatureExtraction.statisticsBlocks(frameOffsets: offsets, ranks: 3)
        XCTAssertEqual(blocks.count, 12)
        XCTAssertEqual(blocks.flatMap { Array($0) }, Array(0..<25))
        XCTAssertEqual(blocks.first, 0..<4, "the first 4 frames in the first block")
        XCTAssertEqual(FeatureExtraction.statisticsBlocks(frameOffsets: offsets, ranks: 16).count, 16, "one block per rank beyond 12")
    }
}
