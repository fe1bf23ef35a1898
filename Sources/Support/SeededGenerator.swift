/// A small, fast, seedable random generator (xoshiro256**), seeded through
/// SplitMix64 so that any 64-bit seed gives a well-mixed state. Every stage
/// that draws random numbers takes a seed parameter and uses this, so the same inputs
/// and seed give the same artifact on every machine.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable {
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var mixer = SplitMix64(state: seed)
        state = (mixer.next(), mixer.next(), mixer.next(), mixer.next())
    }

    /// Restores a generator from `state` (checkpoints save it to resume exactly).
    public init(state: [UInt64]) {
        precondition(state.count == 4, "xoshiro256** state has four words")
        self.state = (state[0], state[1], state[2], state[3])
    }

    /// An independent stream for worker `index`, derived from this generator's seed.
    public func stream(_ index: Int) -> SeededGenerator {
        SeededGenerator(seed: state.0 &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(index + 1) ^ state.3)
    }

    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    public static func == (a: SeededGenerator, b: SeededGenerator) -> Bool { a.stateWords == b.stateWords }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    /// Uniform integer in 0..<bound without modulo bias (Lemire's method).
    @inline(__always)
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        let b = UInt64(bound)
        var product = next().multipliedFullWidth(by: b)
        if product.low < b {
            let threshold = (0 &- b) % b
            while product.low < threshold { product = next().multipliedFullWidth(by: b) }
        }
        return Int(product.high)
    }

    /// Uniform double in [0, 1).
    @inline(__always)
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal (Box–Muller; one value per call keeps the state simple to checkpoint).
    public mutating func normal() -> Double {
        var u = unit()
        while u <= 0 { u = unit() }
        let v = unit()
        return (-2 * _log(u)).squareRoot() * _cos(2 * Double.pi * v)
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// SplitMix64: used to expand seeds and as a stateless integer mixer.
public struct SplitMix64 {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }
    @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Darwin
@inline(__always) func _log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif

extension Array {
    /// Fisher–Yates from the last position down: the one full shuffle in gcml. Its draws
    /// are fixed (`below(i + 1)` for i = count−1 … 1), so a seed fixes the permutation.
    public mutating func fisherYatesShuffle(using generator: inout SeededGenerator) {
        for i in stride(from: count - 1, to: 0, by: -1) { swapAt(i, generator.below(i + 1)) }
    }

    /// Forward partial Fisher–Yates: afterwards the first `n` elements are a uniform sample
    /// without replacement, in draw order (draws `below(count − i)` for i = 0 ..< n).
    public mutating func fisherYatesPrefix(_ n: Int, using generator: inout SeededGenerator) {
        precondition(n <= count)
        for i in 0..<n { swapAt(i, i + generator.below(count - i)) }
    }
}
