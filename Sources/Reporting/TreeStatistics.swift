import Artifacts
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

/// The tree's per-level statistics (`gcml.tree/1`), read with the Artifacts API.
public enum TreeStatistics {
    /// The truth partitions compared with each level, finest first.
    public static let truthKinds = ["topic", "subgenre", "genre"]

    /// Reads every level of `treePath`; with `truthPath` (gcml.truth/1) adds NMI and ARI per truth kind.
    public static func read(treePath: String, truthPath: String?) throws -> [TreeLevelStatistics] {
        let file = try Artifact.open(treePath, as: .tree)
        defer { try? file.close() }
        let root = file.root
        let levelCount = try root.childNames().filter { $0.hasPrefix("level_") }.count
        var truth: [String: [Int32]] = [:]
        if let truthPath {
            let truthFile = try Artifact.open(truthPath, as: .truth)
            defer { try? truthFile.close() }
            for kind in truthKinds { truth[kind] = try truthFile.root.read("/\(kind)", as: Int32.self) }
        }
        var levels: [TreeLevelStatistics] = []
        for level in stride(from: 1, through: levelCount, by: 1) {
            let sizes = try root.read("/level_\(level)/size", as: Int64.self).map(Int.init)
            var statistics = TreeLevelStatistics(level: level, sizes: sizes)
            if !truth.isEmpty {
                let assignment = try root.read("/level_\(level)/assignment", as: Int32.self)
                for kind in truthKinds {
                    guard let labels = truth[kind] else { continue }
                    guard labels.count == assignment.count else {
                        throw GCMLError(file: truthPath ?? "truth", object: "/\(kind)",
                                        expected: "\(assignment.count) videos (rows of \(treePath) /level_\(level)/assignment)",
                                        found: "\(labels.count)")
                    }
                    statistics.nmi[kind] = PartitionAgreement.nmi(assignment, labels)
                    statistics.ari[kind] = PartitionAgreement.ari(assignment, labels)
                }
            }
            levels.append(statistics)
        }
        return levels
    }
}
