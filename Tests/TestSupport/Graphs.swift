import Contracts

/// A symmetric CSR graph from undirected edges (a, b, weight).
public func undirectedGraph(nodes: Int, _ edges: [(Int, Int, Float)]) -> CSRGraph {
    var rows: [Int32] = [], columns: [Int32] = [], weights: [Float] = []
    for (a, b, w) in edges {
        rows += [Int32(a), Int32(b)]
        columns += [Int32(b), Int32(a)]
        weights += [w, w]
    }
    return CSRGraph.fromEntries(nodes: nodes, rows: rows, columns: columns, weights: weights)
}
