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
        public var videoIDs: [String]
        public var edges: UndirectedEdges
        public var report: InteractionReport
        public var source: String
    }

    /// The edges over the videos of `features` (its /video_id rows).
    public func collect(features: String, weighting: EdgeWeighting, skipMalformed: Bool, threads: Int,
                        progress: ProgressReporter = .unnamed) throws -> Collected {
        let counted: (pairs: PairCounter, report: InteractionReport), source: String
        let videoIDs: [String]
        switch self {
        case .contentKNN(let k):
            let table = try FeatureTable.read(features, audio: false)
            return Collected(videoIDs: table.videoIDs, edges: ContentKNN.graph(table, k: k, threads: threads, progress: progress),
                             report: InteractionReport(), source: features)
        case .sessions(let path, let window):
            videoIDs = try FeatureTable.readVideoIDs(features)
            let index = try VideoIndex(ids: videoIDs, source: features)
            counted = try Interactions.countSessions(path: path, index: index, window: window, skipMalformed: skipMalformed, progress: progress)
            source = path
        case .pairs(let path):
            videoIDs = try FeatureTable.readVideoIDs(features)
            let index = try VideoIndex(ids: videoIDs, source: features)
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
        return Collected(videoIDs: videoIDs, edges: UndirectedEdges.from(counted.pairs, nodes: videoIDs.count, weighting: weighting),
                         report: report, source: source)
    }
}
