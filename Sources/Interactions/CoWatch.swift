import Contracts
import Distributed
import Foundation
import Support

extension InteractionReport {
    mutating func unmapped(_ bytes: UnsafeBufferPointer<UInt8>) {
        idsUnmapped += 1
        if unmappedExamples.count < 5 {
            let id = String(decoding: bytes, as: UTF8.self)
            if !unmappedExamples.contains(id) { unmappedExamples.append(id) }
        }
    }
}

/// Input line splitting shared by the counters.
@inline(__always)
func splitTabs(_ line: UnsafeBufferPointer<UInt8>, into fields: inout (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>)) -> Int {
    let base = line.baseAddress!
    var count = 0
    var start = 0
    var i = 0
    let n = line.count
    while true {
        if i == n || base[i] == 0x09 {
            let field = UnsafeBufferPointer(start: base + start, count: i - start)
            switch count {
            case 0: fields.0 = field
            case 1: fields.1 = field
            case 2: fields.2 = field
            default: break
            }
            count += 1
            if i == n { return count }
            start = i + 1
        }
        i += 1
    }
}

@inline(__always)
func isSkippable(_ line: UnsafeBufferPointer<UInt8>) -> Bool { line.isEmpty || line[0] == 0x23 /* # */ }

/// Whether split fields form a row of either input (two or three fields, the first two non-empty).
@inline(__always)
func isRow(_ fields: Int, _ f: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>)) -> Bool {
    (fields == 2 || fields == 3) && !f.0.isEmpty && !f.1.isEmpty
}

/// Counts co-watches from sessions: lines `session_id<TAB>video_id[<TAB>timestamp]`
/// in watch order, the lines of a session contiguous. Every pair of distinct
/// videos that appear within `window` consecutive watches of a session counts
/// once for that session; counts are summed over sessions. Watches of unknown
/// videos keep their place in the window but form no pairs.
public struct CoWatchCounter {
    /// Where ids are looked up (replaced batch by batch when the id map is partitioned over ranks).
    public var index: VideoIndex
    public let window: Int
    /// The input being read (named in errors).
    public var source: String
    public let skipMalformed: Bool
    public private(set) var pairs: PairCounter
    public private(set) var report = InteractionReport()
    /// Adds since the counter started or was last emptied by `takePairs()` (bounds the distinct pairs held).
    public private(set) var addsHeld = 0

    private var session: [UInt8] = []
    private var sessionOpen = false
    private var recent: [Int32]          // ring of the last window-1 watches (-1 = unknown video)
    private var recentCount = 0, recentNext = 0
    private var sessionPairs: [UInt64] = []

    public init(index: VideoIndex, window: Int, source: String, skipMalformed: Bool = false, expectedPairs: Int = 1 << 16) {
        precondition(window >= 2, "a window holds at least two watches")
        self.index = index
        self.window = window
        self.source = source
        self.skipMalformed = skipMalformed
        pairs = PairCounter(expectedPairs: expectedPairs)
        recent = [Int32](repeating: -1, count: window - 1)
        session.reserveCapacity(64)
        sessionPairs.reserveCapacity(1024)
    }

    /// Feeds one input line (without its line break).
    @inline(__always)
    public mutating func consume(_ line: UnsafeBufferPointer<UInt8>, lineNumber: Int) throws {
        if isSkippable(line) { return }
        report.lines += 1
        var f = (UnsafeBufferPointer<UInt8>(start: nil, count: 0), UnsafeBufferPointer<UInt8>(start: nil, count: 0),
                 UnsafeBufferPointer<UInt8>(start: nil, count: 0))
        let fields = splitTabs(line, into: &f)
        guard isRow(fields, f) else {
            try malformed(line, lineNumber, fields)
            return
        }
        if !sameSession(f.0) {
            endSession()
            session.removeAll(keepingCapacity: true)
            session.append(contentsOf: f.0)
            sessionOpen = true
            report.sessions += 1
        }
        let row: Int32
        if let found = index.lookup(f.1) {
            row = found
            report.idsMapped += 1
            // Pair with each of the previous window-1 watches (the ring holds exactly those).
            for j in 0..<recentCount {
                let other = recent[j]
                if other >= 0 && other != row { sessionPairs.append(PairSums.key(row, other)) }
            }
        } else {
            row = -1
            report.unmapped(f.1)
        }
        recent[recentNext] = row
        recentNext = recentNext + 1 == recent.count ? 0 : recentNext + 1
        if recentCount < recent.count { recentCount += 1 }
    }

