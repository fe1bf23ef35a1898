import Contracts
import Support

/// Draws a neighbour of a node in proportion to edge weight (Walker/Vose alias table per
/// row: O(1) per draw, 8 bytes per stored edge) or uniformly.
public struct NeighbourSampler: Sendable {
    public enum Mode: String, CaseIterable, Sendable { case weighted, uniform }

    /// One alias-table entry, stored next to its CSR entry's position: keep the entry's own
    /// column with probability `keep`, else take `aliasColumn` (a column of the same row).
    /// Both halves in one 8-byte slot, so a draw costs one random read besides the column.
    struct AliasSlot {
        var keep: Float
        var aliasColumn: Int32
    }

    public let mode: Mode
    private let graph: CSRGraph
    private let table: [AliasSlot]

    public init(graph: CSRGraph, mode: Mode) {
        self.graph = graph
        self.mode = mode
        guard mode == .weighted else {
            table = []
            return
        }
        var table = [AliasSlot](repeating: AliasSlot(keep: 1, aliasColumn: 0), count: graph.entryCount)
        var maxDegree = 0
        for node in 0..<graph.nodeCount { maxDegree = max(maxDegree, graph.degree(node)) }
        // Vose's method per row, in scratch sized for the longest row (no allocation per row).
        let scaled = UnsafeMutablePointer<Double>.allocate(capacity: max(1, maxDegree))
        let small = UnsafeMutablePointer<Int>.allocate(capacity: max(1, maxDegree))
        let large = UnsafeMutablePointer<Int>.allocate(capacity: max(1, maxDegree))
        defer { scaled.deallocate(); small.deallocate(); large.deallocate() }
        graph.indptr.withUnsafeBufferPointer { indptr in
        graph.indices.withUnsafeBufferPointer { indices in
        graph.weights.withUnsafeBufferPointer { weights in
        table.withUnsafeMutableBufferPointer { table in
            for node in 0..<graph.nodeCount {
                let start = Int(indptr[node]), d = Int(indptr[node + 1]) - start
                guard d > 0 else { continue }
                var total = 0.0
                for e in start..<(start + d) { total += Double(max(0, weights[e])) }
                var smallCount = 0, largeCount = 0
                for i in 0..<d {
                    // Non-positive total (all weights zero): fall back to uniform over the row.
                    let p = total > 0 ? Double(max(0, weights[start + i])) * Double(d) / total : 1
                    scaled[i] = p
                    if p < 1 { small[smallCount] = i; smallCount += 1 } else { large[largeCount] = i; largeCount += 1 }
                }
                while smallCount > 0 && largeCount > 0 {
                    smallCount -= 1
                    let s = small[smallCount], l = large[largeCount - 1]
                    table[start + s] = AliasSlot(keep: Float(scaled[s]), aliasColumn: indices[start + l])
                    scaled[l] -= 1 - scaled[s]
                    if scaled[l] < 1 {
                        largeCount -= 1
                        small[smallCount] = l
                        smallCount += 1
                    }
                }
                // Leftovers (rounding) keep themselves with probability 1.
                for i in UnsafeBufferPointer(start: small, count: smallCount) {
                    table[start + i] = AliasSlot(keep: 1, aliasColumn: indices[start + i])
                }
                for i in UnsafeBufferPointer(start: large, count: largeCount) {
                    table[start + i] = AliasSlot(keep: 1, aliasColumn: indices[start + i])
                }
            }
        }}}}
        self.table = table
    }

    /// For each i < count, a neighbour of `nodes[i]` (which must have at least one edge).
    /// Phase by phase over the batch (row bounds, then alias slots and columns), so the
    /// random reads of different rows overlap in memory.
    public func draw(for nodes: UnsafePointer<Int32>, count: Int, into out: UnsafeMutablePointer<Int32>,
                     using generator: inout SeededGenerator) {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { entry in
            graph.indptr.withUnsafeBufferPointer { indptr in
                for i in 0..<count {
                    let start = Int(indptr[Int(nodes[i])]), degree = Int(indptr[Int(nodes[i]) + 1]) - start
                    entry[i] = start + generator.below(degree)
                }
            }
            graph.indices.withUnsafeBufferPointer { indices in
                guard mode == .weighted else {
                    for i in 0..<count { out[i] = indices[entry[i]] }
                    return
                }
                table.withUnsafeBufferPointer { table in
                    for i in 0..<count {
                        let slot = table[entry[i]]
                        let u = Float(generator.next() >> 40) * 0x1.0p-24
                        out[i] = u < slot.keep ? indices[entry[i]] : slot.aliasColumn
                    }
                }
            }
        }
    }

    /// A neighbour of `node` (which must have at least one edge).
    public func draw(_ node: Int, using generator: inout SeededGenerator) -> Int32 {
        var node = Int32(node), out: Int32 = 0
        draw(for: &node, count: 1, into: &out, using: &generator)
        return out
    }
}
