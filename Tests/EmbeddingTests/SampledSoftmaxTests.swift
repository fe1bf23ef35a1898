import Embedding
import Foundation
import Support
import XCTest

final class SampledSoftmaxTests: XCTestCase {
    func loss(_ head: SoftmaxHead<Double>, z: [Double], labels: [Int32], candidates: [Int32], correction: (Int) -> Double) -> Double {
        var gradient = [Double](repeating: 0, count: z.count)
        return head.lossAndGradient(embeddings: z, rows: labels.count, labels: labels, candidates: candidates, candidateCount: candidates.count,
                                    logCorrection: correction, embeddingGradient: &gradient)
    }

    func testSampledSoftmaxOverAllClassesEqualsFullSoftmax() {
        var generator = SeededGenerator(seed: 4)
        let rows = 6, dim = 4, classes = 9
        let head = SoftmaxHead<Double>(classes: classes, dim: dim, seed: 8)
        for c in 0..<classes { head.bias[c] = generator.normal() }
        let z = (0..<(rows * dim)).map { _ in generator.normal() }
        let labels = (0..<rows).map { _ in Int32(generator.below(classes)) }
        // Brute-force full softmax cross-entropy.
        var expected = 0.0
        for r in 0..<rows {
            let logits = (0..<classes).map { c in head.bias[c] + (0..<dim).reduce(0.0) { $0 + z[r * dim + $1] * head.weight[c * dim + $1] } }
            expected += log(logits.map(exp).reduce(0, +)) - logits[Int(labels[r])]
        }
        expected /= Double(rows)
        // The sampler with K = C draws every class; the uniform log-Q correction is the same for all and cancels.
        var sampler = ClassSampler(classes: classes, count: classes, proposal: .uniform)
        var candidates = [Int32](repeating: -1, count: classes)
        sampler.sample(into: &candidates, generator: &generator)
        XCTAssertEqual(Set(candidates), Set((0..<classes).map(Int32.init)))
        XCTAssertGreaterThanOrEqual(sampler.tries, classes)
        let sampled = loss(head, z: z, labels: labels, candidates: candidates, correction: { sampler.logExpectedCount($0) })
        XCTAssertEqual(sampled, expected, accuracy: 1e-12)
    }

    func testLogQCorrectionOnAHandComputedCase() {
        // One example, dim 1, z = 1; weights give logits s = [1, 2, 0.5, -1], biases 0; true class 0.
        let head = SoftmaxHead<Double>(classes: 4, dim: 1, seed: 1)
        for (c, w) in [1.0, 2.0, 0.5, -1.0].enumerated() { head.weight[c] = w; head.bias[c] = 0 }
        // Sampled {1, 3, 0}: class 0 is an accidental hit and is dropped from the negatives.
        // Expected counts: Q(0) = 0.5, Q(1) = 0.25, Q(3) = 0.125.
        let logQ: [Int: Double] = [0: log(0.5), 1: log(0.25), 3: log(0.125)]
        let value = loss(head, z: [1], labels: [0], candidates: [1, 3, 0], correction: { logQ[$0]! })
        // Corrected logits: true 1 − ln 0.5 = 1.6931…, class 1: 2 − ln 0.25 = 3.3863…, class 3: −1 − ln 0.125 = 1.0794….
        // loss = ln(e^1.6931 + e^3.3863 + e^1.0794) − 1.6931 = ln(5.43656 + 29.55622 + 2.94304) − 1.69315 = 1.94275
        XCTAssertEqual(value, 1.94275, accuracy: 1e-5)
        XCTAssertEqual(value, log(2 * exp(1) + 4 * exp(2) + 8 * exp(-1)) - (1 + log(2)), accuracy: 1e-12)
    }

    func testExpectedCountOfUniqueSampling() {
        var sampler = ClassSampler(classes: 10, count: 3, proposal: .uniform)
        var generator = SeededGenerator(seed: 1)
        var out = [Int32](repeating: 0, count: 3)
        sampler.sample(into: &out, generator: &generator)
        XCTAssertEqual(Set(out).count, 3)
        // E[count] = 1 − (1 − q)^tries with q = 1/10.
        XCTAssertEqual(exp(sampler.logExpectedCount(4)), 1 - pow(0.9, Double(sampler.tries)), accuracy: 1e-12)
        let zipf = ClassSampler(classes: 10, count: 3, proposal: .logUniform)
        XCTAssertEqual((0..<10).reduce(0.0) { $0 + zipf.probability($1) }, 1, accuracy: 1e-12)
        XCTAssertEqual(zipf.probability(0), log(2) / log(11), accuracy: 1e-15)
    }

