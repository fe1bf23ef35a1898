#if canImport(Glibc)
import Contracts
import Glibc
#else
import Darwin
#endif
import Support

/// A damaged record found while reading a TFRecord file.
public struct TFRecordCorruption: Sendable {
    public var file: String
    /// Byte offset of the record's header in the file.
    public var offset: Int
    public var expected: String
    public var found: String
    /// True when reading can go on after this record (its length was intact);
    /// false when the rest of the file cannot be framed (bad length, truncated end).
    public var resumable: Bool

    public var error: GCMLError {
        GCMLError(file: file, object: "TFRecord record at byte offset \(offset)", expected: expected, found: found)
    }
}

/// Reads one TFRecord file record by record with buffered reads (the file is
/// never loaded whole). Framing of each record:
///
///     uint64 length (little-endian) | uint32 masked CRC-32C of the 8 length bytes
///     payload (length bytes)        | uint32 masked CRC-32C of the payload
///
/// Both checksums are verified unless `verifyChecksums` is false.
public final class TFRecordReader {
    public enum Outcome {
        /// The payload; the memory is valid only until the next call to `read()`.
        case record(UnsafeRawBufferPointer, offset: Int)
        case corrupt(TFRecordCorruption)
        case end
    }

    public let path: String
    public let verifyChecksums: Bool
    public let fileSize: Int
    private var descriptor: Int32
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    /// Valid bytes are buffer[start..<end]; buffer[start] is at file offset `bufferOffset`.
    private var start = 0
    private var end = 0
    private var bufferOffset = 0
    private var finished = false
    /// Bytes of the file consumed so far (headers, payloads and footers).
    public var position: Int { bufferOffset + start }

    public init(path: String, bufferSize: Int = 4 << 20, verifyChecksums: Bool = true) throws {
        self.path = path
        self.verifyChecksums = verifyChecksums
        descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw GCMLError(file: path, expected: "a readable TFRecord file", found: String(cString: strerror(errno)))
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw GCMLError(file: path, expected: "a regular TFRecord file", found: "a directory or special file")
        }
        fileSize = Int(info.st_size)
        #if canImport(Glibc)
        _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_SEQUENTIAL)
        #endif
        capacity = max(64, bufferSize)
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit {
        buffer.deallocate()
        if descriptor >= 0 { close(descriptor) }
    }

    /// The next payload; throws a GCMLError naming the file and byte offset on a
    /// damaged or truncated record.
    public func next() throws -> UnsafeRawBufferPointer? {
        switch try read() {
        case .record(let payload, _): return payload
        case .corrupt(let corruption): throw corruption.error
        case .end: return nil
        }
    }

    /// The next record, a description of damage, or the end. After a corruption
    /// that is not `resumable`, the following call returns `.end`.
    public func read() throws -> Outcome {
        if finished { return .end }
        let offset = position
        let header = try fill(12)
        if header == 0 {
            finished = true
            return .end
        }
        if header < 12 {
            return fail(offset, expected: "a 12-byte record header", found: "only \(header) bytes before the end of the file (truncated)",
                        resumable: false)
        }
        let headerBytes = UnsafeRawBufferPointer(start: buffer + start, count: 12)
        let length = UInt64(littleEndian: headerBytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        if verifyChecksums {
            let stored = UInt32(littleEndian: headerBytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            let computed = CRC32C.masked(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: headerBytes[0..<8])))
            if stored != computed {
                return fail(offset, expected: "length checksum \(hex(computed)) for length \(length)", found: "\(hex(stored)) (damaged header)",
                            resumable: false)
            }
        }
        let remaining = fileSize - offset - 12
        guard remaining >= 4, length <= UInt64(remaining - 4) else {
            // The length comes from the file: any value up to 2^64 - 1, so no arithmetic on it here.
            return fail(offset, expected: "\(length) payload bytes + 4 checksum bytes",
                        found: "only \(max(0, remaining)) bytes before the end of the file (truncated)", resumable: false)
        }
        let total = 12 + Int(length) + 4
        let available = try fill(total)
        guard available >= total else {
            return fail(offset, expected: "\(length) payload bytes + 4 checksum bytes",
                        found: "only \(available - 12) bytes (file shrank while reading)", resumable: false)
        }
        let payload = UnsafeRawBufferPointer(start: buffer + start + 12, count: Int(length))
        start += total
        if verifyChecksums {
            let stored = UInt32(littleEndian: (buffer + start - 4).loadUnaligned(as: UInt32.self))
            let computed = CRC32C.masked(CRC32C.checksum(payload))
            if stored != computed {
                return .corrupt(TFRecordCorruption(file: path, offset: offset, expected: "payload checksum \(hex(computed)) over \(length) bytes",
                                                   found: "\(hex(stored)) (damaged payload)", resumable: true))
            }
        }
        return .record(payload, offset: offset)
    }

    private func fail(_ offset: Int, expected: String, found: String, resumable: Bool) -> Outcome {
        finished = !resumable
        return .corrupt(TFRecordCorruption(file: path, offset: offset, expected: expected, found: found, resumable: resumable))
    }

    private func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }

    /// Makes at least `count` bytes available at buffer[start...] unless the file
    /// ends first; returns how many are available.
    private func fill(_ count: Int) throws -> Int {
        if end - start >= count { return end - start }
        if count > capacity {
            // A record larger than the buffer: grow to fit it (records are bounded by the file size).
            let grown = max(count, capacity * 2)
            let bigger = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
            bigger.copyMemory(from: buffer + start, byteCount: end - start)
            buffer.deallocate()
            buffer = bigger
            capacity = grown
            bufferOffset += start
            end -= start
            start = 0
        } else if start > 0 {
            let live = end - start
            if live > 0 { memmove(buffer, buffer + start, live) }
            bufferOffset += start
            end = live
            start = 0
        }
        while end - start < count {
            let got = Glibc_read(descriptor, buffer + end, capacity - end)
            if got < 0 {
                if errno == EINTR { continue }
                throw GCMLError(file: path, object: "byte offset \(bufferOffset + end)", expected: "readable data",
                                found: String(cString: strerror(errno)))
            }
            if got == 0 { break }
            end += got
        }
        return end - start
    }
}

