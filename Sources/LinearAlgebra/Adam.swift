import Foundation
import Support

/// Adam hyper-parameters (PyTorch's defaults) and the learning-rate schedule:
/// linear warm-up over `warmup` steps, then cosine decay to 0 at `totalSteps` when `cosine`.
public struct AdamSettings: Equatable, Sendable {
    public var learningRate: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public var warmup: Int
    public var cosine: Bool

    public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
                warmup: Int = 0, cosine: Bool = false) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.warmup = warmup
        self.cosine = cosine
    }

    /// Learning rate of 1-based `step` out of `totalSteps`.
    public func rate(step: Int, totalSteps: Int) -> Double {
        var rate = learningRate
        if warmup > 0, step <= warmup { rate *= Double(step) / Double(warmup) }
        if cosine, totalSteps > warmup, step > warmup {
            let progress = min(1, Double(step - warmup) / Double(totalSteps - warmup))
            rate *= 0.5 * (1 + cos(Double.pi * progress))
        }
        return rate
    }
}

/// Adam moments for a flat parameter vector, updated densely, or row by row for
/// the rows a sparse gradient touched (lazy Adam, as PyTorch's SparseAdam: rows not
/// touched keep their moments; bias correction uses the global step). The one Adam of
/// the project: the embedding trainer and the annotation probe both step with it.
public final class AdamState {
    public let m: Buffer<Float>
    public let v: Buffer<Float>

    public init(count: Int) {
        m = Buffer(count: count, repeating: 0)
        v = Buffer(count: count, repeating: 0)
    }

    /// Coefficients of 1-based `step`: (step size, 1/sqrt(bias correction 2)).
    @inline(__always)
    static func coefficients(_ settings: AdamSettings, step: Int, rate: Double) -> (Float, Float) {
        let c1 = 1 - pow(settings.beta1, Double(step)), c2 = 1 - pow(settings.beta2, Double(step))
        return (Float(rate / c1), Float(1 / c2.squareRoot()))
    }

    /// p −= lr · m̂ / (√v̂ + ε) for `count` values starting at `offset`; gradient scaled by `scale` (clipping).
    public func update(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>, offset: Int = 0, count: Int,
                       settings: AdamSettings, step: Int, rate: Double, scale: Float) {
        let (stepSize, inverseC2) = Self.coefficients(settings, step: step, rate: rate)
        let b1 = Float(settings.beta1), b2 = Float(settings.beta2), eps = Float(settings.epsilon)
        let m = self.m.pointer + offset, v = self.v.pointer + offset
        // SIMD8 body (pointers may alias as far as the compiler knows, so it would not vectorise), scalar tail.
        let vb1 = SIMD8<Float>(repeating: b1), vb2 = SIMD8<Float>(repeating: b2), one = SIMD8<Float>(repeating: 1)
        var i = 0
        while i + 8 <= count {
            let g = Self.load(gradients + i) * scale
            let mi = vb1 * Self.load(m + i) + (one - vb1) * g
            let vi = vb2 * Self.load(v + i) + (one - vb2) * g * g
            Self.store(mi, m + i)
            Self.store(vi, v + i)
            Self.store(Self.load(parameters + i) - stepSize * mi / (vi.squareRoot() * inverseC2 + eps), parameters + i)
            i += 8
        }
        while i < count {
            let g = gradients[i] * scale
            let mi = b1 * m[i] + (1 - b1) * g
            let vi = b2 * v[i] + (1 - b2) * g * g
            m[i] = mi
            v[i] = vi
            parameters[i] -= stepSize * mi / (vi.squareRoot() * inverseC2 + eps)
            i += 1
        }
    }

    /// One step of the whole of `parameters` with a constant learning rate (no schedule, no clipping).
    public func update(_ parameters: inout [Float], gradients: [Float], settings: AdamSettings, step: Int) {
        precondition(parameters.count == gradients.count && parameters.count <= m.count, "AdamState: sizes differ")
        parameters.withUnsafeMutableBufferPointer { p in
            gradients.withUnsafeBufferPointer { g in
                update(parameters: p.baseAddress!, gradients: g.baseAddress!, count: p.count, settings: settings, step: step,
                       rate: settings.learningRate, scale: 1)
            }
        }
    }

    @inline(__always) private static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) private static func load(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> { load(UnsafePointer(p)) }

    @inline(__always) private static func store(_ value: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: value, as: SIMD8<Float>.self)
    }
}
