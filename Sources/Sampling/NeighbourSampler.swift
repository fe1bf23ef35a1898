import Graphs
import Support

/// Draws a neighbour of a node in proportion to edge weight (Walker/Vose alias table per
/// row: O(1) per draw, 8 bytes per stored edge) or uniformly.
public struct NeighbourSampler: Sendable {
    public enum Mode: String, CaseIterable, Sendable { case weighted, uniform }

    public let mode: Mode
    private let graph: CSRGraph
    /// Per entry: probability of keeping the entry's own column, else the alias (an entry offset in the row).
    private let keep: [Float]
    private let alias: [Int32]

    public init(graph: CSRGraph, mode: Mode) {
        self.graph = graph
        self.mode = mode
        guard mode == .weighted else {
            keep = []
            alias = []
            return
        }
        var keep = [Float](repeating: 1, count: graph.entryCount)
        var alias = [Int32](repeating: 0, count: graph.entryCount)
        var small: [Int32] = [], large: [Int32] = []
        var scaled: [Double] = []
        for node in 0..<graph.nodeCount {
            let row = graph.neighbours(node)
            guard !row.isEmpty else { continue }
            var total = 0.0
            for e in row { total += Double(max(0, graph.weights[e])) }
            let d = row.count
            scaled.removeAll(keepingCapacity: true)
            small.removeAll(keepingCapacity: true)
            large.removeAll(keepingCapacity: true)
            for (i, e) in row.enumerated() {
                // Non-positive total (all weights zero): fall back to uniform over the row.
                let p = total > 0 ? Double(max(0, graph.weights[e])) * Double(d) / total : 1
                scaled.append(p)
                if p < 1 { small.append(Int32(i)) } else { large.append(Int32(i)) }
            }
            while let s = small.popLast() {
                guard let l = large.last else { small.append(s); break }
                keep[row.lowerBound + Int(s)] = Float(scaled[Int(s)])
                alias[row.lowerBound + Int(s)] = l
                scaled[Int(l)] -= 1 - scaled[Int(s)]
                if scaled[Int(l)] < 1 {
                    large.removeLast()
                    small.append(l)
                }
            }
            // Leftovers (rounding) keep themselves with probability 1.
            for i in small + large { keep[row.lowerBound + Int(i)] = 1; alias[row.lowerBound + Int(i)] = i }
        }
        self.keep = keep
        self.alias = alias
    }

    /// A neighbour of `node` (which must have at least one edge), as an entry index into the CSR.
    @inline(__always)
    public func drawEntry(_ node: Int, using generator: inout SeededGenerator) -> Int {
        let start = Int(graph.indptr[node]), degree = Int(graph.indptr[node + 1]) - start
        let i = generator.below(degree)
        guard mode == .weighted else { return start + i }
        let u = Float(generator.next() >> 40) * 0x1.0p-24
        return u < keep[start + i] ? start + i : start + Int(alias[start + i])
    }

    /// A neighbour of `node` (which must have at least one edge).
    @inline(__always)
    public func draw(_ node: Int, using generator: inout SeededGenerator) -> Int32 {
        graph.indices[drawEntry(node, using: &generator)]
    }
}
