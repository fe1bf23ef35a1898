import Contracts
import Foundation
import Interactions
import Support
import TestSupport
import XCTest

/// `InputSplit` against a brute-force reading of the same bytes: every line (every session)
/// read by exactly one rank, in order, whatever the cuts hit.
final class InputSplitTests: FolderTestCase {
    /// Random session text with the awkward cases: CRLF and LF endings, blank lines, comments,
    /// malformed rows, lines much longer than a rank's share, sessions of 1 to 12 rows, a session
    /// id met again later, and (every other text) no final newline.
    func awkwardText(_ random: inout SeededGenerator, lines: Int, finalNewline: Bool) -> [UInt8] {
        var text = ""
        var session = 0, left = 0
        for line in 0..<lines {
            if left == 0 { session = random.below(4) == 0 ? max(0, session - 2) : session + 1; left = 1 + random.below(12) }
            left -= 1
            let kind = random.below(20)
            var row: String
            switch kind {
            case 0: row = ""
            case 1: row = "# comment \(line)"
            case 2: row = "malformed \(line)"
            case 3: row = "s\(session)\tv\(random.below(50))\t" + String(repeating: "x", count: 200 + random.below(400))
            default: row = "s\(session)\tv\(random.below(50))"
            }
            text += row + (random.below(3) == 0 ? "\r\n" : "\n")
        }
        if !finalNewline {
            while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        }
        return Array(text.utf8)
    }

    /// Line starts (0 and after each `\n`, below the end).
    func lineStarts(_ bytes: [UInt8]) -> [Int] {
        var starts = [0]
        for (i, byte) in bytes.enumerated() where byte == 0x0A && i + 1 < bytes.count { starts.append(i + 1) }
        return bytes.isEmpty ? [] : starts
    }

    /// The starts of lines that begin a session: session rows (2–3 tab-separated fields, the first two
    /// non-empty, not a comment) whose id differs from the previous session row's.
    func sessionStarts(_ bytes: [UInt8]) -> [Int] {
        let starts = lineStarts(bytes)
        var result: [Int] = []
        var previous: String?
        for (i, start) in starts.enumerated() {
            let end = i + 1 < starts.count ? starts[i + 1] : bytes.count
            // Bytes, not String: Swift reads "\r\n" as one character.
            var line = Array(bytes[start..<end])
            if line.last == 0x0A { line.removeLast() }
            if line.last == 0x0D { line.removeLast() }
            let fields = line.split(separator: 0x09, omittingEmptySubsequences: false)
            guard !line.isEmpty, line[0] != 0x23, fields.count == 2 || fields.count == 3, !fields[0].isEmpty, !fields[1].isEmpty else { continue }
            let id = String(decoding: fields[0], as: UTF8.self)
            if id != previous { result.append(start) }
            previous = id
        }
        return result
    }

    /// Brute force: rank r reads from the first boundary at or after its nominal cut to the next rank's.
    func expectedRanges(_ bytes: [UInt8], ranks: Int, boundaries: [Int]) -> [Range<Int>] {
        let total = bytes.count
        func cut(_ r: Int) -> Int {
            if r == 0 { return 0 }
            if r == ranks { return total }
            let nominal = Int((Double(total) * Double(r) / Double(ranks)).rounded(.down))
            // A line belongs to the rank holding its first byte; the session boundary is the first at or after that line.
            let line = lineStarts(bytes).first { $0 >= nominal } ?? total
            // The start of a file is a boundary.
            return line == 0 ? 0 : boundaries.first { $0 >= line } ?? total
        }
        return (0..<ranks).map { cut($0)..<cut($0 + 1) }
    }

    func testCutsFallOnLineAndSessionBoundariesLikeABruteForceReading() throws {
        var random = SeededGenerator(seed: 17)
        for trial in 0..<12 {
            let bytes = awkwardText(&random, lines: 20 + random.below(60), finalNewline: trial % 2 == 0)
            let file = path("t\(trial).tsv")
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            for ranks in [1, 2, 3, 5, 8, 40] {
                for (boundary, starts) in [(InputSplit.Boundary.line, lineStarts(bytes)), (.session, sessionStarts(bytes))] {
                    let expected = expectedRanges(bytes, ranks: ranks, boundaries: starts)
                    var covered = 0
                    for rank in 0..<ranks {
                        let pieces = try InputSplit.pieces(of: [file], rank: rank, of: ranks, boundary: boundary)
                        let got = pieces.map { $0.bytes ?? 0..<bytes.count }
                        let want = expected[rank].isEmpty ? [] : [expected[rank]]
                        XCTAssertEqual(got, want, "trial \(trial), \(ranks) ranks, rank \(rank), \(boundary)")
                        for range in got {
                            XCTAssertEqual(range.lowerBound, covered, "pieces leave a gap or overlap")
                            covered = range.upperBound
                        }
                    }
                    XCTAssertEqual(covered, bytes.count, "trial \(trial), \(ranks) ranks: not every byte read")
                }
            }
        }
    }

