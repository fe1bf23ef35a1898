import Artifacts
import Support

/// One level of a cluster hierarchy.
public struct ClusterLevel: Equatable, Sendable {
    /// Cluster (0..<clusterCount) of every video.
    public var assignment: [Int32]
    /// Videos per cluster.
    public var size: [Int64]
    /// Cluster at the next level up; nil at the top level.
    public var parent: [Int32]?

    public init(assignment: [Int32], size: [Int64], parent: [Int32]?) {
        self.assignment = assignment
        self.size = size
        self.parent = parent
    }

    public var clusterCount: Int { size.count }
}

/// The tree artifact (`gcml.tree/1`): levels 1 (finest) … L.
public struct ClusterTree: Equatable, Sendable {
    public var levels: [ClusterLevel]

    public init(levels: [ClusterLevel]) { self.levels = levels }

    public var nodeCount: Int { levels.first?.assignment.count ?? 0 }

    /// `level` is 1-based as in the file (`/level_1` is the finest).
    public func level(_ level: Int) -> ClusterLevel { levels[level - 1] }

    /// Opens and validates a `gcml.tree/1` file: clusters in range at every level, parents in range of the next.
    public static func read(_ path: String) throws -> ClusterTree {
        let file = try Artifact.open(path, as: .tree)
        defer { try? file.close() }
        let root = file.root
        var levels: [ClusterLevel] = []
        var l = 1
        while root.exists(DatasetPath.Tree.level(l)) {
            let group = DatasetPath.Tree.level(l)
            let parentPath = "\(group)/\(DatasetPath.Tree.parent)"
            let parent: [Int32]? = root.exists(parentPath) ? try root.read(parentPath) : nil
            levels.append(ClusterLevel(assignment: try root.read("\(group)/\(DatasetPath.Tree.assignment)"),
                                       size: try root.read("\(group)/\(DatasetPath.Tree.size)"), parent: parent))
            l += 1
        }
        for (index, level) in levels.enumerated() {
            let name = DatasetPath.Tree.level(index + 1)
            if let bad = level.assignment.firstIndex(where: { $0 < 0 || Int($0) >= level.clusterCount }) {
                throw GCMLError(file: path, object: "\(name)/\(DatasetPath.Tree.assignment)", expected: "clusters in 0..<\(level.clusterCount)",
                                found: "\(level.assignment[bad]) for video \(bad)")
            }
            if let parent = level.parent, index + 1 < levels.count {
                let above = levels[index + 1].clusterCount
                if let bad = parent.firstIndex(where: { $0 < 0 || Int($0) >= above }) {
                    throw GCMLError(file: path, object: "\(name)/\(DatasetPath.Tree.parent)", expected: "clusters in 0..<\(above)",
                                    found: "\(parent[bad]) for cluster \(bad)")
                }
            }
        }
        return ClusterTree(levels: levels)
    }

    public func write(to file: HDF5File) throws {
        for (index, level) in levels.enumerated() {
            let name = DatasetPath.Tree.level(index + 1)
            try file.root.write("\(name)/\(DatasetPath.Tree.assignment)", level.assignment)
            try file.root.write("\(name)/\(DatasetPath.Tree.size)", level.size)
            if let parent = level.parent { try file.root.write("\(name)/\(DatasetPath.Tree.parent)", parent) }
        }
    }
}
