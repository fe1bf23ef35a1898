import CZlib
import CZstd
import Contracts
import Foundation
import Support

/// Streams the lines of a text file that may be plain, gzip or zstd compressed
/// (recognised by their magic bytes, not the file name). Lines are handed out as
/// byte buffers that stay valid only during the callback: nothing is copied or
/// decoded into Strings, so a multi-GB log streams at memory speed.
public final class TextInput {
    public enum Compression: String, Sendable { case none, gzip, zstd }

    public let path: String
    public private(set) var compression: Compression = .none
    private let handle: UnsafeMutablePointer<FILE>
    private var decoder: Decoder
    /// Raw bytes read from disk (compressed input only).
    private var raw: UnsafeMutableRawBufferPointer
    private var rawStart = 0, rawEnd = 0
    private var rawEOF = false
    /// A compressed frame/member has begun and not ended (end of file here = truncated).
    private var midStream = false
    /// Bytes read so far from the file (for progress).
    public private(set) var bytesRead = 0
    /// Bytes left to read of a byte range (nil: read to the end of the file).
    private var remaining: Int?

    private enum Decoder {
        case none
        case gzip(UnsafeMutablePointer<z_stream>)
        case zstd(OpaquePointer)
    }

    /// - Parameter bytes: only these bytes of a plain file (a rank's share, cut at line boundaries
    ///   by `InputSplit`); nil reads the whole file, plain or compressed.
    public init(path: String, bytes: Range<Int>? = nil) throws {
        guard let handle = fopen(path, "rb") else {
            throw GCMLError(file: path, expected: "a readable file", found: String(cString: strerror(errno)))
        }
        self.path = path
        self.handle = handle
        raw = .allocate(byteCount: 1 << 20, alignment: 64)
        decoder = .none
        if let bytes {
            remaining = bytes.count
            guard fseeko(handle, off_t(bytes.lowerBound), SEEK_SET) == 0 else {
                throw GCMLError(file: path, expected: "a seekable file", found: String(cString: strerror(errno)))
            }
            return
        }
        fillRaw()
        let magic = Array(UnsafeRawBufferPointer(rebasing: raw[rawStart..<min(rawEnd, rawStart + 4)]))
        if magic.count >= 2, magic[0] == 0x1f, magic[1] == 0x8b {
            compression = .gzip
            let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            stream.initialize(to: z_stream())
            // 15 + 32: zlib or gzip header, detected automatically.
            guard inflateInit2_(stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                stream.deallocate()
                throw GCMLError(file: path, expected: "a gzip stream zlib can open", found: "an inflateInit failure")
            }
            decoder = .gzip(stream)
        } else if magic.count == 4, magic == [0x28, 0xb5, 0x2f, 0xfd] {
            compression = .zstd
            guard let stream = ZSTD_createDStream() else { throw GCMLError("\(path): could not create a zstd decoder") }
            ZSTD_initDStream(stream)
            decoder = .zstd(stream)
        }
    }

    deinit {
        fclose(handle)
        raw.deallocate()
        switch decoder {
        case .none: break
        case .gzip(let stream):
            inflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
        case .zstd(let stream): ZSTD_freeDStream(stream)
        }
    }

    private func fillRaw() {
        if rawStart > 0 {
            let remaining = rawEnd - rawStart
            if remaining > 0 { memmove(raw.baseAddress!, raw.baseAddress! + rawStart, remaining) }
            rawStart = 0
            rawEnd = remaining
        }
        while !rawEOF && rawEnd < raw.count {
            let got = fread(raw.baseAddress! + rawEnd, 1, raw.count - rawEnd, handle)
            rawEnd += got
            bytesRead += got
            if got == 0 { rawEOF = true }
        }
    }

