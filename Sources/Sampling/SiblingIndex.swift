import Graphs
import Support

/// The tree arranged for drawing sibling clusters and their videos in O(1):
/// per level ℓ, the videos of each cluster and the children of each level-(ℓ+1)
/// cluster (the top level's clusters are the children of one virtual root).
///
/// The tables live in memory this object owns and are read through plain pointers,
/// so the sampling loop does no reference counting.
public final class SiblingIndex: @unchecked Sendable {
    struct Level {
        var assignment: UnsafeMutablePointer<Int32>
        /// Level ℓ+1 cluster of each cluster (all 0 at the top: the virtual root).
        var parent: UnsafeMutablePointer<Int32>
        /// Level-ℓ clusters grouped by parent, ascending within a group.
        var childStart: UnsafeMutablePointer<Int32>
        var children: UnsafeMutablePointer<Int32>
        /// Videos grouped by cluster, ascending within a cluster.
        var memberStart: UnsafeMutablePointer<Int32>
        var members: UnsafeMutablePointer<Int32>
    }

    let levels: UnsafeMutablePointer<Level>
    public let levelCount: Int
    public let nodeCount: Int
    private var allocations: [UnsafeMutablePointer<Int32>] = []

    public init(tree: ClusterTree) {
        levelCount = tree.levels.count
        nodeCount = tree.nodeCount
        levels = .allocate(capacity: max(1, levelCount))
        for (index, level) in tree.levels.enumerated() {
            let clusters = level.clusterCount
            let top = index + 1 == tree.levels.count
            let parent = top ? [Int32](repeating: 0, count: clusters) : (level.parent ?? [Int32](repeating: 0, count: clusters))
            let parents = top ? 1 : tree.levels[index + 1].clusterCount
            let (childStart, children) = SiblingIndex.group(parent, buckets: parents)
            let (memberStart, members) = SiblingIndex.group(level.assignment, buckets: clusters)
            (levels + index).initialize(to: Level(assignment: own(level.assignment), parent: own(parent),
                                                  childStart: own(childStart), children: own(children),
                                                  memberStart: own(memberStart), members: own(members)))
        }
    }

    deinit {
        for pointer in allocations { pointer.deallocate() }
        levels.deallocate()
    }

    private func own(_ values: [Int32]) -> UnsafeMutablePointer<Int32> {
        let pointer = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, values.count))
        values.withUnsafeBufferPointer { if let base = $0.baseAddress { pointer.initialize(from: base, count: values.count) } }
        allocations.append(pointer)
        return pointer
    }

    /// Counting sort of 0..<keys.count by key (stable, so ascending within a bucket).
    static func group(_ keys: [Int32], buckets: Int) -> ([Int32], [Int32]) {
        var start = [Int32](repeating: 0, count: buckets + 1)
        for k in keys { start[Int(k) + 1] += 1 }
        for b in 0..<buckets { start[b + 1] += start[b] }
        var cursor = start
        var items = [Int32](repeating: 0, count: keys.count)
        for (i, k) in keys.enumerated() {
            items[Int(cursor[Int(k)])] = Int32(i)
            cursor[Int(k)] += 1
        }
        return (start, items)
    }

    /// Whether `video`'s level-`level` cluster (1-based) has at least one sibling.
    @inline(__always)
    public func hasSibling(_ video: Int, level: Int) -> Bool {
        let l = levels[level - 1]
        let p = Int(l.parent[Int(l.assignment[video])])
        return l.childStart[p + 1] - l.childStart[p] > 1
    }

    /// A video of a uniformly drawn sibling cluster of `video`'s level-`level` cluster
    /// (uniform within that cluster). The cluster must have a sibling.
    @inline(__always)
    public func drawSiblingVideo(_ video: Int, level: Int, using generator: inout SeededGenerator) -> Int32 {
        let l = levels[level - 1]
        let own = l.assignment[video]
        let p = Int(l.parent[Int(own)])
        let start = Int(l.childStart[p]), count = Int(l.childStart[p + 1]) - start
        // Draw among the count − 1 others, stepping over the own cluster (children are ascending).
        var k = start + generator.below(count - 1)
        if l.children[k] >= own { k += 1 }
        let sibling = Int(l.children[k])
        let first = Int(l.memberStart[sibling]), size = Int(l.memberStart[sibling + 1]) - first
        return l.members[first + generator.below(size)]
    }
}
