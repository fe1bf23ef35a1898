import Artifacts
import Contracts
import Foundation
import Support

/// Maps video ids (as raw UTF-8 bytes) to their rows in `features.h5`, without
/// building a String per input line: ids live in one byte arena and an
/// open-addressing table of rows is probed with a hash of the bytes.
public struct VideoIndex: Sendable {
    public let ids: [String]
    private var arena: [UInt8] = []
    private var offsets: [Int] = [0]
    /// Per slot: the top 32 bits of the id's hash (a tag that skips most byte
    /// comparisons of other ids) and its row; `UInt64.max` = empty.
    private var slots: [UInt64]
    private let mask: Int

    /// - Throws: when an id appears twice (rows would be ambiguous).
    public init(ids: [String], source: String = "features") throws {
        self.ids = ids
        var capacity = 16
        while capacity < ids.count * 2 { capacity <<= 1 }
        mask = capacity - 1
        slots = [UInt64](repeating: .max, count: capacity)
        arena.reserveCapacity(ids.reduce(0) { $0 + $1.utf8.count })
        offsets.reserveCapacity(ids.count + 1)
        for id in ids {
            arena.append(contentsOf: id.utf8)
            offsets.append(arena.count)
        }
        for row in 0..<ids.count {
            let found = arena.withUnsafeBufferPointer { a in
                lookup(UnsafeBufferPointer(rebasing: a[offsets[row]..<offsets[row + 1]]))
            }
            if let found {
                throw GCMLError(file: source, object: DatasetPath.videoID, expected: "unique video ids",
                                found: "\"\(ids[row])\" at rows \(found) and \(row)")
            }
            let h = Self.hash(arena, offsets[row], offsets[row + 1])
            var slot = Int(truncatingIfNeeded: h) & mask
            while slots[slot] != .max { slot = (slot + 1) & mask }
            slots[slot] = (h >> 32) << 32 | UInt64(row)
        }
    }

    public var count: Int { ids.count }

    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return SplitMix64.mix(h)
    }

    private static func hash(_ arena: [UInt8], _ start: Int, _ end: Int) -> UInt64 {
        arena.withUnsafeBufferPointer { hash(UnsafeBufferPointer(rebasing: $0[start..<end])) }
    }

    /// The row of the id spelled by `bytes`, or nil when the features do not know it.
    @inline(__always)
    public func lookup(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        let h = Self.hash(bytes)
        let tag = h >> 32
        var slot = Int(truncatingIfNeeded: h) & mask
        return slots.withUnsafeBufferPointer { table in
            arena.withUnsafeBufferPointer { a in
                offsets.withUnsafeBufferPointer { o in
                    while true {
                        let entry = table[slot]
                        if entry == .max { return nil }
                        if entry >> 32 == tag {
                            let row = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF)
                            let start = o[row], length = o[row + 1] - start
                            if length == bytes.count && (length == 0 || Self.bytesEqual(a.baseAddress! + start, bytes.baseAddress!, length)) {
                                return Int32(row)
                            }
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
    }

    /// Whether a[0..<count] == b[0..<count]: eight bytes per compare, inline (ids are short, and a
    /// `memcmp` call per id cost a tenth of build-graph's parsing).
    @inline(__always)
    static func bytesEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var i = 0
        while i + 8 <= count {
            if ra.loadUnaligned(fromByteOffset: i, as: UInt64.self) != rb.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
            i += 8
        }
        while i < count {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    public func lookup(_ id: String) -> Int32? {
        var id = id
        return id.withUTF8 { lookup($0) }
    }
}
