import Artifacts
import Contracts
import Foundation

/// What happened while sampling: per-level counts, fallbacks, rejected draws.
public struct TripletStatistics: Equatable, Sendable {
    public var triplets = 0
    /// Triplets by the level their negative actually came from (index 0 = random, 1…L).
    public var negativeLevels: [Int]
    /// Triplets by the level asked for (index 0 = random strategy).
    public var requestedLevels: [Int]
    /// Triplets that moved up at least one level because the anchor's cluster had no sibling.
    public var fallbackNoSibling = 0
    /// Triplets that moved up at least one level because every draw at a level was rejected.
    public var fallbackRejected = 0
    /// Negative draws rejected for being the anchor, the positive or a train neighbour of the anchor.
    public var rejectedDraws = 0
    /// Random negatives found by scanning after the bounded random draws all failed.
    public var scans = 0

    public init(levels: Int) {
        negativeLevels = [Int](repeating: 0, count: levels + 1)
        requestedLevels = negativeLevels
    }

    mutating func add(_ other: TripletStatistics) {
        triplets += other.triplets
        for i in negativeLevels.indices {
            negativeLevels[i] += other.negativeLevels[i]
            requestedLevels[i] += other.requestedLevels[i]
        }
        fallbackNoSibling += other.fallbackNoSibling
        fallbackRejected += other.fallbackRejected
        rejectedDraws += other.rejectedDraws
        scans += other.scans
    }
}

extension TripletStatistics {
    /// Root attributes: `negative_level_counts` and `requested_level_counts` (index 0 = random,
    /// then levels 1…L), `fallback_no_sibling`, `fallback_rejected`, `rejected_draws`, `random_scans`.
    public func write(to file: HDF5File) throws {
        let root = file.root
        try root.setAttribute("negative_level_counts", .ints(negativeLevels.map(Int64.init)))
        try root.setAttribute("requested_level_counts", .ints(requestedLevels.map(Int64.init)))
        try root.setAttribute("fallback_no_sibling", .int(Int64(fallbackNoSibling)))
        try root.setAttribute("fallback_rejected", .int(Int64(fallbackRejected)))
        try root.setAttribute("rejected_draws", .int(Int64(rejectedDraws)))
        try root.setAttribute("random_scans", .int(Int64(scans)))
    }

    /// The histogram the stage prints.
    public func table() -> String {
        var lines = ["level  requested   negatives  share"]
        for level in negativeLevels.indices {
            let name = level == 0 ? "random" : String(level)
            let share = triplets > 0 ? 100 * Double(negativeLevels[level]) / Double(triplets) : 0
            lines.append(String(format: "%6@ %10d %11d %5.1f%%", name as NSString, requestedLevels[level], negativeLevels[level], share))
        }
        lines.append("fallbacks: \(fallbackNoSibling) without a sibling, \(fallbackRejected) after \(rejectedDraws) rejected draws; \(scans) random scans")
        return lines.joined(separator: "\n")
    }
}

extension TripletWriter {
    /// Appends the valid entries of a sampler block.
    public func append(_ block: TripletBlock) throws {
        try append(anchor: block.anchor[..<block.count], positive: block.positive[..<block.count],
                   negative: block.negative[..<block.count], negativeLevel: block.negativeLevel[..<block.count])
    }
}