@inline(__always)
private func Glibc_read(_ fd: Int32, _ pointer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.read(fd, pointer, count)
    #else
    return Darwin.read(fd, pointer, count)
    #endif
}

/// Expands shard specifications into a sorted, de-duplicated list of files:
/// a glob pattern (`data/train*.tfrecord`), a plain path, or `@list.txt`, a file
/// with one path or pattern per line (blank lines and `#` comments ignored;
/// relative entries are relative to the list file's folder).
public enum TFRecordShards {
    public static func expand(_ specs: [String]) throws -> [String] {
        var result: [String] = []
        for spec in specs {
            if spec.hasPrefix("@") {
                result += try expandList(String(spec.dropFirst()))
            } else {
                result += try expandPattern(spec, origin: "the shard list")
            }
        }
        var seen = Set<String>()
        result = result.filter { seen.insert($0).inserted }
        guard !result.isEmpty else {
            throw GCMLError(file: specs.joined(separator: " "), expected: "at least one TFRecord shard", found: "no files")
        }
        return result
    }

    static func expandList(_ listPath: String) throws -> [String] {
        guard let file = fopen(listPath, "r") else {
            throw GCMLError(file: listPath, expected: "a readable shard list (one path or pattern per line)", found: String(cString: strerror(errno)))
        }
        defer { fclose(file) }
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n <= 0 { break }
            text += chunk[0..<n]
        }
        let folder = listPath.contains("/") ? String(listPath[..<listPath.lastIndex(of: "/")!]) : "."
        var result: [String] = []
        for (index, rawLine) in String(decoding: text, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let entry = line.hasPrefix("/") ? line : folder + "/" + line
            result += try expandPattern(entry, origin: "\(listPath) line \(index + 1)")
        }
        return result
    }

    static func expandPattern(_ pattern: String, origin: String) throws -> [String] {
        try FilePattern.expand(pattern, origin: origin, expected: "a readable TFRecord shard")
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        var s = self[...]
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}

