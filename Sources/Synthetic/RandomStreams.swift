import Support

/// Independent random streams keyed by (purpose, index): every video, session and
/// model part draws from its own generator, so the output does not depend on the
/// order of work or the number of threads.
struct RandomStreams: Sendable {
    enum Purpose: UInt64 {
        case hierarchy = 1, video, visualStyle, visualNoise, audioStyle, audioNoise, labels, session, visualModel, audioModel
        case visualClutter, audioClutter
    }

    let seed: UInt64

    func generator(_ purpose: Purpose, _ index: Int = 0) -> SeededGenerator {
        let key = SplitMix64.mix(seed &+ 0x632B_E59B_D9B4_E019 &* purpose.rawValue) ^ UInt64(truncatingIfNeeded: index)
        return SeededGenerator(seed: SplitMix64.mix(key))
    }
}

extension SeededGenerator {
    /// Adds `scale` · (approximately standard normal) to each value: the sum of four
    /// 16-bit uniforms (Irwin–Hall) from one 64-bit draw, about 10× cheaper than
    /// Box–Muller and indistinguishable from a Gaussian after uint8 quantisation.
    @inline(__always)
    mutating func addNoise(_ values: UnsafeMutablePointer<Float>, count: Int, scale: Float) {
        // Four U[0, 65535] terms: mean 131070, variance 4 · (65536² − 1) / 12.
        let factor = scale * (3.0 as Float).squareRoot() / 65536
        for i in 0..<count {
            let r = next()
            let sum = Int32(truncatingIfNeeded: r & 0xFFFF) + Int32(truncatingIfNeeded: (r >> 16) & 0xFFFF)
                + Int32(truncatingIfNeeded: (r >> 32) & 0xFFFF) + Int32(truncatingIfNeeded: r >> 48)
            values[i] += Float(sum - 131_070) * factor
        }
    }

    /// A normal draw as Float (Box–Muller; for the few values where shape matters).
    @inline(__always)
    mutating func gaussian() -> Float { Float(normal()) }
}
