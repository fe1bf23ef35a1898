import Artifacts
import Contracts
import Distributed
import Foundation
import Support

/// How the ranks of a job map video ids to feature rows. Replicated: every rank indexes every id
/// (about 50 B per video: a String, its bytes in an arena, an offset, two table slots).
/// Partitioned: each rank indexes the ids it owns (`VideoIndex.owner`, a hash of the id) with their
/// rows, and input is read in batches whose distinct ids are sent to their owners, which answer
/// with rows (one request/answer all-to-all per batch): per rank ~50 B × videos / P, plus a batch.
public final class VideoRowMap {
    /// Videos in the features file.
    public let count: Int
    /// Replicated: every id. Partitioned: the ids this rank owns, with their rows.
    public let index: VideoIndex
    public let isPartitioned: Bool
    /// The rows this rank read the ids of (all when replicated; partitioned: `share(of: count)`).
    public let share: Range<Int>
    /// The ids of `share`, in row order.
    public let shareIDs: [String]
    let communicator: Communicator
    /// Bytes this rank sent to other ranks resolving ids (requests and answers), after loading.
    public private(set) var bytesSent = 0

    init(count: Int, index: VideoIndex, isPartitioned: Bool, share: Range<Int>, shareIDs: [String], communicator: Communicator) {
        (self.count, self.index, self.isPartitioned, self.share, self.shareIDs, self.communicator) =
            (count, index, isPartitioned, share, shareIDs, communicator)
    }

    /// From about this many videos on, `auto` partitions the map over ranks: below it the
    /// replicated map (~50 B per video, ~0.5 GB at 10⁷) costs less than a round trip per batch.
    public static let partitionFrom = 10_000_000

    public enum Mode: String, CaseIterable, Sendable {
        /// Partitioned when launched on several ranks and the features hold ≥ `partitionFrom` videos.
        case auto, replicated, partitioned
    }

    /// Reads the ids of `features` as `mode` says (one process always replicates).
    public static func load(features: String, mode: Mode, communicator: Communicator) throws -> VideoRowMap {
        let count = try FeatureTable.videoCount(features)
        let partitioned = communicator.size > 1 && (mode == .partitioned || (mode == .auto && count >= partitionFrom))
        guard partitioned else {
            let ids = try FeatureTable.readVideoIDs(features)
            return VideoRowMap(count: ids.count, index: try VideoIndex(ids: ids, source: features), isPartitioned: false,
                               share: 0..<ids.count, shareIDs: ids, communicator: communicator)
        }
        let share = communicator.share(of: count)
        let ids = try FeatureTable.readVideoIDs(features, rows: share)
        // Each (id, row) to the id's owner, which indexes what it receives (rows in rank order, so
        // a repeated id is reported at its first two rows an owner sees).
        var bytes: [UInt8] = [], lengths: [Int64] = [], destinations: [Int] = []
        for id in ids {
            var id = id
            id.withUTF8 { utf8 in
                destinations.append(VideoIndex.owner(utf8, parts: communicator.size))
                bytes.append(contentsOf: utf8)
            }
            lengths.append(Int64(id.utf8.count))
        }
        let received = try exchange(bytes: bytes, lengths: lengths, destinations: destinations,
                                    extra: share.map { Int64($0) }, communicator: communicator)
        var owned = VideoIndex(expectedIDs: received.lengths.count)
        var start = 0
        for (length, row) in zip(received.lengths, received.extra) {
            let end = start + Int(length)
            let earlier = received.bytes.withUnsafeBufferPointer { owned.insert(UnsafeBufferPointer(rebasing: $0[start..<end]), row: Int32(row)) }
            if let earlier {
                throw GCMLError(file: features, object: DatasetPath.videoID, expected: "unique video ids",
                                found: "\"\(String(decoding: received.bytes[start..<end], as: UTF8.self))\" at rows \(earlier) and \(row)")
            }
            start = end
        }
        return VideoRowMap(count: count, index: owned, isPartitioned: true, share: share, shareIDs: ids, communicator: communicator)
    }