    /// Fills `buffer` with up to `capacity` decoded bytes; 0 means end of input.
    func read(into buffer: UnsafeMutableRawPointer, capacity: Int) throws -> Int {
        switch decoder {
        case .none:
            // Plain files: serve what the magic-byte probe already read, then read directly.
            if rawStart < rawEnd {
                let n = min(capacity, rawEnd - rawStart)
                memcpy(buffer, raw.baseAddress! + rawStart, n)
                rawStart += n
                return n
            }
            let got = fread(buffer, 1, min(capacity, remaining ?? capacity), handle)
            bytesRead += got
            remaining? -= got
            if got == 0, ferror(handle) != 0 { throw GCMLError(file: path, expected: "a readable file", found: "a read error") }
            return got
        case .gzip(let stream):
            var produced = 0
            while produced == 0 {
                if rawStart == rawEnd {
                    if !rawEOF { fillRaw() }
                    if rawStart == rawEnd {
                        if midStream { throw GCMLError(file: path, expected: "a complete gzip stream", found: "a truncated file") }
                        return 0
                    }
                }
                midStream = true
                stream.pointee.next_in = (raw.baseAddress! + rawStart).assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_in = UInt32(rawEnd - rawStart)
                stream.pointee.next_out = buffer.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = UInt32(capacity)
                let status = inflate(stream, Z_NO_FLUSH)
                rawStart = rawEnd - Int(stream.pointee.avail_in)
                produced = capacity - Int(stream.pointee.avail_out)
                if status == Z_STREAM_END {
                    // Concatenated gzip members (e.g. `cat a.gz b.gz`) continue with the next one.
                    inflateReset(stream)
                    midStream = false
                } else if status != Z_OK && status != Z_BUF_ERROR {
                    throw GCMLError(file: path, expected: "valid gzip data", found: "zlib error \(status) after \(bytesRead) compressed bytes")
                }
            }
            return produced
        case .zstd(let stream):
            var produced = 0
            while produced == 0 {
                if rawStart == rawEnd {
                    if !rawEOF { fillRaw() }
                    if rawStart == rawEnd {
                        if midStream { throw GCMLError(file: path, expected: "a complete zstd stream", found: "a truncated file") }
                        return 0
                    }
                }
                var input = ZSTD_inBuffer(src: raw.baseAddress! + rawStart, size: rawEnd - rawStart, pos: 0)
                var output = ZSTD_outBuffer(dst: buffer, size: capacity, pos: 0)
                let status = ZSTD_decompressStream(stream, &output, &input)
                if ZSTD_isError(status) != 0 {
                    throw GCMLError(file: path, expected: "valid zstd data", found: String(cString: ZSTD_getErrorName(status)))
                }
                rawStart += input.pos
                produced = output.pos
                // 0 = a frame just ended; anything else = more of the frame is expected.
                midStream = status != 0
            }
            return produced
        }
    }

    /// Calls `body(line, lineNumber)` for every line (1-based numbers), without
    /// the line break (`\n` or `\r\n`). The buffer is valid only during the call.
    public func forEachLine(_ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        let capacity = 4 << 20
        var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 64)
        defer { buffer.deallocate() }
        var start = 0, end = 0
        var lineNumber = 0
        while true {
            // Move the unfinished line to the front and refill behind it.
            if start > 0 {
                let remaining = end - start
                if remaining > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + start, remaining) }
                start = 0
                end = remaining
            }
            if end == buffer.count {
                // A line longer than the buffer: grow it.
                let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 64)
                bigger.copyMemory(from: UnsafeRawBufferPointer(buffer))
                buffer.deallocate()
                buffer = bigger
            }
            let got = try read(into: buffer.baseAddress! + end, capacity: buffer.count - end)
            if got == 0 {
                if end > start {
                    lineNumber += 1
                    try emit(buffer.baseAddress! + start, end - start, lineNumber, body)
                }
                return
            }
            end += got
            let base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
            while start < end, let hit = memchr(base + start, 0x0A, end - start) {
                let stop = hit.assumingMemoryBound(to: UInt8.self) - base
                lineNumber += 1
                try emit(buffer.baseAddress! + start, stop - start, lineNumber, body)
                start = stop + 1
            }
        }
    }

    /// Calls `body(line, lineNumber)` for every line of an in-memory text (same rules as the file form).
    public static func forEachLine(in text: UnsafeRawBufferPointer, _ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        guard let base = text.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var start = 0, lineNumber = 0
        let end = text.count
        while start < end {
            let stop: Int
            if let hit = memchr(base + start, 0x0A, end - start) { stop = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) - base } else { stop = end }
            lineNumber += 1
            var n = stop - start
            if n > 0 && base[start + n - 1] == 0x0D { n -= 1 }
            try body(UnsafeBufferPointer(start: base + start, count: n), lineNumber)
            start = stop + 1
        }
    }

    @inline(__always)
    private func emit(_ pointer: UnsafeMutableRawPointer, _ length: Int, _ number: Int,
                      _ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        let bytes = pointer.assumingMemoryBound(to: UInt8.self)
        var n = length
        if n > 0 && bytes[n - 1] == 0x0D { n -= 1 }
        try body(UnsafeBufferPointer(start: bytes, count: n), number)
    }
}