    /// The element-wise work between the GEMMs is split over threads by rows and touched classes; every value
    /// must be what one thread computes (rows sharing a true class add into its gradient in row order).
    func testSplittingOverThreadsChangesNoNumber() {
        var generator = SeededGenerator(seed: 12)
        let rows = 400, dim = 12, classes = 3000, k = 700
        let z = (0..<(rows * dim)).map { _ in Float(generator.normal()) }
        let labels = (0..<rows).map { _ in Int32(generator.below(40) * 73) }   // shared true classes, some also sampled
        var sampler = ClassSampler(classes: classes, count: k, proposal: .logUniform)
        var candidates = [Int32](repeating: 0, count: k)
        sampler.sample(into: &candidates, generator: &generator)
        func run(threads: Int) -> (loss: Double, dz: [Float], touched: [Int32], dw: [Float], db: [Float]) {
            let head = SoftmaxHead<Float>(classes: classes, dim: dim, seed: 5)
            for c in 0..<classes { head.bias[c] = Float(c % 7) * 0.1 }
            head.threads = threads
            var dz = [Float](repeating: 0, count: z.count)
            let loss = head.lossAndGradient(embeddings: z, rows: rows, labels: labels, candidates: candidates, candidateCount: k,
                                            logCorrection: { Float(sampler.logExpectedCount($0)) }, embeddingGradient: &dz)
            let u = head.touchedCount
            return (loss, dz, Array(head.touched.array.prefix(u)), Array(head.weightGradient.array.prefix(u * dim)),
                    Array(head.biasGradient.array.prefix(u)))
        }
        let one = run(threads: 1), three = run(threads: 3)
        XCTAssertTrue(one.loss.isFinite && one.touched.count > k)
        XCTAssertEqual(one.loss, three.loss)
        XCTAssertEqual(one.dz, three.dz)
        XCTAssertEqual(one.touched, three.touched)
        XCTAssertEqual(one.dw, three.dw)
        XCTAssertEqual(one.db, three.db)
    }

    func testLogUniformSamplerFollowsItsProposal() {
        var sampler = ClassSampler(classes: 20, count: 1, proposal: .logUniform)
        var generator = SeededGenerator(seed: 3)
        var counts = [Int](repeating: 0, count: 20)
        var out: [Int32] = [0]
        let draws = 40_000
        for _ in 0..<draws {
            sampler.sample(into: &out, generator: &generator)
            counts[Int(out[0])] += 1
        }
        for c in [0, 1, 5, 19] {
            let p = sampler.probability(c)
            let sigma = (p * (1 - p) / Double(draws)).squareRoot()
            XCTAssertEqual(Double(counts[c]) / Double(draws), p, accuracy: 5 * sigma, "class \(c)")
        }
    }
}

final class VectorExpTests: XCTestCase {
    func testVectorExpMatchesLibmWithinAFewUlps() {
        var worst = 0.0
        var d: Float = 0
        while d <= 87 {
            let lanes = SIMD8<Float>((0..<8).map { d + Float($0) * 0.0013 })
            let e = Float.expNegative(lanes)
            for i in 0..<8 {
                let reference = exp(-Double(lanes[i]))
                if lanes[i] <= 87 { worst = max(worst, abs(Double(e[i]) - reference) / reference) }
            }
            d += 0.0117
        }
        XCTAssertLessThan(worst, 4e-7)
        XCTAssertEqual(Float.expNegative(SIMD8(repeating: 0))[0], 1)
        // Beyond the clamp the value is tiny and finite (never NaN or negative).
        let far = Float.expNegative(SIMD8(repeating: 1000))
        XCTAssertTrue(far[0] >= 0 && far[0] < 2e-38)
    }
}

final class VectorMaximumTests: XCTestCase {
    /// Lane-wise maximum by bit operations against Swift.max on hand cases (signs, equal values, zeros of
    /// both signs, subnormals, infinities) and random pairs, in Float and Double.
    func testLaneWiseMaximumEqualsSwiftMax() {
        let special: [Float] = [0, -0.0, 1, -1, 1, 3.5, -3.5, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .greatestFiniteMagnitude,
                                -.greatestFiniteMagnitude, .infinity, -.infinity, 2e-38, -2e-38, 7]
        var generator = SeededGenerator(seed: 5)
        var pairs: [(Float, Float)] = []
        for a in special { for b in special where !(a.isInfinite && b.isInfinite && a == b) { pairs.append((a, b)) } }
        for _ in 0..<4000 { pairs.append((Float(generator.normal() * 10), Float(generator.normal() * 10))) }
        for start in stride(from: 0, to: pairs.count - 7, by: 8) {
            let a = SIMD8<Float>((0..<8).map { pairs[start + $0].0 }), b = SIMD8<Float>((0..<8).map { pairs[start + $0].1 })
            let m = Float.maximum(a, b), wide = Double.maximum(SIMD8<Double>(a), SIMD8<Double>(b))
            for i in 0..<8 {
                XCTAssertEqual(m[i], max(a[i], b[i]), "max(\(a[i]), \(b[i]))")
                XCTAssertEqual(wide[i], Double(max(a[i], b[i])), "Double max(\(a[i]), \(b[i]))")
            }
        }
    }
}