    /// Flushes the last session; call once after the final line.
    public mutating func finish() { endSession() }

    /// The sums counted so far, handed over: counting goes on into the emptied counter, and the
    /// session still open is counted whole later (a session's pairs are added when it ends).
    public mutating func takePairs() -> PairSums {
        addsHeld = 0
        return pairs.sortedSums()
    }

    /// Ends one input file (or byte range): sessions never continue into the next input,
    /// so a session id met again there starts a new session.
    public mutating func finishInput() {
        endSession()
        sessionOpen = false
    }

    /// The session id of a line when it is a session row (nil for blank, comment and malformed lines):
    /// the rule by which the counter groups rows, used to cut inputs between sessions.
    static func sessionID(of line: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        if isSkippable(line) { return nil }
        var f = (UnsafeBufferPointer<UInt8>(start: nil, count: 0), UnsafeBufferPointer<UInt8>(start: nil, count: 0),
                 UnsafeBufferPointer<UInt8>(start: nil, count: 0))
        return isRow(splitTabs(line, into: &f), f) ? f.0 : nil
    }

    @inline(__always)
    private func sameSession(_ id: UnsafeBufferPointer<UInt8>) -> Bool {
        guard id.count == session.count, sessionOpen else { return false }
        return session.withUnsafeBufferPointer { VideoIndex.bytesEqual($0.baseAddress!, id.baseAddress!, id.count) }
    }

    private mutating func endSession() {
        recentCount = 0
        recentNext = 0
        guard !sessionPairs.isEmpty else { return }
        // A pair counts once per session however often it co-occurs in it: repeats are dropped
        // in place, then the distinct keys are added in one batch.
        sessionPairs.sort()
        let pairs = self.pairs
        let distinct = sessionPairs.withUnsafeMutableBufferPointer { keys -> Int in
            var distinct = 1
            for i in 1..<keys.count where keys[i] != keys[distinct - 1] {
                keys[distinct] = keys[i]
                distinct += 1
            }
            pairs.add(keys: UnsafeBufferPointer(rebasing: keys[..<distinct]), 1)
            return distinct
        }
        addsHeld += distinct
        sessionPairs.removeAll(keepingCapacity: true)
    }

    private mutating func malformed(_ line: UnsafeBufferPointer<UInt8>, _ number: Int, _ fields: Int) throws {
        try report.malformed(line, number: number, in: source, format: "session_id<TAB>video_id[<TAB>timestamp]",
                             problem: "\(fields) field(s)", skip: skipMalformed)
    }
}

/// Sums weights from pair lines `a<TAB>b[<TAB>weight]` (weight 1 when absent).
/// Both directions and repeated lines add up: the result is undirected.
public struct PairListCounter {
    /// Where ids are looked up (replaced batch by batch when the id map is partitioned over ranks).
    public var index: VideoIndex
    /// The input being read (named in errors).
    public var source: String
    public let skipMalformed: Bool
    public private(set) var pairs: PairCounter
    public private(set) var report = InteractionReport()
    /// Every add in arrival order, unsummed (when recording): weights are summed in input order,
    /// so ranks hand their adds on to the pair's owner rather than partial sums.
    public private(set) var adds: (keys: [UInt64], values: [Double])?
    private var number = [CChar](repeating: 0, count: 64)

    public init(index: VideoIndex, source: String, skipMalformed: Bool = false, expectedPairs: Int = 1 << 16, recordingAdds: Bool = false) {
        self.index = index
        self.source = source
        self.skipMalformed = skipMalformed
        pairs = PairCounter(expectedPairs: recordingAdds ? 16 : expectedPairs)
        if recordingAdds { adds = ([], []) }
    }

