/// Summed interaction weight of every unordered video pair, sorted by pair: what interaction
/// counting (Interactions) hands to graph building (Graphs). A pair {a, b} is one UInt64 key,
/// the smaller row in the high word, so sorting keys sorts pairs row-major over the upper triangle.
public struct PairSums: Equatable, Sendable {
    public var keys: [UInt64]
    public var values: [Double]

    public init(keys: [UInt64], values: [Double]) {
        precondition(keys.count == values.count)
        self.keys = keys
        self.values = values
    }

    public var count: Int { keys.count }

    /// The key of the unordered pair {a, b}: smaller row in the high word.
    @inline(__always)
    public static func key(_ a: Int32, _ b: Int32) -> UInt64 {
        a < b ? UInt64(UInt32(a)) << 32 | UInt64(UInt32(b)) : UInt64(UInt32(b)) << 32 | UInt64(UInt32(a))
    }

    /// The two rows of a key, smaller first.
    @inline(__always)
    public static func rows(of key: UInt64) -> (Int32, Int32) { (Int32(truncatingIfNeeded: key >> 32), Int32(truncatingIfNeeded: key)) }
}
