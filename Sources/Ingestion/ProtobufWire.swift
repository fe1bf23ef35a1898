/// A reader of the protobuf wire format over borrowed bytes, for the hot path
/// of frame-level decoding (see FrameLevelDecoder): it walks the message in
/// place, copying nothing. swift-protobuf stays the decoder of record; tests
/// check both agree on every fixture.
struct WireCursor {
    private(set) var position: UnsafePointer<UInt8>
    let end: UnsafePointer<UInt8>

    init(_ bytes: UnsafeRawBufferPointer) {
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(bitPattern: 1)!
        position = base
        end = base + bytes.count
    }

    var isAtEnd: Bool { position >= end }

    @inline(__always)
    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while position < end {
            let byte = position.pointee
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
            if shift >= 64 { throw WireError("a varint longer than 10 bytes") }
        }
        throw WireError("a varint cut off by the end of its message")
    }

    /// The next field's number and wire type, or nil at the end.
    @inline(__always)
    mutating func tag() throws -> (field: UInt64, wire: UInt64)? {
        if position >= end { return nil }
        let key = try varint()
        let field = key >> 3
        guard field > 0 else { throw WireError("field number 0") }
        return (field, key & 7)
    }

    @inline(__always)
    mutating func lengthDelimited() throws -> UnsafeRawBufferPointer {
        let length = try varint()
        guard length <= UInt64(end - position) else {
            throw WireError("a length of \(length) bytes with only \(end - position) left in the message")
        }
        let bytes = UnsafeRawBufferPointer(start: position, count: Int(length))
        position += Int(length)
        return bytes
    }

    mutating func skip(wire: UInt64) throws {
        switch wire {
        case 0: _ = try varint()
        case 1: try advance(8)
        case 2: _ = try lengthDelimited()
        case 5: try advance(4)
        default: throw WireError("wire type \(wire) (groups or invalid)")
        }
    }

    private mutating func advance(_ count: Int) throws {
        guard end - position >= count else { throw WireError("a fixed-size field cut off by the end of its message") }
        position += count
    }
}

struct WireError: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

extension UnsafeRawBufferPointer {
    @inline(__always)
    func equals(_ key: [UInt8]) -> Bool {
        guard count == key.count else { return false }
        if count == 0 { return true }
        return key.withUnsafeBytes { memcmp(baseAddress!, $0.baseAddress!, count) == 0 }
    }
}

#if canImport(Glibc)
import Contracts
import Glibc
#else
import Darwin
#endif