    public mutating func consume(_ line: UnsafeBufferPointer<UInt8>, lineNumber: Int) throws {
        if isSkippable(line) { return }
        report.lines += 1
        var f = (UnsafeBufferPointer<UInt8>(start: nil, count: 0), UnsafeBufferPointer<UInt8>(start: nil, count: 0),
                 UnsafeBufferPointer<UInt8>(start: nil, count: 0))
        let fields = splitTabs(line, into: &f)
        guard isRow(fields, f) else {
            return try malformed(line, lineNumber, "\(fields) field(s)")
        }
        var weight = 1.0
        if fields == 3 {
            guard let parsed = parse(f.2) else { return try malformed(line, lineNumber, "weight \"\(String(decoding: f.2, as: UTF8.self))\"") }
            guard parsed.isFinite, parsed >= 0, parsed <= Double(Float.greatestFiniteMagnitude) else {
                throw GCMLError(file: source, object: "line \(lineNumber)", expected: "a finite, non-negative weight within float32 range",
                                found: String(decoding: f.2, as: UTF8.self))
            }
            weight = parsed
        }
        let a = index.lookup(f.0), b = index.lookup(f.1)
        if a == nil { report.unmapped(f.0) } else { report.idsMapped += 1 }
        if b == nil { report.unmapped(f.1) } else { report.idsMapped += 1 }
        guard let a, let b else { return }
        if a == b { report.selfPairs += 1; return }
        if adds != nil {
            adds!.keys.append(PairSums.key(a, b))
            adds!.values.append(weight)
        } else {
            pairs.add(key: PairSums.key(a, b), weight)
        }
    }

    private mutating func parse(_ field: UnsafeBufferPointer<UInt8>) -> Double? {
        guard !field.isEmpty, field.count < number.count else { return nil }
        return number.withUnsafeMutableBufferPointer { buffer -> Double? in
            let raw = UnsafeMutableRawPointer(buffer.baseAddress!)
            raw.copyMemory(from: field.baseAddress!, byteCount: field.count)
            buffer[field.count] = 0
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(buffer.baseAddress!, &end)
            guard let end, end == buffer.baseAddress! + field.count else { return nil }
            return value
        }
    }

    private mutating func malformed(_ line: UnsafeBufferPointer<UInt8>, _ number: Int, _ what: String) throws {
        try report.malformed(line, number: number, in: source, format: "a<TAB>b[<TAB>weight]", problem: what, skip: skipMalformed)
    }
}

extension InteractionReport {
    /// A malformed input line: counted when skipping, otherwise an error naming file, line, format and text.
    mutating func malformed(_ line: UnsafeBufferPointer<UInt8>, number: Int, in source: String, format: String,
                            problem: String, skip: Bool) throws {
        if skip {
            malformedLines += 1
            if firstMalformedLine == nil { firstMalformedLine = number }
            return
        }
        let text = String(decoding: line.prefix(120), as: UTF8.self)
        throw GCMLError(file: source, object: "line \(number)", expected: "\(format)",
                        found: "\(problem): \"\(text)\" (\(parameter: "skipMalformed") skips such lines)")
    }
}

/// A line-by-line counter of interactions (sessions or pairs) into pair weights.
protocol InteractionCounter {
    /// Whether a row's first field is an id (pairs) as well as its second (sessions: the session id).
    static var looksUpFirstField: Bool { get }
    var index: VideoIndex { get set }
    var pairs: PairCounter { get }
    var report: InteractionReport { get }
    var source: String { get set }
    mutating func consume(_ line: UnsafeBufferPointer<UInt8>, lineNumber: Int) throws
    /// Called after the last line of each input (a session still open is closed).
    mutating func finishInput()
}

extension CoWatchCounter: InteractionCounter {
    static var looksUpFirstField: Bool { false }
}
extension PairListCounter: InteractionCounter {
    static var looksUpFirstField: Bool { true }
    mutating func finishInput() {}
}

/// Reading whole inputs with progress.
public enum Interactions {
    /// Counts co-watches of session files (plain, .gz or .zst), or byte ranges of them; a session
    /// ends with its file (or range).
    public static func countSessions(pieces: [InputPiece], index: VideoIndex, window: Int, skipMalformed: Bool = false,
                                     progress reporter: ProgressReporter = .unnamed) throws
        -> (pairs: PairSums, report: InteractionReport) {
        var counter = CoWatchCounter(index: index, window: window, source: pieces.first?.name ?? "", skipMalformed: skipMalformed)
        try count(pieces, into: &counter, progress: reporter.progress("sessions", unit: "rows"), unit: "rows")
        return (counter.pairs.sortedSums(), counter.report)
    }

