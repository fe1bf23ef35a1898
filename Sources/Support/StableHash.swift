/// A hash of bytes that never changes between runs, machines or versions
/// (FNV-1a 64 followed by a SplitMix64 finaliser). Used where a decision must
/// stay put as data grows: held-out videos, train/test splits.
public enum StableHash {
    public static func hash<Bytes: Sequence>(_ bytes: Bytes, salt: UInt64 = 0) -> UInt64 where Bytes.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ salt
        for b in bytes {
            h ^= UInt64(b)
            h &*= 0x0000_0100_0000_01b3
        }
        return SplitMix64.mix(h)
    }

    public static func hash(_ string: String, salt: UInt64 = 0) -> UInt64 { hash(string.utf8, salt: salt) }

    /// A number in [0, 1) from a string, stable forever: `fraction(id) < f` selects about f of all ids.
    public static func fraction(_ string: String, salt: UInt64 = 0) -> Double {
        Double(hash(string, salt: salt) >> 11) * 0x1.0p-53
    }
}
