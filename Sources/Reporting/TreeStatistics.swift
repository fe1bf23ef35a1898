import Artifacts
import Contracts
import Foundation
import Support

/// One level of the cluster tree: its sizes and, when the latent truth is known,
/// how well it agrees with each truth partition.
public struct TreeLevelStatistics: Sendable {
    public var level: Int
    public var sizes: [Int]
    /// NMI and ARI against "topic", "subgenre", "genre" (empty without truth).
    public var nmi: [String: Double] = [:]
    public var ari: [String: Double] = [:]

    public init(level: Int, sizes: [Int]) {
        self.level = level
        self.sizes = sizes
    }

    public var clusters: Int { sizes.count }
    public var minimumSize: Int? { sizes.min() }
    public var maximumSize: Int? { sizes.max() }
    public var medianSize: Double? {
        guard !sizes.isEmpty else { return nil }
        let sorted = sizes.sorted(), mid = sorted.count / 2
        return sorted.count % 2 == 1 ? Double(sorted[mid]) : Double(sorted[mid - 1] + sorted[mid]) / 2
    }

    /// Cluster counts in log2 bins: bin b holds sizes in [2^b, 2^(b+1)). Empty clusters are skipped.
    public func sizeHistogram() -> [Int] {
        var bins: [Int] = []
        for size in sizes where size > 0 {
            let bin = Int.bitWidth - 1 - size.leadingZeroBitCount
            if bins.count <= bin { bins += [Int](repeating: 0, count: bin + 1 - bins.count) }
            bins[bin] += 1
        }
        return bins
    }

    /// The lower bound of bin b: "1", "2", "4", … "512", "1k", "2k", … "1M".
    public static func binLabel(_ bin: Int) -> String {
        let low = 1 << bin
        if bin >= 20 { return "\(low >> 20)M" }
        if bin >= 10 { return "\(low >> 10)k" }
        return "\(low)"
    }
}

/// The tree's per-level statistics (`gcml.tree/1`), against the latent truth when given.
public enum TreeStatistics {
    /// The truth partitions compared with each level, finest first.
    public static let truthKinds = LatentTruth.Kind.allCases.map(\.rawValue)

    /// Reads every level of `treePath`; with `truthPath` (gcml.truth/1) adds NMI and ARI per truth kind.
    public static func read(treePath: String, truthPath: String?) throws -> [TreeLevelStatistics] {
        let tree = try ClusterTree.read(treePath)
        let truth = try truthPath.map(LatentTruth.read)
        var levels: [TreeLevelStatistics] = []
        for (index, level) in tree.levels.enumerated() {
            var statistics = TreeLevelStatistics(level: index + 1, sizes: level.size.map(Int.init))
            if let truth, let truthPath {
                for kind in LatentTruth.Kind.allCases {
                    let labels = truth.partition(kind)
                    guard labels.count == level.assignment.count else {
                        throw GCMLError(file: truthPath, object: kind.path,
                                        expected: "\(level.assignment.count) videos (rows of \(treePath) \(DatasetPath.Tree.level(index + 1))/\(DatasetPath.Tree.assignment))",
                                        found: "\(labels.count)")
                    }
                    statistics.nmi[kind.rawValue] = PartitionAgreement.nmi(level.assignment, labels)
                    statistics.ari[kind.rawValue] = PartitionAgreement.ari(level.assignment, labels)
                }
            }
            levels.append(statistics)
        }
        return levels
    }
}