    /// Counts co-watches like `countSessions` but hands the sums on in blocks: whenever `blockAdds`
    /// adds are held (checked at line ends), `deliver` gets their sums and counting goes on from
    /// empty; the last block (`last` true) is delivered at the end. A pair's sum is the sum of its blocks'.
    public static func countSessions(pieces: [InputPiece], index: VideoIndex, window: Int, skipMalformed: Bool = false,
                                     blockAdds: Int, progress reporter: ProgressReporter = .unnamed,
                                     deliver: (_ block: inout PairSums, _ last: Bool) throws -> Void) throws -> InteractionReport {
        precondition(blockAdds >= 1)
        var counter = CoWatchCounter(index: index, window: window, source: pieces.first?.name ?? "", skipMalformed: skipMalformed)
        try count(pieces, into: &counter, progress: reporter.progress("sessions", unit: "rows"), unit: "rows", inBlocks: true) { counter in
            if counter.addsHeld >= blockAdds {
                var block = counter.takePairs()
                try deliver(&block, false)
            }
        }
        var block = counter.takePairs()
        try deliver(&block, true)
        return counter.report
    }

    /// Counts co-watches of a session file (plain, .gz or .zst).
    public static func countSessions(path: String, index: VideoIndex, window: Int, skipMalformed: Bool = false,
                                     progress reporter: ProgressReporter = .unnamed) throws
        -> (pairs: PairSums, report: InteractionReport) {
        try countSessions(pieces: [InputPiece(path: path)], index: index, window: window, skipMalformed: skipMalformed, progress: reporter)
    }

    /// Sums pair weights of pair files (plain, .gz or .zst), or byte ranges of them.
    public static func countPairs(pieces: [InputPiece], index: VideoIndex, skipMalformed: Bool = false,
                                  progress reporter: ProgressReporter = .unnamed) throws
        -> (pairs: PairSums, report: InteractionReport) {
        var counter = PairListCounter(index: index, source: pieces.first?.name ?? "", skipMalformed: skipMalformed)
        try count(pieces, into: &counter, progress: reporter.progress("pairs", unit: "lines"), unit: "lines")
        return (counter.pairs.sortedSums(), counter.report)
    }

    /// Every pair add of pair files or byte ranges, in input order and unsummed (for summing elsewhere in that order).
    /// With `map` partitioned, read in batches whose ids the owners resolve (collective).
    static func recordPairs(pieces: [InputPiece], map: VideoRowMap, batchLines: Int, skipMalformed: Bool, communicator: Communicator,
                            progress reporter: ProgressReporter) throws -> (keys: [UInt64], values: [Double], report: InteractionReport) {
        var counter = PairListCounter(index: map.index, source: pieces.first?.name ?? "", skipMalformed: skipMalformed, recordingAdds: true)
        let progress = reporter.progress("pairs", unit: "lines")
        if map.isPartitioned {
            try countInBatches(pieces, into: &counter, map: map, batchLines: batchLines, progress: progress, unit: "lines") { _, done in
                communicator.allreduce(Int64(done ? 1 : 0)) == Int64(communicator.size)
            }
        } else {
            try count(pieces, into: &counter, progress: progress, unit: "lines")
        }
        return (counter.adds?.keys ?? [], counter.adds?.values ?? [], counter.report)
    }

    /// Sums pair weights of a pair file (plain, .gz or .zst).
    public static func countPairs(path: String, index: VideoIndex, skipMalformed: Bool = false,
                                  progress reporter: ProgressReporter = .unnamed) throws
        -> (pairs: PairSums, report: InteractionReport) {
        try countPairs(pieces: [InputPiece(path: path)], index: index, skipMalformed: skipMalformed, progress: reporter)
    }

    /// Feeds every line of every piece, in order, to `counter`, advancing `progress` every 2^20 lines;
    /// `afterLine` sees the counter after each line (`inBlocks`: it takes pairs away, so the note leaves them out).
    static func count<Counter: InteractionCounter>(_ pieces: [InputPiece], into counter: inout Counter,
                                                   progress: Support.Progress, unit: String, inBlocks: Bool = false,
                                                   afterLine: (inout Counter) throws -> Void = { _ in }) throws {
        var pending = 0
        for piece in pieces {
            let input = try TextInput(path: piece.path, bytes: piece.bytes)
            counter.source = piece.name
            try input.forEachLine { line, number in
                try counter.consume(line, lineNumber: number)
                try afterLine(&counter)
                pending += 1
                if pending == 1 << 20 {
                    progress.advance(by: pending)
                    pending = 0
                }
            }
            counter.finishInput()
        }
        progress.advance(by: pending)
        let pairs = inBlocks ? "" : ", \(counter.pairs.count) distinct pairs"
        progress.finish(note: "\(counter.report.lines) \(unit)\(pairs)")
    }
}
