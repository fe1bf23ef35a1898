import Foundation
import Support

/// What one reader (a rank) reads of an interaction input: a whole file, or a byte range of
/// a plain file that starts and ends on line (for sessions: session) boundaries.
public struct InputPiece: Equatable, Sendable {
    public var path: String
    /// nil: the whole file.
    public var bytes: Range<Int>?

    public init(path: String, bytes: Range<Int>? = nil) {
        self.path = path
        self.bytes = bytes
    }

    /// The path, with the range when the piece is one (errors name it; line numbers count from its start).
    public var name: String { bytes.map { "\(path) (bytes \($0.lowerBound)..<\($0.upperBound))" } ?? path }
}

/// Splitting interaction inputs over ranks so that every line is read by exactly one rank,
/// in input order: the files are laid end to end and cut into `ranks` equal byte ranges. A
/// compressed file (gzip, zstd: a stream cannot be entered in the middle) goes whole to the
/// rank whose range holds its first byte. A plain file is cut where the ranges cut it, each
/// cut moved forward to the next line start: a line belongs to the rank whose range holds
/// its first byte (so a line longer than a range leaves the ranges it covers empty). With
/// `.session`, a cut moves further, to the next row that starts a session (a row whose session
/// id differs from the previous row's), so a session is never split and is windowed whole
/// by one rank, exactly as one process windows it. Sessions never span files (a session id met
/// again in the next file starts a new session), one process or many.
public enum InputSplit {
    public enum Boundary: Sendable { case line, session }

    /// The files of an input option: one file, or a comma-separated list of files and glob
    /// patterns (each pattern's matches sorted), in the order given.
    public static func paths(_ spec: String) throws -> [String] {
        if access(spec, F_OK) == 0 { return [spec] }
        let paths = try spec.split(separator: ",").flatMap {
            try FilePattern.expand(String($0), origin: "the input list \"\(spec)\"", expected: "a readable interaction file")
        }
        guard !paths.isEmpty else { throw GCMLError(file: spec, expected: "at least one interaction file", found: "none") }
        return paths
    }

    /// The pieces rank `rank` of `ranks` reads, in input order; all ranks' pieces, in rank order, are the whole input.
    public static func pieces(of paths: [String], rank: Int, of ranks: Int, boundary: Boundary) throws -> [InputPiece] {
        precondition(ranks >= 1 && (0..<ranks).contains(rank))
        if ranks == 1 { return paths.map { InputPiece(path: $0) } }
        let sizes = try paths.map(fileSize)
        let total = sizes.reduce(0, +)
        // Nominal cuts of the files laid end to end.
        let low = Int((Double(total) * Double(rank) / Double(ranks)).rounded(.down))
        let high = rank + 1 == ranks ? total : Int((Double(total) * Double(rank + 1) / Double(ranks)).rounded(.down))
        var result: [InputPiece] = []
        var start = 0
        for (path, size) in zip(paths, sizes) {
            defer { start += size }
            guard size > 0 else { continue }
            if try isCompressed(path) {
                if (low..<high).contains(start) { result.append(InputPiece(path: path)) }
                continue
            }
            let a = min(size, max(0, low - start)), b = min(size, max(0, high - start))
            guard a < b else { continue }
            let file = try PlainFile(path: path, size: size)
            let from = try file.cut(at: a, boundary), to = try file.cut(at: b, boundary)
            guard from < to else { continue }
            result.append(InputPiece(path: path, bytes: from == 0 && to == size ? nil : from..<to))
        }
        return result
    }

