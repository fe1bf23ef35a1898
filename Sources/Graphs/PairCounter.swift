/// Sums a value per unordered pair of video rows in an open-addressing hash
/// table keyed by the packed pair (low row in the high word), so memory grows
/// with the number of distinct pairs, never with the number of input rows.
public struct PairCounter: Sendable {
    private static let empty = UInt64.max
    private var keys: [UInt64]
    private var values: [Double]
    private var shift: UInt64
    public private(set) var count = 0

    public init(expectedPairs: Int = 1 << 16) {
        var capacity = 1 << 10
        while capacity < expectedPairs * 2 { capacity <<= 1 }
        keys = [UInt64](repeating: Self.empty, count: capacity)
        values = [Double](repeating: 0, count: capacity)
        shift = UInt64(64 - capacity.trailingZeroBitCount)
    }

    /// The key of the unordered pair {a, b}: smaller row in the high word.
    @inline(__always)
    public static func key(_ a: Int32, _ b: Int32) -> UInt64 {
        a < b ? UInt64(UInt32(a)) << 32 | UInt64(UInt32(b)) : UInt64(UInt32(b)) << 32 | UInt64(UInt32(a))
    }

    @inline(__always)
    public static func rows(of key: UInt64) -> (Int32, Int32) { (Int32(truncatingIfNeeded: key >> 32), Int32(truncatingIfNeeded: key)) }

    public var capacity: Int { keys.count }
    /// Bytes held by the table.
    public var memoryBytes: Int { keys.count * (MemoryLayout<UInt64>.size + MemoryLayout<Double>.size) }

    /// Adds `value` to the pair's sum (Fibonacci hashing, linear probing; grows at half load).
    @inline(__always)
    public mutating func add(key: UInt64, _ value: Double) {
        if count * 2 >= keys.count { grow() }
        let mask = keys.count - 1
        var slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
        keys.withUnsafeMutableBufferPointer { k in
            values.withUnsafeMutableBufferPointer { v in
                while true {
                    let here = k[slot]
                    if here == key { v[slot] += value; return }
                    if here == Self.empty {
                        k[slot] = key
                        v[slot] = value
                        count += 1
                        return
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = [UInt64](repeating: Self.empty, count: oldKeys.count * 2)
        values = [Double](repeating: 0, count: oldKeys.count * 2)
        shift -= 1
        count = 0
        for i in 0..<oldKeys.count where oldKeys[i] != Self.empty { add(key: oldKeys[i], oldValues[i]) }
    }

    /// All pairs sorted by key (row-major order of the upper triangle).
    public func sortedEntries() -> (keys: [UInt64], values: [Double]) {
        var entries: [(key: UInt64, value: Double)] = []
        entries.reserveCapacity(count)
        for i in 0..<keys.count where keys[i] != Self.empty { entries.append((keys[i], values[i])) }
        entries.sort { $0.key < $1.key }
        return (entries.map(\.key), entries.map(\.value))
    }
}
