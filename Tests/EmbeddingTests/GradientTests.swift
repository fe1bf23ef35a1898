import Embedding
import Support
import XCTest

/// Analytic gradients against central finite differences, in Double (the same generic code
/// as the Float training path).
final class GradientTests: XCTestCase {
    func randomMatrix(_ count: Int, _ generator: inout SeededGenerator, scale: Double = 1) -> [Double] {
        (0..<count).map { _ in generator.normal() * scale }
    }

    /// L = Σ w ⊙ z over the batch's unit embeddings: dL/dz = w.
    func checkNetwork(shape: TwoTowerShape) {
        var generator = SeededGenerator(seed: 11)
        let rows = 5
        let network = TwoTowerNetwork<Double>(shape: shape, seed: 3)
        for i in 0..<network.parameterCount { network.parameters[i] += generator.normal() * 0.05 }   // non-zero biases too
        let visual = randomMatrix(rows * shape.visualInput, &generator)
        let audio = shape.hasAudio ? randomMatrix(rows * shape.audioInput, &generator) : []
        let weights = randomMatrix(rows * shape.dim, &generator)
        func loss() -> Double {
            visual.withUnsafeBufferPointer { v in
                audio.withUnsafeBufferPointer { a in
                    let z = network.forward(visual: v.baseAddress!, audio: shape.hasAudio ? a.baseAddress! : nil, rows: rows)
                    return (0..<(rows * shape.dim)).reduce(0) { $0 + weights[$1] * z[$1] }
                }
            }
        }
        _ = loss()
        visual.withUnsafeBufferPointer { v in
            audio.withUnsafeBufferPointer { a in
                weights.withUnsafeBufferPointer { w in
                    network.backward(visual: v.baseAddress!, audio: shape.hasAudio ? a.baseAddress! : nil, rows: rows, outputGradient: w.baseAddress!)
                }
            }
        }
        let analytic = network.gradients.array
        let h = 1e-6
        var worst = 0.0
        for i in 0..<network.parameterCount {
            let saved = network.parameters[i]
            network.parameters[i] = saved + h
            let up = loss()
            network.parameters[i] = saved - h
            let down = loss()
            network.parameters[i] = saved
            let numeric = (up - down) / (2 * h)
            worst = max(worst, abs(numeric - analytic[i]) / max(1e-3, abs(numeric) + abs(analytic[i])))
        }
        XCTAssertLessThan(worst, 1e-5, "relative gradient error over \(network.parameterCount) parameters")
        XCTAssertGreaterThan(analytic.map(abs).max() ?? 0, 1e-3, "gradients must not be trivially zero")
    }

    /// The element-wise work of forward and backward is split over threads by rows, elements and columns: every
    /// value must be what one thread computes.
    func testNetworkSplitOverThreadsChangesNoNumber() {
        let shape = TwoTowerShape(visualInput: 24, visualHidden: 300, audioInput: 8, audioHidden: 40, dim: 16)
        var generator = SeededGenerator(seed: 21)
        let rows = 400
        let visual = (0..<(rows * shape.visualInput)).map { _ in Float(generator.normal()) }
        let audio = (0..<(rows * shape.audioInput)).map { _ in Float(generator.normal()) }
        let upstream = (0..<(rows * shape.dim)).map { _ in Float(generator.normal()) }
        func run(threads: Int) -> (z: [Float], gradients: [Float]) {
            let network = TwoTowerNetwork<Float>(shape: shape, seed: 4)
            for i in 0..<network.parameterCount { network.parameters[i] += Float(i % 13) * 0.01 }   // non-zero biases
            network.threads = threads
            let z = Array(UnsafeBufferPointer(start: network.forward(visual: visual, audio: audio, rows: rows), count: rows * shape.dim))
            network.backward(visual: visual, audio: audio, rows: rows, outputGradient: upstream)
            return (z, network.gradients.array)
        }
        let one = run(threads: 1), three = run(threads: 3)
        XCTAssertEqual(one.z, three.z)
        XCTAssertEqual(one.gradients, three.gradients)
        XCTAssertGreaterThan(one.gradients.map(abs).max() ?? 0, 0)
    }

    func testTwoTowerGradientsMatchFiniteDifferences() {
        checkNetwork(shape: TwoTowerShape(visualInput: 6, visualHidden: 5, audioInput: 4, audioHidden: 3, dim: 4))
    }

    func testSingleTowerGradientsMatchFiniteDifferences() {
        checkNetwork(shape: TwoTowerShape(visualInput: 7, visualHidden: 6, audioInput: 0, dim: 3))
    }

