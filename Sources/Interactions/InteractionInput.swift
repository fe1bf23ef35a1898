import Contracts
import Distributed
import Support

/// An interaction log a graph is built from: co-watch sessions or weighted pairs. `path` is one
/// file, or a comma-separated list of files and glob patterns read in order (`InputSplit.paths`).
public enum InteractionInput {
    case sessions(path: String, window: Int)
    case pairs(path: String)

    public var path: String {
        switch self {
        case .sessions(let path, _), .pairs(let path): return path
        }
    }

    /// The files the input names.
    public func files() throws -> [String] { try InputSplit.paths(path) }

    /// The pair sums over the videos of `map` (the rows of `features`), with what reading found;
    /// warns about unknown ids and skipped lines, and fails when no id is known at all.
    ///
    /// Under several ranks each rank reads its share of the input (`InputSplit`) and the pairs
    /// go to their owner rank (`PairRouting`): the result is this rank's share of the pairs, the
    /// one-process sums bit for bit; the report is summed over ranks. Session counts go to the owners
    /// in rounds of `exchangeBlock` adds per rank (`PairRouting.Rounds`); weighted pairs are summed
    /// in input order, so their adds go unsummed in one exchange after reading. With the map
    /// partitioned, ranks read in batches of `batchLines` lines whose ids the owners resolve
    /// (`Interactions.countInBatches`), and session counts go to their owners at batch ends.
    public func count(map: VideoRowMap, features: String, skipMalformed: Bool, communicator: Communicator = .serial,
                      exchangeBlock: Int = PairRouting.defaultBlockAdds, batchLines: Int = Interactions.defaultBatchLines,
                      progress: ProgressReporter = .unnamed) throws
        -> (pairs: PairSums, report: InteractionReport, bytesSent: Int) {
        let index = map.index
        let boundary: InputSplit.Boundary
        if case .sessions = self { boundary = .session } else { boundary = .line }
        let pieces = try InputSplit.pieces(of: try files(), rank: communicator.rank, of: communicator.size, boundary: boundary)
        let reporter = progress
        var counted: (pairs: PairSums, report: InteractionReport, bytesSent: Int)
        switch self {
        case .sessions(_, let window):
            if map.isPartitioned {
                let rounds = PairRouting.Rounds(communicator: communicator)
                var counter = CoWatchCounter(index: index, window: window, source: pieces.first?.name ?? "", skipMalformed: skipMalformed)
                try Interactions.countInBatches(pieces, into: &counter, map: map, batchLines: batchLines,
                                                progress: reporter.progress("sessions", unit: "rows"), unit: "rows") { counter, done in
                    let send = done || counter.addsHeld >= exchangeBlock
                    var block = send ? counter.takePairs() : PairSums(keys: [], values: [])
                    try rounds.exchange(&block, last: done)
                    return rounds.everyRankDone
                }
                let pairs = try rounds.finish()
                note("\(communicator.label): sent session counts to their owner ranks in \(rounds.rounds) round(s)")
                counted = (pairs, counter.report, rounds.bytesSent + map.bytesSent)
            } else if communicator.size == 1 {
                let local = try Interactions.countSessions(pieces: pieces, index: index, window: window, skipMalformed: skipMalformed,
                                                           progress: reporter)
                let routed = try PairRouting.route(local.pairs.keys, local.pairs.values, communicator: communicator)
                counted = (routed.pairs, local.report, routed.bytesSent)
            } else {
                // Session counts are whole numbers: partial sums add up exactly in any grouping and order,
                // so blocks go to the owners as they are counted.
                let rounds = PairRouting.Rounds(communicator: communicator)
                let report = try Interactions.countSessions(pieces: pieces, index: index, window: window, skipMalformed: skipMalformed,
                                                            blockAdds: exchangeBlock, progress: reporter) { block, last in
                    try rounds.exchange(&block, last: last)
                }
                let pairs = try rounds.finish()
                note("\(communicator.label): sent session counts to their owner ranks in \(rounds.rounds) round(s)")
                counted = (pairs, report, rounds.bytesSent)
            }
        case .pairs:
            if communicator.size == 1 {
                let local = try Interactions.countPairs(pieces: pieces, index: index, skipMalformed: skipMalformed, progress: reporter)
                counted = (local.pairs, local.report, 0)
            } else {
                // Weights are summed in input order: every add goes to the owner unsummed, in order.
                let local = try Interactions.recordPairs(pieces: pieces, map: map, batchLines: batchLines, skipMalformed: skipMalformed,
                                                         communicator: communicator, progress: reporter)
                let routed = try PairRouting.route(local.keys, local.values, communicator: communicator)
                counted = (routed.pairs, local.report, routed.bytesSent + map.bytesSent)
            }
        }
        counted.report = try counted.report.summed(over: communicator)
        let report = counted.report
        if communicator.isRoot {
            if let warning = report.unmappedWarning { note(warning) }
            if report.malformedLines > 0 {
                let first = communicator.size == 1 ? ", the first at line \(report.firstMalformedLine ?? 0)" : ""
                note("warning: skipped \(report.malformedLines) malformed line(s)\(first)")
            }
        }
        guard report.idsMapped > 0 else {
            throw GCMLError(file: path, expected: "video ids found in \(features)",
                            found: "none of \(report.idsUnmapped) id occurrence(s) (e.g. \(report.unmappedExamples.joined(separator: ", ")))")
        }
        return counted
    }
}

extension InteractionReport {
    /// The counts summed over ranks, the first few unknown ids in rank order (the same on every rank).
    func summed(over communicator: Communicator) throws -> InteractionReport {
        guard communicator.size > 1 else { return self }
        var counts = [lines, sessions, idsMapped, idsUnmapped, malformedLines, selfPairs].map(Int64.init)
        communicator.allreduce(&counts)
        var result = InteractionReport()
        (result.lines, result.sessions, result.idsMapped) = (Int(counts[0]), Int(counts[1]), Int(counts[2]))
        (result.idsUnmapped, result.malformedLines, result.selfPairs) = (Int(counts[3]), Int(counts[4]), Int(counts[5]))
        for id in try communicator.allgather(strings: unmappedExamples).joined() where result.unmappedExamples.count < 5 {
            if !result.unmappedExamples.contains(id) { result.unmappedExamples.append(id) }
        }
        return result
    }
}
