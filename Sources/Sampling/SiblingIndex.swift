import Contracts
import Support

/// The tree arranged for drawing sibling clusters and their videos with few dependent
/// memory reads: per level ℓ, each video's cluster, each cluster's group of siblings
/// (the children of its level-(ℓ+1) parent; the top level's clusters are the children
/// of one virtual root) and each cluster's members.
///
/// A draw reads four tables in a chain — cluster of the video → its sibling group →
/// the chosen sibling's member range → a member — so batches go phase by phase, letting
/// the reads of different videos overlap in memory. The tables live in memory this
/// object owns and are read through plain pointers: the sampling loop does no
/// reference counting.
public final class SiblingIndex: @unchecked Sendable {
    struct Level {
        var assignment: UnsafeMutablePointer<Int32>
        /// Per cluster c, three entries: first slot of its sibling group in `memberRanges`,
        /// the group's size (c included), and c's position in the group.
        var group: UnsafeMutablePointer<Int32>
        /// Per slot (clusters grouped by parent, ascending within a group), two entries:
        /// the cluster's first position in `members` and its size.
        var memberRanges: UnsafeMutablePointer<Int32>
        /// Videos grouped by cluster, ascending within a cluster.
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
            var group = [Int32](repeating: 0, count: 3 * clusters)
            var memberRanges = [Int32](repeating: 0, count: 2 * clusters)
            for p in 0..<parents {
                let first = Int(childStart[p]), end = Int(childStart[p + 1])
                for slot in first..<end {
                    let c = Int(children[slot])
                    group[3 * c] = Int32(first)
                    group[3 * c + 1] = Int32(end - first)
                    group[3 * c + 2] = Int32(slot - first)
                    memberRanges[2 * slot] = memberStart[c]
                    memberRanges[2 * slot + 1] = memberStart[c + 1] - memberStart[c]
                }
            }
            (levels + index).initialize(to: Level(assignment: own(level.assignment), group: own(group),
                                                  memberRanges: own(memberRanges), members: own(members)))
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

    /// For each i < count: a video of a uniformly drawn sibling cluster of `videos[i]`'s
    /// level-`levels[i]` cluster (1-based; uniform within that cluster), or −1 when that
    /// cluster has no sibling (no random draw is spent on it).
    public func drawSiblingVideos(_ videos: UnsafePointer<Int32>, levels requested: UnsafePointer<Int8>, count: Int,
                                  into out: UnsafeMutablePointer<Int32>, using generator: inout SeededGenerator) {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { slot in
            // 1. The video's cluster.
            for i in 0..<count {
                slot[i] = Int(levels[Int(requested[i]) - 1].assignment[Int(videos[i])])
            }
            // 2. A slot in its sibling group other than its own (group members are at first…first+size−1).
            for i in 0..<count {
                let group = levels[Int(requested[i]) - 1].group + 3 * slot[i]
                let size = Int(group[1])
                guard size > 1 else { slot[i] = -1; continue }
                var k = generator.below(size - 1)
                if k >= Int(group[2]) { k += 1 }
                slot[i] = Int(group[0]) + k
            }
            // 3. That sibling's member range, and 4. a member.
            for i in 0..<count {
                guard slot[i] >= 0 else { continue }
                let level = levels[Int(requested[i]) - 1]
                let range = level.memberRanges + 2 * slot[i]
                // An empty cluster cannot come from a valid tree; answer "no sibling" rather than trap.
                slot[i] = range[1] > 0 ? Int(range[0]) + generator.below(Int(range[1])) : -1
            }
            for i in 0..<count {
                out[i] = slot[i] >= 0 ? levels[Int(requested[i]) - 1].members[slot[i]] : -1
            }
        }
    }

    /// A video of a uniformly drawn sibling cluster of `video`'s level-`level` cluster, or −1
    /// when it has none.
    public func drawSiblingVideo(_ video: Int32, level: Int, using generator: inout SeededGenerator) -> Int32 {
        var video = video, level = Int8(level), out: Int32 = -1
        drawSiblingVideos(&video, levels: &level, count: 1, into: &out, using: &generator)
        return out
    }
}
