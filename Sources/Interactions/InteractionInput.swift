import Contracts
import Support

/// An interaction log a graph is built from: co-watch sessions or weighted pairs.
public enum InteractionInput {
    case sessions(path: String, window: Int)
    case pairs(path: String)

    public var path: String {
        switch self {
        case .sessions(let path, _), .pairs(let path): return path
        }
    }

    /// The pair sums over the videos `videoIDs` (the rows of `features`), with what reading found;
    /// warns about unknown ids and skipped lines, and fails when no id is known at all.
    public func count(videoIDs: [String], features: String, skipMalformed: Bool, progress: ProgressReporter = .unnamed) throws
        -> (pairs: PairSums, report: InteractionReport) {
        let index = try VideoIndex(ids: videoIDs, source: features)
        let counted: (pairs: PairSums, report: InteractionReport)
        switch self {
        case .sessions(let path, let window):
            counted = try Interactions.countSessions(path: path, index: index, window: window, skipMalformed: skipMalformed, progress: progress)
        case .pairs(let path):
            counted = try Interactions.countPairs(path: path, index: index, skipMalformed: skipMalformed, progress: progress)
        }
        let report = counted.report
        if let warning = report.unmappedWarning { note(warning) }
        if report.malformedLines > 0 {
            note("warning: skipped \(report.malformedLines) malformed line(s), the first at line \(report.firstMalformedLine ?? 0)")
        }
        guard report.idsMapped > 0 else {
            throw GCMLError(file: path, expected: "video ids found in \(features)",
                            found: "none of \(report.idsUnmapped) id occurrence(s) (e.g. \(report.unmappedExamples.joined(separator: ", ")))")
        }
        return counted
    }
}