    static func fileSize(_ path: String) throws -> Int {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw GCMLError(file: path, expected: "a readable interaction file", found: String(cString: strerror(errno)))
        }
        return Int(status.st_size)
    }

    /// gzip or zstd magic bytes (what `TextInput` decodes).
    static func isCompressed(_ path: String) throws -> Bool {
        let file = try PlainFile(path: path, size: try fileSize(path))
        let magic = try file.read(0..<min(4, file.size))
        return (magic.count >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) || magic == [0x28, 0xb5, 0x2f, 0xfd]
    }

    /// A plain file read at offsets, to find where a cut falls.
    struct PlainFile {
        let path: String
        let size: Int
        /// Bytes searched per read.
        static let chunk = 1 << 16

        init(path: String, size: Int) throws {
            self.path = path
            self.size = size
        }

        func read(_ range: Range<Int>) throws -> [UInt8] {
            guard let handle = fopen(path, "rb") else {
                throw GCMLError(file: path, expected: "a readable file", found: String(cString: strerror(errno)))
            }
            defer { fclose(handle) }
            var bytes = [UInt8](repeating: 0, count: range.count)
            fseeko(handle, off_t(range.lowerBound), SEEK_SET)
            let got = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, range.count, handle) }
            guard got == range.count else { throw GCMLError(file: path, expected: "\(range.count) bytes at offset \(range.lowerBound)", found: "\(got)") }
            return bytes
        }

        /// Where a cut at byte `offset` moves: the first line (or session) start at or after it.
        func cut(at offset: Int, _ boundary: Boundary) throws -> Int {
            let line = try lineStart(atOrAfter: offset)
            guard boundary == .session, line > 0, line < size else { return line }
            let previous = try previousSession(before: line)
            return try firstLine(from: line) { text in sessionID(text).map { $0 != previous } ?? false }
        }

        /// The start of the first line at or after `offset` (a line start) for which `match(bytes)`
        /// holds (bytes without the `\n`), or `size`. Reads in large sequential chunks: a session
        /// may run on for many lines.
        func firstLine(from offset: Int, where match: ([UInt8]) -> Bool) throws -> Int {
            var start = offset, position = offset
            var pending: [UInt8] = []
            while position < size {
                let chunk = try read(position..<min(size, position + 16 * Self.chunk))
                var from = 0
                while let hit = chunk[from...].firstIndex(of: 0x0A) {
                    pending += chunk[from..<hit]
                    if match(pending) { return start }
                    start = position + hit + 1
                    pending.removeAll(keepingCapacity: true)
                    from = hit + 1
                }
                pending += chunk[from...]
                position += chunk.count
            }
            return !pending.isEmpty && match(pending) ? start : size
        }

        /// The first line start at or after `offset` (0 and the bytes after each `\n` start lines).
        func lineStart(atOrAfter offset: Int) throws -> Int {
            guard offset > 0 else { return 0 }
            guard offset < size else { return size }
            return min(size, try lineEnd(from: offset - 1) + 1)
        }

        /// The position of the first `\n` at or after `offset`, or `size`.
        func lineEnd(from offset: Int) throws -> Int {
            var position = offset
            while position < size {
                let bytes = try read(position..<min(size, position + Self.chunk))
                if let hit = bytes.firstIndex(of: 0x0A) { return position + hit }
                position += bytes.count
            }
            return size
        }

        /// The session id of the last session row that starts before `line` (a line start), nil when none does.
        func previousSession(before line: Int) throws -> [UInt8]? {
            var end = line - 1          // the `\n` ending the previous line
            while end >= 0 {
                // Find the previous line's start by searching backwards for the `\n` before it.
                var start = 0, position = end
                search: while position > 0 {
                    let from = max(0, position - Self.chunk)
                    let bytes = try read(from..<position)
                    if let hit = bytes.lastIndex(of: 0x0A) { start = from + hit + 1; break search }
                    position = from
                }
                if let id = sessionID(try read(start..<end)) { return id }
                end = start - 1
            }
            return nil
        }

        /// The session id of a line's bytes (without its `\n`), by the counter's own rule.
        func sessionID(_ text: [UInt8]) -> [UInt8]? {
            var count = text.count
            if count > 0 && text[count - 1] == 0x0D { count -= 1 }
            return text.withUnsafeBufferPointer { buffer in
                CoWatchCounter.sessionID(of: UnsafeBufferPointer(rebasing: buffer[0..<count])).map(Array.init)
            }
        }
    }
}
