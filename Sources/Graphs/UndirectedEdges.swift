import Contracts
import Foundation
import Support

/// How summed co-watch counts become edge weights.
public enum EdgeWeighting: String, CaseIterable, Sendable {
    /// The summed count (or summed pair weight) itself.
    case count
    /// log(1 + count): damps very popular pairs.
    case log1p
    /// Positive pointwise mutual information, max(0, log(c_ab · D / (c_a · c_b))) with
    /// c_a the summed weight of a's pairs and D = Σ_a c_a; pairs that co-occur no
    /// more than chance get 0 and are dropped.
    case pmi
}

/// An undirected weighted graph as a list of edges a < b, sorted by (a, b),
/// one entry per edge. The stages between counting and the CSR artifact work on it.
public struct UndirectedEdges: Equatable, Sendable {
    public var nodeCount: Int
    public var a: [Int32]
    public var b: [Int32]
    public var weight: [Float]

    public init(nodeCount: Int, a: [Int32] = [], b: [Int32] = [], weight: [Float] = []) {
        precondition(a.count == b.count && a.count == weight.count)
        self.nodeCount = nodeCount
        self.a = a
        self.b = b
        self.weight = weight
    }

    public var count: Int { a.count }

    /// Edges from summed pair values, weighted; edges whose weight is not > 0 are dropped.
    public static func from(_ pairs: PairSums, nodes: Int, weighting: EdgeWeighting) -> UndirectedEdges {
        from(pairs, nodes: nodes, weighting: weighting, marginals: weighting == .pmi ? pmiMarginals(pairs, nodes: nodes) : nil)
    }

    /// PMI's c_a per node and D, summed over `pairs` in key order.
    static func pmiMarginals(_ pairs: PairSums, nodes: Int) -> (marginal: [Double], total: Double) {
        var marginal = [Double](repeating: 0, count: nodes)
        var total = 0.0
        for (key, value) in zip(pairs.keys, pairs.values) {
            let (x, y) = PairSums.rows(of: key)
            marginal[Int(x)] += value
            marginal[Int(y)] += value
            total += 2 * value
        }
        return (marginal, total)
    }

    /// `from` with PMI's marginals given (e.g. summed over the ranks that share the pairs).
    static func from(_ pairs: PairSums, nodes: Int, weighting: EdgeWeighting, marginals: (marginal: [Double], total: Double)?) -> UndirectedEdges {
        let (keys, values) = (pairs.keys, pairs.values)
        let marginal = marginals?.marginal ?? [], total = marginals?.total ?? 0
        var edges = UndirectedEdges(nodeCount: nodes)
        edges.a.reserveCapacity(keys.count)
        edges.b.reserveCapacity(keys.count)
        edges.weight.reserveCapacity(keys.count)
        for (key, value) in zip(keys, values) {
            let (x, y) = PairSums.rows(of: key)
            let w: Double
            switch weighting {
            case .count: w = value
            case .log1p: w = Foundation.log1p(value)
            case .pmi: w = max(0, Foundation.log(value * total / (marginal[Int(x)] * marginal[Int(y)])))
            }
            let weight = Float(w)
            guard weight > 0 else { continue }
            edges.a.append(x)
            edges.b.append(y)
            edges.weight.append(weight)
        }
        return edges
    }

    /// The edges for which `keep(e)` holds, order preserved.
    public func filter(_ keep: (Int) -> Bool) -> UndirectedEdges {
        var result = UndirectedEdges(nodeCount: nodeCount)
        for e in 0..<count where keep(e) {
            result.a.append(a[e])
            result.b.append(b[e])
            result.weight.append(weight[e])
        }
        return result
    }

    /// Edges with weight ≥ `minimum`.
    public func withMinimumWeight(_ minimum: Float) -> UndirectedEdges { filter { weight[$0] >= minimum } }

    /// Per-node top-k pruning: an edge stays when it is among the `k` heaviest edges of
    /// either endpoint (so the result stays symmetric). Ties in weight go to the
    /// neighbour with the smaller row, so the result does not depend on input order.
    public func prunedToTopK(_ k: Int) -> UndirectedEdges {
        precondition(k >= 1)
        let incident = incidence()
        var keep = [Bool](repeating: false, count: count)
        var order: [Int32] = []
        for node in 0..<nodeCount {
            let range = Int(incident.indptr[node])..<Int(incident.indptr[node + 1])
            if range.count <= k {
                for slot in range { keep[Int(incident.edge[slot])] = true }
                continue
            }
            order.removeAll(keepingCapacity: true)
            order.append(contentsOf: incident.edge[range])
            let n = Int32(node)
            order.sort { x, y in
                let wx = weight[Int(x)], wy = weight[Int(y)]
                if wx != wy { return wx > wy }
                let ox = a[Int(x)] == n ? b[Int(x)] : a[Int(x)], oy = a[Int(y)] == n ? b[Int(y)] : a[Int(y)]
                return ox < oy
            }
            for e in order.prefix(k) { keep[Int(e)] = true }
        }
        return filter { keep[$0] }
    }

    /// Prefix sums of node degrees (each edge counts at both ends): row pointers of a
    /// symmetric CSR or of the incidence lists.
    private func degreeOffsets() -> [Int64] {
        var indptr = [Int64](repeating: 0, count: nodeCount + 1)
        for e in 0..<count {
            indptr[Int(a[e]) + 1] += 1
            indptr[Int(b[e]) + 1] += 1
        }
        for i in 0..<nodeCount { indptr[i + 1] += indptr[i] }
        return indptr
    }

    /// Edge ids incident on each node (CSR: node i's edges are edge[indptr[i]..<indptr[i+1]]).
    func incidence() -> (indptr: [Int64], edge: [Int32]) {
        let indptr = degreeOffsets()
        var cursor = indptr
        var edge = [Int32](repeating: 0, count: 2 * count)
        for e in 0..<count {
            edge[Int(cursor[Int(a[e])])] = Int32(e); cursor[Int(a[e])] += 1
            edge[Int(cursor[Int(b[e])])] = Int32(e); cursor[Int(b[e])] += 1
        }
        return (indptr, edge)
    }

    /// The symmetric CSR form (each edge stored in both rows), columns sorted within
    /// rows. Linear time: edges sorted by (a, b) fill every row's lower part (a < row) in
    /// order first, then its upper part (b > row) in order.
    public func symmetricCSR() -> CSRGraph {
        let indptr = degreeOffsets()
        var cursor = indptr
        var indices = [Int32](repeating: 0, count: 2 * count)
        var weights = [Float](repeating: 0, count: 2 * count)
        for e in 0..<count {
            let row = Int(b[e]), slot = Int(cursor[row])
            indices[slot] = a[e]; weights[slot] = weight[e]; cursor[row] += 1
        }
        for e in 0..<count {
            let row = Int(a[e]), slot = Int(cursor[row])
            indices[slot] = b[e]; weights[slot] = weight[e]; cursor[row] += 1
        }
        return CSRGraph(indptr: indptr, indices: indices, weights: weights)
    }

    /// Whether edges are a < b, in range, strictly increasing by (a, b) (the invariant).
    public var isCanonical: Bool {
        for e in 0..<count {
            guard a[e] >= 0, a[e] < b[e], Int(b[e]) < nodeCount else { return false }
            if e > 0 && (a[e - 1], b[e - 1]) >= (a[e], b[e]) { return false }
        }
        return true
    }
}
