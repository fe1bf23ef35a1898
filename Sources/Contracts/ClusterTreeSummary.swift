import Artifacts
import Foundation

/// Cluster counts and size statistics of one level of a `ClusterTree`.
public struct ClusterLevelSummary: Equatable, Sendable {
    public var level: Int
    public var clusters: Int
    public var sizeMin: Int64
    /// Median cluster size (mean of the two middle sizes for an even count).
    public var sizeMedian: Double
    public var sizeMax: Int64
    /// Clusters holding a single video.
    public var singletons: Int

    public init(level: Int, sizes: [Int64]) {
        self.level = level
        clusters = sizes.count
        let sorted = sizes.sorted()
        sizeMin = sorted.first ?? 0
        sizeMax = sorted.last ?? 0
        if sorted.isEmpty {
            sizeMedian = 0
        } else if sorted.count % 2 == 1 {
            sizeMedian = Double(sorted[sorted.count / 2])
        } else {
            sizeMedian = Double(sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        singletons = sizes.reduce(0) { $0 + ($1 == 1 ? 1 : 0) }
    }
}

extension ClusterTree {
    public var summaries: [ClusterLevelSummary] {
        levels.enumerated().map { ClusterLevelSummary(level: $0.offset + 1, sizes: $0.element.size) }
    }

    /// The per-level table the stage prints.
    public func summaryTable() -> String {
        var lines = ["level   clusters  singletons  size min  size median  size max"]
        for s in summaries {
            lines.append(String(format: "%5d %10d %11d %9lld %12.1f %9lld", s.level, s.clusters, s.singletons, s.sizeMin, s.sizeMedian, s.sizeMax))
        }
        return lines.joined(separator: "\n")
    }

    /// Root attributes `level_clusters`, `level_singletons`, `level_size_min`, `level_size_median`,
    /// `level_size_max`: one entry per level, level 1 first.
    public func writeSummary(to file: HDF5File) throws {
        let s = summaries
        try file.root.setAttribute("level_clusters", .ints(s.map { Int64($0.clusters) }))
        try file.root.setAttribute("level_singletons", .ints(s.map { Int64($0.singletons) }))
        try file.root.setAttribute("level_size_min", .ints(s.map(\.sizeMin)))
        try file.root.setAttribute("level_size_median", .doubles(s.map(\.sizeMedian)))
        try file.root.setAttribute("level_size_max", .ints(s.map(\.sizeMax)))
    }
}