    /// Partitioned: the rows of the distinct ids of `batch` (collective: every rank calls it once
    /// per batch step), as an index of those ids; unknown ids map to nil. Replicated: the whole index.
    func rows(of batch: VideoIndex) throws -> VideoIndex {
        guard isPartitioned else { return index }
        var bytes: [UInt8] = [], lengths: [Int64] = [], destinations: [Int] = []
        for entry in 0..<batch.count {
            let id = batch.idBytes(entry)
            id.withUnsafeBufferPointer { destinations.append(VideoIndex.owner($0, parts: communicator.size)) }
            bytes.append(contentsOf: id)
            lengths.append(Int64(id.count))
        }
        // Requests arrive grouped by sender; answers go back in the same order.
        let asked = try Self.exchange(bytes: bytes, lengths: lengths, destinations: destinations, extra: nil, communicator: communicator)
        var answers = [Int64](), start = 0
        answers.reserveCapacity(asked.lengths.count)
        for length in asked.lengths {
            let end = start + Int(length)
            answers.append(Int64(asked.bytes.withUnsafeBufferPointer { index.lookup(UnsafeBufferPointer(rebasing: $0[start..<end])) } ?? -1))
            start = end
        }
        let rows = try communicator.alltoallv(flat: answers, counts: asked.counts).values
        bytesSent += asked.bytesSent + (answers.count - asked.counts[communicator.rank]) * MemoryLayout<Int64>.size
        // Rows came back grouped by owner, in the order asked: walk the entries in that order.
        var resolved = VideoIndex(expectedIDs: batch.count)
        var next = Self.starts(of: destinations, parts: communicator.size)
        for entry in 0..<batch.count {
            let row = rows[next[destinations[entry]]]
            next[destinations[entry]] += 1
            let id = batch.idBytes(entry)
            id.withUnsafeBufferPointer { _ = resolved.insert($0, row: Int32(truncatingIfNeeded: row)) }
        }
        return resolved
    }

    /// Sends ids (bytes with lengths, and optionally one more value each) to `destinations`; what arrived,
    /// rank 0's first, and how many ids came from each rank.
    static func exchange(bytes: [UInt8], lengths: [Int64], destinations: [Int], extra: [Int64]?, communicator: Communicator) throws
        -> (bytes: [UInt8], lengths: [Int64], extra: [Int64], counts: [Int], bytesSent: Int) {
        let ranks = communicator.size
        // Ids grouped by destination, in their order within each (a counting layout, not a sort).
        var order = [Int](repeating: 0, count: lengths.count)
        var next = starts(of: destinations, parts: ranks)
        for (i, destination) in destinations.enumerated() {
            order[next[destination]] = i
            next[destination] += 1
        }
        var starts = [Int](repeating: 0, count: lengths.count)
        for i in 1..<max(1, lengths.count) { starts[i] = starts[i - 1] + Int(lengths[i - 1]) }
        var sendBytes = [UInt8](), byteCounts = [Int](repeating: 0, count: ranks), idCounts = [Int](repeating: 0, count: ranks)
        sendBytes.reserveCapacity(bytes.count)
        for i in order {
            sendBytes.append(contentsOf: bytes[starts[i]..<(starts[i] + Int(lengths[i]))])
            byteCounts[destinations[i]] += Int(lengths[i])
            idCounts[destinations[i]] += 1
        }
        let receivedBytes = try communicator.alltoallv(flat: sendBytes, counts: byteCounts).values
        let (receivedLengths, counts) = try communicator.alltoallv(flat: order.map { lengths[$0] }, counts: idCounts)
        let receivedExtra = try extra.map { values in try communicator.alltoallv(flat: order.map { values[$0] }, counts: idCounts).values } ?? []
        let rank = communicator.rank
        let sent = byteCounts.indices.filter { $0 != rank }.reduce(0) { $0 + byteCounts[$1] + idCounts[$1] * (extra == nil ? 8 : 16) }
        return (receivedBytes, receivedLengths, receivedExtra, counts, sent)
    }

