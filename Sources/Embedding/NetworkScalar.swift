import Foundation
import LinearAlgebra

/// The element types the network runs in: Float for training, Double for the
/// gradient checks of the tests (same code, specialised by the compiler).
/// Matrix products go through `BLAS` (`BLASScalar`); these are the element-wise kernels.
public protocol NetworkScalar: BLASScalar, SIMDScalar, Sendable {
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func sqrt(_ x: Self) -> Self
    /// max(v, 0) lane-wise, by bit operations (vectorises; a lane-wise select does not).
    static func relu(_ v: SIMD8<Self>) -> SIMD8<Self>
    /// g where a > 0, else 0, for a ≥ 0 (ReLU outputs).
    static func keep(_ g: SIMD8<Self>, wherePositive a: SIMD8<Self>) -> SIMD8<Self>
    /// The larger of a and b lane-wise, for values that are not NaN (by bit operations: vectorises; a lane-wise select does not).
    static func maximum(_ a: SIMD8<Self>, _ b: SIMD8<Self>) -> SIMD8<Self>
    /// exp(−d) lane-wise for d ≥ 0 (softmax terms after subtracting the maximum).
    static func expNegative(_ d: SIMD8<Self>) -> SIMD8<Self>
    /// The lanes in float64 (exact).
    static func widen(_ v: SIMD8<Self>) -> SIMD8<Double>
    /// Float64 lanes rounded to the nearest value of this type.
    static func narrow(_ v: SIMD8<Double>) -> SIMD8<Self>
}

extension Float: NetworkScalar {
    @inline(__always) public static func widen(_ v: SIMD8<Float>) -> SIMD8<Double> { SIMD8<Double>(v) }
    @inline(__always) public static func narrow(_ v: SIMD8<Double>) -> SIMD8<Float> { SIMD8<Float>(v) }
    @inline(__always) public static func exp(_ x: Float) -> Float { Foundation.exp(x) }
    @inline(__always) public static func log(_ x: Float) -> Float { Foundation.log(x) }
    @inline(__always) public static func sqrt(_ x: Float) -> Float { x.squareRoot() }
    @inline(__always) public static func relu(_ v: SIMD8<Float>) -> SIMD8<Float> {
        let bits = unsafeBitCast(v, to: SIMD8<Int32>.self)
        return unsafeBitCast(bits & ~(bits &>> 31), to: SIMD8<Float>.self)   // negative (sign set) → 0
    }
    @inline(__always) public static func keep(_ g: SIMD8<Float>, wherePositive a: SIMD8<Float>) -> SIMD8<Float> {
        let bits = unsafeBitCast(a, to: SIMD8<Int32>.self)
        let mask = (0 &- bits) &>> 31   // all ones when a > 0 (positive bits), 0 when a = +0
        return unsafeBitCast(unsafeBitCast(g, to: SIMD8<Int32>.self) & mask, to: SIMD8<Float>.self)
    }
    @inline(__always) public static func maximum(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        // b − a has its sign bit set exactly when a > b (the difference of two distinct floats is never zero): then take a.
        let takeA = unsafeBitCast(b - a, to: SIMD8<Int32>.self) &>> 31
        return unsafeBitCast((unsafeBitCast(a, to: SIMD8<Int32>.self) & takeA) | (unsafeBitCast(b, to: SIMD8<Int32>.self) & ~takeA), to: SIMD8<Float>.self)
    }
    /// Cephes' expf on 8 lanes (≈1 ulp): e^(−d) = 2^n · e^r, n = round(−d·log₂e), |r| ≤ ln2/2, degree-7
    /// polynomial for e^r. d > 87 is clamped to 87 (e^−87 ≈ 1.6e−38, nothing next to the maximum's 1).
    @inline(__always) public static func expNegative(_ d: SIMD8<Float>) -> SIMD8<Float> {
        let limit: Float = 87
        let bits = unsafeBitCast(d, to: SIMD8<Int32>.self)
        let over = (SIMD8<Int32>(repeating: Int32(bitPattern: limit.bitPattern)) &- bits) &>> 31   // d > 87 (d ≥ +0: bits order as values)
        let clamped = unsafeBitCast((bits & ~over) | (SIMD8<Int32>(repeating: Int32(bitPattern: limit.bitPattern)) & over), to: SIMD8<Float>.self)
        let x = -clamped
        let magic = SIMD8<Float>(repeating: 12_582_912)   // 1.5·2²³: adding it rounds to an integer
        let shifted = x * 1.442_695_04 + magic
        let fx = shifted - magic
        let n = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- Int32(bitPattern: magic[0].bitPattern)
        let r = (x - fx * 0.693_359_375) - fx * -2.121_944_4e-4
        var y = SIMD8<Float>(repeating: 1.987_569_15e-4)
        y = y * r + 1.398_199_95e-3
        y = y * r + 8.333_451_9e-3
        y = y * r + 4.166_579_59e-2
        y = y * r + 1.666_666_55e-1
        y = y * r + 5.000_000_12e-1
        y = y * (r * r) + r + 1
        let scale = unsafeBitCast((n &+ 127) &<< 23, to: SIMD8<Float>.self)
        return y * scale
    }
}

extension Double: NetworkScalar {
    @inline(__always) public static func widen(_ v: SIMD8<Double>) -> SIMD8<Double> { v }
    @inline(__always) public static func narrow(_ v: SIMD8<Double>) -> SIMD8<Double> { v }
    @inline(__always) public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) public static func log(_ x: Double) -> Double { Foundation.log(x) }
    @inline(__always) public static func sqrt(_ x: Double) -> Double { x.squareRoot() }
    @inline(__always) public static func relu(_ v: SIMD8<Double>) -> SIMD8<Double> {
        let bits = unsafeBitCast(v, to: SIMD8<Int64>.self)
        return unsafeBitCast(bits & ~(bits &>> 63), to: SIMD8<Double>.self)
    }
    @inline(__always) public static func keep(_ g: SIMD8<Double>, wherePositive a: SIMD8<Double>) -> SIMD8<Double> {
        let bits = unsafeBitCast(a, to: SIMD8<Int64>.self)
        let mask = (0 &- bits) &>> 63
        return unsafeBitCast(unsafeBitCast(g, to: SIMD8<Int64>.self) & mask, to: SIMD8<Double>.self)
    }
    @inline(__always) public static func maximum(_ a: SIMD8<Double>, _ b: SIMD8<Double>) -> SIMD8<Double> {
        let takeA = unsafeBitCast(b - a, to: SIMD8<Int64>.self) &>> 63
        return unsafeBitCast((unsafeBitCast(a, to: SIMD8<Int64>.self) & takeA) | (unsafeBitCast(b, to: SIMD8<Int64>.self) & ~takeA), to: SIMD8<Double>.self)
    }
    @inline(__always) public static func expNegative(_ d: SIMD8<Double>) -> SIMD8<Double> {
        var result = SIMD8<Double>()
        for i in 0..<8 { result[i] = Foundation.exp(-d[i]) }
        return result
    }
}
