import Artifacts
import Foundation
import Graphs
import Support

/// Streams triplet blocks into a `gcml.triplets/1` file: extendable, chunked, zstd datasets
/// grown by `append`, so the file can hold any number of triplets.
public final class TripletWriter {
    private let anchor: Dataset, positive: Dataset, negative: Dataset, level: Dataset
    public private(set) var written = 0

    /// How the parts of a triplets file written by several ranks join: the triplet rows concatenated
    /// in rank order; the statistics attributes are summed before every rank writes them.
    public static let partLayout = PartLayout(rows: ["/anchor", "/positive", "/negative", "/negative_level"])

    public init(file: HDF5File) throws {
        anchor = try file.root.createDataset("anchor", type: .int32, shape: [0], extendable: true)
        positive = try file.root.createDataset("positive", type: .int32, shape: [0], extendable: true)
        negative = try file.root.createDataset("negative", type: .int32, shape: [0], extendable: true)
        level = try file.root.createDataset("negative_level", type: .int8, shape: [0], extendable: true)
    }

    public func append(_ block: TripletBlock) throws {
        let n = block.count
        try block.anchor.withUnsafeBufferPointer { try anchor.append(UnsafeBufferPointer(rebasing: $0[0..<n])) }
        try block.positive.withUnsafeBufferPointer { try positive.append(UnsafeBufferPointer(rebasing: $0[0..<n])) }
        try block.negative.withUnsafeBufferPointer { try negative.append(UnsafeBufferPointer(rebasing: $0[0..<n])) }
        try block.negativeLevel.withUnsafeBufferPointer { try level.append(UnsafeBufferPointer(rebasing: $0[0..<n])) }
        written += n
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

extension CSRGraph {
    /// The first row whose columns are not strictly increasing (nil when all rows are sorted).
    public func firstUnsortedRow() -> Int? {
        for node in 0..<nodeCount {
            let row = neighbours(node)
            if row.count > 1 {
                for e in row.lowerBound..<(row.upperBound - 1) where indices[e] >= indices[e + 1] { return node }
            }
        }
        return nil
    }
}
