import Support

/// Splitting work over ranks: contiguous ranges in item order, so concatenating the
/// ranks' results in rank order gives the one-process order.
public enum Partition {
    /// Part `part` of `count` items split into `parts` contiguous ranges whose sizes differ by at most one.
    public static func range(_ count: Int, part: Int, of parts: Int) -> Range<Int> {
        precondition(parts >= 1 && (0..<parts).contains(part) && count >= 0)
        let base = count / parts, extra = count % parts
        let start = part * base + min(part, extra)
        return start..<(start + base + (part < extra ? 1 : 0))
    }

    /// Part `part` of `count` items split in whole blocks of `block` items (the last block of the
    /// items may be short): a rank then runs the blocks, so the same GEMM shapes at the same
    /// places, that one process runs, and OpenBLAS gives every row the same bits.
    public static func range(_ count: Int, part: Int, of parts: Int, inBlocksOf block: Int) -> Range<Int> {
        precondition(block >= 1)
        let blocks = range((count + block - 1) / block, part: part, of: parts)
        return min(count, blocks.lowerBound * block)..<min(count, blocks.upperBound * block)
    }

    /// Part `part` of items with costs given by `offsets` (the cumulative cost: items + 1 values,
    /// non-decreasing, like `/frame_offsets`): contiguous ranges whose costs are as equal as
    /// the item boundaries allow: part p starts at the item boundary nearest to p/parts of the total.
    public static func range(offsets: [Int64], part: Int, of parts: Int) -> Range<Int> {
        precondition(parts >= 1 && (0..<parts).contains(part) && !offsets.isEmpty)
        let items = offsets.count - 1
        let first = offsets[0], total = offsets[items] - first
        func boundary(_ p: Int) -> Int {
            if p == 0 { return 0 }
            if p == parts { return items }
            let target = first + Int64((Double(total) * Double(p) / Double(parts)).rounded())
            // First item whose start is at or past the target (binary search over the sorted offsets).
            var lo = 0, hi = items
            while lo < hi {
                let mid = (lo + hi) / 2
                if offsets[mid] < target { lo = mid + 1 } else { hi = mid }
            }
            if lo > 0 && target - offsets[lo - 1] < offsets[lo] - target { return lo - 1 }
            return lo
        }
        return boundary(part)..<max(boundary(part), boundary(part + 1))
    }
}

extension Communicator {
    /// This rank's contiguous share of `count` items.
    public func share(of count: Int) -> Range<Int> { Partition.range(count, part: rank, of: size) }

    /// This rank's contiguous share of `count` items in whole blocks of `block` items.
    public func share(of count: Int, inBlocksOf block: Int) -> Range<Int> {
        Partition.range(count, part: rank, of: size, inBlocksOf: block)
    }

    /// This rank's contiguous share of items with cumulative costs `offsets`.
    public func share(offsets: [Int64]) -> Range<Int> { Partition.range(offsets: offsets, part: rank, of: size) }

    /// The fixed gradient blocks a batch is cut into, the unit the ranks share: `requested`, or (nil) `standard`
    /// blocks or one per rank when the ranks are more. Ranks compute whole blocks, and a block count is what
    /// makes N ranks give one process's numbers, so a request below the number of ranks is refused rather
    /// than silently raised (a one-process run with the same request would then differ).
    public func gradientBlocks(requested: Int?, standard: Int) throws -> Int {
        guard let requested else { return max(standard, size) }
        guard requested >= 1 else { throw GCMLError(parameter: "gradientBlocks", expected: "at least 1", found: "\(requested)") }
        guard requested >= size else {
            throw GCMLError(parameter: "gradientBlocks", expected: "at least the number of ranks (\(size)): each rank computes whole blocks",
                            found: "\(requested)")
        }
        return requested
    }
}