    /// Where each destination's records start when records are laid out by destination, in order.
    static func starts(of destinations: [Int], parts: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: parts)
        for d in destinations { counts[d] += 1 }
        var starts = [Int](repeating: 0, count: parts)
        for p in 1..<max(1, parts) { starts[p] = starts[p - 1] + counts[p - 1] }
        return starts
    }
}

extension Interactions {
    /// Lines a rank reads before resolving their ids when the id map is partitioned (~4 MB of session text).
    /// Small enough that a batch's adds (~0.8 M session pairs) overshoot the exchange block by little.
    public static let defaultBatchLines = 1 << 18

    /// Reading with the id map partitioned over ranks: lines are kept in batches of `batchLines`;
    /// at each batch step every rank (collectively) asks the owners for the rows of its batch's
    /// distinct ids, feeds the batch to `counter` (the lines, pieces and line numbers exactly as
    /// `count` feeds them), then calls `afterBatch(&counter, done)` — once per step on every rank,
    /// `done` when this rank has fed all its input — which says whether every rank is done.
    static func countInBatches<Counter: InteractionCounter>(_ pieces: [InputPiece], into counter: inout Counter, map: VideoRowMap,
                                                            batchLines: Int, progress: Support.Progress, unit: String,
                                                            afterBatch: (inout Counter, _ done: Bool) throws -> Bool) throws {
        precondition(batchLines >= 1)
        var text: [UInt8] = [], ends: [Int] = [], numbers: [Int] = [], pieceOf: [Int] = []
        var fed = -1
        func step(done: Bool) throws -> Bool {
            var asked = VideoIndex(expectedIDs: ends.count)
            text.withUnsafeBufferPointer { bytes in
                var start = 0
                for end in ends {
                    let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
                    start = end
                    if isSkippable(line) { continue }
                    var f = (UnsafeBufferPointer<UInt8>(start: nil, count: 0), UnsafeBufferPointer<UInt8>(start: nil, count: 0),
                             UnsafeBufferPointer<UInt8>(start: nil, count: 0))
                    guard isRow(splitTabs(line, into: &f), f) else { continue }
                    // Every id `consume` may look up (a superset: a pair line with a bad weight asks too).
                    if Counter.looksUpFirstField { asked.insert(f.0, row: 0) }
                    asked.insert(f.1, row: 0)
                }
            }
            counter.index = try map.rows(of: asked)
            try text.withUnsafeBufferPointer { bytes in
                var start = 0
                for (i, end) in ends.enumerated() {
                    if pieceOf[i] != fed {
                        if fed >= 0 { counter.finishInput() }
                        fed = pieceOf[i]
                        counter.source = pieces[fed].name
                    }
                    try counter.consume(UnsafeBufferPointer(rebasing: bytes[start..<end]), lineNumber: numbers[i])
                    start = end
                }
            }
            progress.advance(by: ends.count)
            text.removeAll(keepingCapacity: true)
            (ends, numbers, pieceOf) = ([], [], [])
            if done && fed >= 0 {
                counter.finishInput()
                fed = -1
            }
            return try afterBatch(&counter, done)
        }
        for (p, piece) in pieces.enumerated() {
            let input = try TextInput(path: piece.path, bytes: piece.bytes)
            try input.forEachLine { line, number in
                text.append(contentsOf: line)
                ends.append(text.count)
                numbers.append(number)
                pieceOf.append(p)
                if ends.count == batchLines {
                    // Steps with lines left to read never end the rounds.
                    _ = try step(done: false)
                }
            }
        }
        while try !step(done: true) {}
        progress.finish(note: "\(counter.report.lines) \(unit)")
    }
}