    func testFilesGoWholeWhenCompressedAndEveryFileIsReadOnceInOrder() throws {
        var random = SeededGenerator(seed: 5)
        let plain = path("a.tsv"), other = path("c.tsv")
        try Data(awkwardText(&random, lines: 40, finalNewline: true)).write(to: URL(fileURLWithPath: plain))
        try Data(awkwardText(&random, lines: 30, finalNewline: false)).write(to: URL(fileURLWithPath: other))
        // gzip magic bytes and some payload: never cut, whatever its size.
        try Data([0x1f, 0x8b] + [UInt8](repeating: 7, count: 3000)).write(to: URL(fileURLWithPath: path("b.gz")))
        let files = try InputSplit.paths(folder + "/a.tsv," + folder + "/b.g?," + folder + "/c.*")
        XCTAssertEqual(files, [plain, path("b.gz"), other])
        for ranks in 1...6 {
            var read: [String: [Range<Int>]] = [:], order: [String] = []
            for rank in 0..<ranks {
                for piece in try InputSplit.pieces(of: files, rank: rank, of: ranks, boundary: .session) {
                    let size = try FileManager.default.attributesOfItem(atPath: piece.path)[.size] as! Int
                    if piece.path.hasSuffix(".gz") { XCTAssertNil(piece.bytes, "a compressed file was cut") }
                    read[piece.path, default: []].append(piece.bytes ?? 0..<size)
                    if order.last != piece.path { order.append(piece.path) }
                }
            }
            XCTAssertEqual(order, files, "\(ranks) ranks")
            for file in files {
                let size = try FileManager.default.attributesOfItem(atPath: file)[.size] as! Int
                let ranges = read[file] ?? []
                XCTAssertEqual(ranges.first?.lowerBound, 0)
                XCTAssertEqual(ranges.last?.upperBound, size)
                for (x, y) in zip(ranges, ranges.dropFirst()) { XCTAssertEqual(x.upperBound, y.lowerBound, "\(file): gap or overlap") }
            }
        }
        XCTAssertThrowsError(try InputSplit.paths(folder + "/none-*.tsv"))
    }

    /// One session over the whole file (longer than any rank's range) is read by the first rank alone.
    func testASessionLongerThanEveryRangeStaysWithTheFirstRank() throws {
        let text = "# log\n" + (0..<5000).map { "s1\tv\($0 % 7)\r\n" }.joined() + "s2\tv1"
        let file = path("one.tsv")
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let size = text.utf8.count, last = size - "s2\tv1".utf8.count
        for ranks in [2, 3, 7] {
            let pieces = try (0..<ranks).map { try InputSplit.pieces(of: [file], rank: $0, of: ranks, boundary: .session) }
            XCTAssertEqual(pieces[0], [InputPiece(path: file, bytes: 0..<last)], "\(ranks) ranks")
            XCTAssertEqual(pieces[ranks - 1], [InputPiece(path: file, bytes: last..<size)], "\(ranks) ranks")
            for middle in pieces.dropFirst().dropLast() { XCTAssertEqual(middle, []) }
        }
    }

    /// A session split over two files is two sessions, one process or many (what the ranks can reproduce).
    func testASessionEndsWithItsFile() throws {
        try "s1\tv0\ns1\tv1\n".write(toFile: path("x.tsv"), atomically: true, encoding: .utf8)
        try "s1\tv2\n".write(toFile: path("y.tsv"), atomically: true, encoding: .utf8)
        let index = try VideoIndex(ids: ["v0", "v1", "v2"])
        let counted = try Interactions.countSessions(pieces: [InputPiece(path: path("x.tsv")), InputPiece(path: path("y.tsv"))],
                                                     index: index, window: 5)
        XCTAssertEqual(counted.report.sessions, 2)
        XCTAssertEqual(counted.pairs.keys, [PairSums.key(0, 1)])
    }
}
