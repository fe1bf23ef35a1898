import Artifacts
import Contracts
import Foundation
import Support

/// Maps video ids (as raw UTF-8 bytes) to their rows in `features.h5`, without
/// building a String per input line: ids live in one byte arena and an
/// open-addressing table of entries is probed with a hash of the bytes.
/// An entry's row is its position (`init(ids:)`: all the features' ids in row order)
/// or a row given with it (a rank's share of the ids, or the ids of one batch of input).
public struct VideoIndex: Sendable {
    private var arena: [UInt8] = []
    private var offsets: [Int] = [0]
    /// Per entry, its row when rows are given (nil: the entry's position is its row).
    private var rows: [Int32]?
    /// Per slot: the top 32 bits of the id's hash (a tag that skips most byte
    /// comparisons of other ids) and its entry; `UInt64.max` = empty.
    private var slots: [UInt64]
    private var mask: Int

    /// - Throws: when an id appears twice (rows would be ambiguous).
    public init(ids: [String], source: String = "features") throws {
        self.init(capacity: ids.count, givenRows: false)
        arena.reserveCapacity(ids.reduce(0) { $0 + $1.utf8.count })
        for (row, id) in ids.enumerated() {
            var id = id
            let found = id.withUTF8 { insert($0, row: Int32(row)) }
            if let found {
                throw GCMLError(file: source, object: DatasetPath.videoID, expected: "unique video ids",
                                found: "\"\(ids[row])\" at rows \(found) and \(row)")
            }
        }
    }

    /// An empty index whose entries come with their rows (`insert`).
    public init(expectedIDs: Int = 16) { self.init(capacity: expectedIDs, givenRows: true) }

    private init(capacity expected: Int, givenRows: Bool) {
        var capacity = 16
        while capacity < expected * 2 { capacity <<= 1 }
        mask = capacity - 1
        slots = [UInt64](repeating: .max, count: capacity)
        offsets.reserveCapacity(expected + 1)
        rows = givenRows ? [] : nil
    }

    /// Entries (distinct ids).
    public var count: Int { offsets.count - 1 }

    /// The id bytes of entry `entry`.
    public func idBytes(_ entry: Int) -> ArraySlice<UInt8> { arena[offsets[entry]..<offsets[entry + 1]] }

    /// The row of entry `entry`.
    @inline(__always)
    public func row(ofEntry entry: Int) -> Int32 { rows?[entry] ?? Int32(entry) }

    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return SplitMix64.mix(h)
    }

    /// The rank of `parts` that owns an id when the map is partitioned: a second mix of its hash,
    /// so an owner's ids are not all alike in the bits that place them in its table.
    @inline(__always)
    public static func owner(_ bytes: UnsafeBufferPointer<UInt8>, parts: Int) -> Int {
        Int(SplitMix64.mix(hash(bytes) ^ 0x6f77_6e65_725f_6964) % UInt64(parts))
    }

    /// Adds an id with its row (a position when rows are not given) unless present; returns the row
    /// it already had then, nil when added.
    @discardableResult
    public mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>, row: Int32) -> Int32? {
        if let entry = entry(of: bytes) { return self.row(ofEntry: entry) }
        if (count + 1) * 2 > slots.count { grow() }
        let entry = count
        arena.append(contentsOf: bytes)
        offsets.append(arena.count)
        if rows != nil { rows!.append(row) }
        place(entry, hash: Self.hash(bytes))
        return nil
    }

    private mutating func place(_ entry: Int, hash h: UInt64) {
        var slot = Int(truncatingIfNeeded: h) & mask
        while slots[slot] != .max { slot = (slot + 1) & mask }
        slots[slot] = (h >> 32) << 32 | UInt64(entry)
    }

    private mutating func grow() {
        slots = [UInt64](repeating: .max, count: slots.count * 2)
        mask = slots.count - 1
        for entry in 0..<count {
            let h = arena.withUnsafeBufferPointer { Self.hash(UnsafeBufferPointer(rebasing: $0[offsets[entry]..<offsets[entry + 1]])) }
            place(entry, hash: h)
        }
    }

    /// The entry of the id spelled by `bytes`, if present.
    @inline(__always)
    public func entry(of bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let h = Self.hash(bytes)
        let tag = h >> 32
        var slot = Int(truncatingIfNeeded: h) & mask
        return slots.withUnsafeBufferPointer { table in
            arena.withUnsafeBufferPointer { a in
                offsets.withUnsafeBufferPointer { o in
                    while true {
                        let value = table[slot]
                        if value == .max { return nil }
                        if value >> 32 == tag {
                            let entry = Int(truncatingIfNeeded: value & 0xFFFF_FFFF)
                            let start = o[entry], length = o[entry + 1] - start
                            if length == bytes.count && (length == 0 || Self.bytesEqual(a.baseAddress! + start, bytes.baseAddress!, length)) {
                                return entry
                            }
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
    }

    /// The row of the id spelled by `bytes`, or nil when the features do not know it (an entry
    /// with a negative row: an id asked about and found unknown).
    @inline(__always)
    public func lookup(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        guard let entry = entry(of: bytes) else { return nil }
        let row = row(ofEntry: entry)
        return row >= 0 ? row : nil
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
