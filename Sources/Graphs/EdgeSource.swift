import Contracts
import Support

/// Where a graph's edges come from: co-watch sessions, weighted pairs, or the
/// content kNN of the features.
public enum EdgeSource {
    case sessions(path: String, window: Int)
    case pairs(path: String)
    case contentKNN(k: Int)

    /// What was collected: the videos (rows of the features), their edges, what counting
    /// found, and the file the edges came from (named in errors and provenance).
    public struct Collected {
        public var rows: FeatureTable
        public var edges: UndirectedEdges
        public var report: InteractionReport
        public var source: String
    }

    /// The edges over the videos of `features` (its /video_id rows).
    public func collect(features: String, weighting: EdgeWeighting, skipMalformed: Bool, threads: Int,
                        progress: ProgressReporter = .unnamed) throws -> Collected {
        let counted: (pairs: PairCounter, report: InteractionReport), source: String
        let rows: FeatureTable
        switch self {
        case .contentKNN(let k):
            rows = try FeatureTable.read(features, audio: false)
            return Collected(rows: rows, edges: ContentKNN.graph(rows, k: k, threads: threads, progress: progress),
                             report: InteractionReport(), source: features)
        case .sessions(let path, let window):
            rows = FeatureTable(videoIDs: try FeatureTable.readVideoIDs(features), visual: [], visualWidth: 0, audio: nil, audioWidth: 0)
            let index = try VideoIndex(ids: rows.videoIDs, source: features)
            counted = try Interactions.countSessions(path: path, index: index, window: window, skipMalformed: skipMalformed, progress: progress)
            source = path
        case .pairs(let path):
            rows = FeatureTable(videoIDs: try FeatureTable.readVideoIDs(features), visual: [], visualWidth: 0, audio: nil, audioWidth: 0)
            let index = try VideoIndex(ids: rows.videoIDs, source: features)
            counted = try Interactions.countPairs(path: path, index: index, skipMalformed: skipMalformed, progress: progress)
            source = path
        }
        let report = counted.report
        if let warning = report.unmappedWarning { note(warning) }
        if report.malformedLines > 0 {
            note("warning: skipped \(report.malformedLines) malformed line(s), the first at line \(report.firstMalformedLine ?? 0)")
        }
        guard report.idsMapped > 0 else {
            throw GCMLError(file: source, expected: "video ids found in \(features)",
                            found: "none of \(report.idsUnmapped) id occurrence(s) (e.g. \(report.unmappedExamples.joined(separator: ", ")))")
        }
        return Collected(rows: rows, edges: UndirectedEdges.from(counted.pairs, nodes: rows.videoIDs.count, weighting: weighting),
                         report: report, source: source)
    }
}
