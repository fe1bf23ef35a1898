import LinearAlgebra
import XCTest

final class AdamTests: XCTestCase {
    /// With a constant gradient the bias-corrected moments are m̂ = g and v̂ = g², so every
    /// step moves each parameter by lr·g/(|g| + ε) ≈ lr against the gradient's sign, and a
    /// parameter with zero gradient stays where it is.
    func testConstantGradientMovesEachParameterByTheLearningRatePerStep() {
        let adam = AdamState(count: 11)
        let settings = AdamSettings(learningRate: 0.1)
        var parameters: [Float] = [1, -2, 0.5, 3, 0, 0, 1, 2, -1, 4, 7]
        let gradients: [Float] = [0.5, -4, 0, 1e-3, 2, -2, 1, 1, 1, 1, -1]   // 11: the SIMD body and the scalar tail
        let start = parameters
        for step in 1...3 {
            adam.update(&parameters, gradients: gradients, settings: settings, step: step)
            for i in parameters.indices {
                let sign: Float = gradients[i] > 0 ? 1 : gradients[i] < 0 ? -1 : 0
                XCTAssertEqual(parameters[i], start[i] - Float(step) * 0.1 * sign, accuracy: 1e-5, "parameter \(i), step \(step)")
            }
        }
    }

    /// The first step by hand with β1 = 0.5, β2 = 0.75, lr = 1, ε = 1: m = 0.5g, v = 0.25g²,
    /// m̂ = g, v̂ = g², so p −= g / (|g| + 1); a gradient scale (clipping) of 0.5 halves g.
    func testFirstStepByHandWithGradientScale() {
        let adam = AdamState(count: 2)
        let settings = AdamSettings(learningRate: 1, beta1: 0.5, beta2: 0.75, epsilon: 1)
        var parameters: [Float] = [0, 0]
        let gradients: [Float] = [6, -2]
        parameters.withUnsafeMutableBufferPointer { p in
            gradients.withUnsafeBufferPointer { g in
                adam.update(parameters: p.baseAddress!, gradients: g.baseAddress!, count: 2, settings: settings, step: 1, rate: 1, scale: 0.5)
            }
        }
        XCTAssertEqual(parameters[0], -3.0 / 4.0, accuracy: 1e-6)
        XCTAssertEqual(parameters[1], 1.0 / 2.0, accuracy: 1e-6)
        XCTAssertEqual(adam.m[0], 1.5, accuracy: 1e-6)
        XCTAssertEqual(adam.v[1], 0.25, accuracy: 1e-6)
    }
}