/// Records from many shards in order, with a policy for damaged records:
/// by default the first one stops the read with a GCMLError naming file and
/// offset; with `skipCorrupt` it is counted, reported on stderr, and skipped
/// (a damaged header or truncated end skips the rest of that shard).
public final class TFRecordStream {
    public let shards: [String]
    public let skipCorrupt: Bool
    public let verifyChecksums: Bool
    private var shardIndex = 0
    private var reader: TFRecordReader?
    /// Records returned since the last rewind.
    public private(set) var records = 0
    /// Payload bytes returned since the last rewind.
    public private(set) var payloadBytes = 0
    /// Damaged records skipped since the last rewind.
    public private(set) var skipped: [TFRecordCorruption] = []
    /// File, byte offset and index within its shard (0-based, among the records returned)
    /// of the record returned last (for messages about its content).
    public private(set) var lastFile = ""
    public private(set) var lastOffset = 0
    public private(set) var lastRecord = 0
    private var recordsInShard = 0

    public init(shards: [String], skipCorrupt: Bool = false, verifyChecksums: Bool = true) {
        self.shards = shards
        self.skipCorrupt = skipCorrupt
        self.verifyChecksums = verifyChecksums
    }

    /// Total size of the shard files in bytes (for progress).
    public var totalFileBytes: Int {
        shards.reduce(0) { sum, path in
            var info = stat()
            return sum + (stat(path, &info) == 0 ? Int(info.st_size) : 0)
        }
    }

    /// File bytes consumed so far across shards.
    public var consumedFileBytes: Int { consumedBefore + (reader?.position ?? 0) }
    private var consumedBefore = 0

    public func rewind() {
        shardIndex = 0
        reader = nil
        records = 0
        payloadBytes = 0
        skipped = []
        consumedBefore = 0
        recordsInShard = 0
    }

    /// The next payload with its file and offset (memory valid until the next call), or nil at the end.
    public func next() throws -> (payload: UnsafeRawBufferPointer, file: String, offset: Int)? {
        while true {
            if reader == nil {
                guard shardIndex < shards.count else { return nil }
                reader = try TFRecordReader(path: shards[shardIndex], verifyChecksums: verifyChecksums)
                recordsInShard = 0
            }
            let current = reader!
            switch try current.read() {
            case .record(let payload, let offset):
                records += 1
                payloadBytes += payload.count
                lastFile = current.path
                lastOffset = offset
                lastRecord = recordsInShard
                recordsInShard += 1
                return (payload, current.path, offset)
            case .corrupt(let corruption):
                guard skipCorrupt else { throw corruption.error }
                skipped.append(corruption)
                note("warning: skipping damaged record: \(corruption.error.message)"
                     + (corruption.resumable ? "" : "; the rest of this shard is skipped"))
            case .end:
                consumedBefore += current.fileSize
                reader = nil
                shardIndex += 1
            }
        }
    }
}

/// The video ids read so far in one pass over a stream: a second record with an id already
/// seen is refused, naming the shard, record and byte offset of both.
struct VideoIDsSeen {
    private struct Place { var file: String, record: Int, offset: Int }
    private var first: [String: Place] = [:]

    mutating func insert(_ id: String, readFrom stream: TFRecordStream) throws {
        let here = Place(file: stream.lastFile, record: stream.lastRecord, offset: stream.lastOffset)
        if let earlier = first[id] {
            throw GCMLError(file: here.file, object: "TFRecord record \(here.record) at byte offset \(here.offset) (video '\(id)')",
                            expected: "unique video ids across all shards",
                            found: "a second record with this id; the first is \(earlier.file) record \(earlier.record) "
                                + "at byte offset \(earlier.offset)")
        }
        first[id] = here
    }

    mutating func removeAll() { first.removeAll() }
}