    func testTripletLossValueAndGradientMatchFiniteDifferences() {
        var generator = SeededGenerator(seed: 5)
        let b = 4, dim = 5
        var z = randomMatrix(3 * b * dim, &generator)
        func normalise(_ z: inout [Double]) {
            for r in 0..<(3 * b) {
                let norm = (0..<dim).reduce(0.0) { $0 + z[r * dim + $1] * z[r * dim + $1] }.squareRoot()
                for c in 0..<dim { z[r * dim + c] /= norm }
            }
        }
        normalise(&z)
        let negatives = [9, 4, 10, 1]   // re-mined rows (not the anchor's or positive's)
        let margin = 4.5   // above the largest possible 2(a·n − a·p) = 4: every triplet is active
        var gradient = [Double](repeating: 0, count: z.count)
        let result = z.withUnsafeBufferPointer { zp in
            negatives.withUnsafeBufferPointer { n in
                gradient.withUnsafeMutableBufferPointer { g in
                    TripletLoss.lossAndGradient(embeddings: zp.baseAddress!, dim: dim, tripletCount: b, negatives: n.baseAddress!, margin: margin,
                                                gradient: g.baseAddress!)
                }
            }
        }
        // Reference: the definition with squared distances.
        func distance(_ z: [Double], _ i: Int, _ j: Int) -> Double { (0..<dim).reduce(0) { $0 + pow(z[i * dim + $1] - z[j * dim + $1], 2) } }
        var expected = 0.0
        for i in 0..<b { expected += max(0, distance(z, i, b + i) - distance(z, i, negatives[i]) + margin) }
        expected /= Double(b)
        XCTAssertEqual(result.loss, expected, accuracy: 1e-12)
        XCTAssertEqual(result.active, b)
        // On unit vectors the gradient of the dot form and of the squared-distance form agree after
        // projection onto the sphere's tangent, which is what the network's normalisation applies:
        // compare projected gradients with finite differences of the distance form.
        let h = 1e-6
        for r in 0..<(3 * b) {
            var numeric = [Double](repeating: 0, count: dim)
            for c in 0..<dim {
                var up = z, down = z
                up[r * dim + c] += h
                down[r * dim + c] -= h
                func value(_ z: [Double]) -> Double {
                    var total = 0.0
                    for i in 0..<b { total += max(0, distance(z, i, b + i) - distance(z, i, negatives[i]) + margin) }
                    return total / Double(b)
                }
                numeric[c] = (value(up) - value(down)) / (2 * h)
            }
            let row = Array(z[(r * dim)..<((r + 1) * dim)])
            func project(_ g: [Double]) -> [Double] {
                let dot = (0..<dim).reduce(0.0) { $0 + g[$1] * row[$1] }
                return (0..<dim).map { g[$0] - dot * row[$0] }
            }
            let a = project(Array(gradient[(r * dim)..<((r + 1) * dim)])), n = project(numeric)
            for c in 0..<dim { XCTAssertEqual(a[c], n[c], accuracy: 1e-6, "row \(r)") }
        }
    }

    func testSoftmaxGradientsMatchFiniteDifferences() {
        var generator = SeededGenerator(seed: 9)
        let rows = 4, dim = 3, classes = 7
        let head = SoftmaxHead<Double>(classes: classes, dim: dim, seed: 2)
        for i in 0..<classes { head.bias[i] = generator.normal() * 0.3 }
        var z = randomMatrix(rows * dim, &generator)
        let labels: [Int32] = [2, 5, 2, 0]
        let candidates: [Int32] = [5, 1, 3, 6]   // class 5 is an accidental hit for row 1; 2 and 0 are not sampled
        let correction: (Int) -> Double = { Double($0) * 0.1 - 0.4 }
        var dz = [Double](repeating: 0, count: z.count)
        func loss(_ z: [Double]) -> Double {
            var scratch = [Double](repeating: 0, count: z.count)
            return z.withUnsafeBufferPointer { zp in
                labels.withUnsafeBufferPointer { l in
                    candidates.withUnsafeBufferPointer { c in
                        scratch.withUnsafeMutableBufferPointer { g in
                            head.lossAndGradient(embeddings: zp.baseAddress!, rows: rows, labels: l.baseAddress!, candidates: c.baseAddress!,
                                                 candidateCount: candidates.count, logCorrection: correction, embeddingGradient: g.baseAddress!)
                        }
                    }
                }
            }
        }
        _ = z.withUnsafeBufferPointer { zp in
            labels.withUnsafeBufferPointer { l in
                candidates.withUnsafeBufferPointer { c in
                    dz.withUnsafeMutableBufferPointer { g in
                        head.lossAndGradient(embeddings: zp.baseAddress!, rows: rows, labels: l.baseAddress!, candidates: c.baseAddress!,
                                             candidateCount: candidates.count, logCorrection: correction, embeddingGradient: g.baseAddress!)
                    }
                }
            }
        }
        let touched = (0..<head.touchedCount).map { Int(head.touched[$0]) }
        XCTAssertEqual(Set(touched), Set([5, 1, 3, 6, 2, 0]))
        let gw = head.weightGradient.array, gb = head.biasGradient.array
        let h = 1e-6
        for i in 0..<z.count {
            let saved = z[i]
            z[i] = saved + h
            let up = loss(z)
            z[i] = saved - h
            let down = loss(z)
            z[i] = saved
            XCTAssertEqual(dz[i], (up - down) / (2 * h), accuracy: 1e-7, "dz[\(i)]")
        }
        for (s, c) in touched.enumerated() {
            for d in 0..<dim {
                let saved = head.weight[c * dim + d]
                head.weight[c * dim + d] = saved + h
                let up = loss(z)
                head.weight[c * dim + d] = saved - h
                let down = loss(z)
                head.weight[c * dim + d] = saved
                XCTAssertEqual(gw[s * dim + d], (up - down) / (2 * h), accuracy: 1e-7, "class \(c) weight \(d)")
            }
            let saved = head.bias[c]
            head.bias[c] = saved + h
            let up = loss(z)
            head.bias[c] = saved - h
            let down = loss(z)
            head.bias[c] = saved
            XCTAssertEqual(gb[s], (up - down) / (2 * h), accuracy: 1e-7, "class \(c) bias")
        }
        // Classes neither sampled nor true do not influence the loss.
        let before = loss(z)
        head.weight[4 * dim] += 5
        XCTAssertEqual(loss(z), before, accuracy: 1e-15)
    }
}
