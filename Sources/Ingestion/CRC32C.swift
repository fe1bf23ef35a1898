/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum TFRecord
/// framing uses, computed slicing-by-8 (eight table look-ups per 8 input bytes).
public enum CRC32C {
    /// tables[k * 256 + b]: CRC of byte b followed by k zero bytes. Allocated once
    /// and never freed, so the hot loop reads it through a plain pointer.
    static let tables: UnsafePointer<UInt32> = {
        let t = UnsafeMutablePointer<UInt32>.allocate(capacity: 8 * 256)
        for b in 0..<256 {
            var crc = UInt32(b)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            t[b] = crc
        }
        for k in 1..<8 {
            for b in 0..<256 {
                let previous = t[(k - 1) * 256 + b]
                t[k * 256 + b] = (previous >> 8) ^ t[Int(previous & 0xFF)]
            }
        }
        return UnsafePointer(t)
    }()

    /// CRC-32C of `bytes` (continuing from `crc` of preceding bytes).
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard var p = bytes.baseAddress, !bytes.isEmpty else { return crc }
        let t = tables
        var c = ~crc
        var n = bytes.count
        while n >= 8 {
            let word = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
            let low = UInt32(truncatingIfNeeded: word) ^ c
            let high = UInt32(truncatingIfNeeded: word &>> 32)
            c = t[7 * 256 &+ Int(low & 0xFF)] ^ t[6 * 256 &+ Int((low &>> 8) & 0xFF)]
                ^ t[5 * 256 &+ Int((low &>> 16) & 0xFF)] ^ t[4 * 256 &+ Int(low &>> 24)]
                ^ t[3 * 256 &+ Int(high & 0xFF)] ^ t[2 * 256 &+ Int((high &>> 8) & 0xFF)]
                ^ t[1 * 256 &+ Int((high &>> 16) & 0xFF)] ^ t[Int(high &>> 24)]
            p += 8
            n &-= 8
        }
        while n > 0 {
            c = (c &>> 8) ^ t[Int((c ^ UInt32(p.load(as: UInt8.self))) & 0xFF)]
            p += 1
            n &-= 1
        }
        return ~c
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// TFRecord's masked CRC: rotate right by 15 and add a constant, so that a
    /// CRC stored inside checksummed data does not checksum to a fixed value.
    @inline(__always)
    public static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}
