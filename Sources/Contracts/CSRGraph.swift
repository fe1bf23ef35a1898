import Artifacts
import Support

/// A weighted sparse graph in compressed sparse row form: the neighbours of
/// node i are `indices[indptr[i]..<indptr[i+1]]` with `weights` alongside.
public struct CSRGraph: Equatable, Sendable {
    public var indptr: [Int64]
    public var indices: [Int32]
    public var weights: [Float]

    public init(indptr: [Int64], indices: [Int32], weights: [Float]) {
        self.indptr = indptr
        self.indices = indices
        self.weights = weights
    }

    /// An empty graph on `nodes` nodes.
    public init(nodes: Int) { self.init(indptr: [Int64](repeating: 0, count: nodes + 1), indices: [], weights: []) }

    public var nodeCount: Int { indptr.count - 1 }
    /// Stored (directed) entries; a symmetric graph stores each undirected edge twice.
    public var entryCount: Int { indices.count }

    public func degree(_ node: Int) -> Int { Int(indptr[node + 1] - indptr[node]) }

    public func neighbours(_ node: Int) -> Range<Int> { Int(indptr[node])..<Int(indptr[node + 1]) }

    /// Builds a CSR graph from (row, column, weight) entries; duplicates are summed,
    /// columns sorted within rows.
    public static func fromEntries(nodes: Int, rows: [Int32], columns: [Int32], weights: [Float]) -> CSRGraph {
        precondition(rows.count == columns.count && rows.count == weights.count)
        var counts = [Int64](repeating: 0, count: nodes + 1)
        for r in rows { counts[Int(r) + 1] += 1 }
        for i in 0..<nodes { counts[i + 1] += counts[i] }
        var cursor = counts
        var cols = [Int32](repeating: 0, count: rows.count)
        var vals = [Float](repeating: 0, count: rows.count)
        for e in 0..<rows.count {
            let slot = Int(cursor[Int(rows[e])])
            cols[slot] = columns[e]
            vals[slot] = weights[e]
            cursor[Int(rows[e])] += 1
        }
        var indptr = [Int64](repeating: 0, count: nodes + 1)
        var outCols: [Int32] = []
        var outVals: [Float] = []
        outCols.reserveCapacity(cols.count)
        outVals.reserveCapacity(vals.count)
        var order: [Int] = []
        for node in 0..<nodes {
            let range = Int(counts[node])..<Int(counts[node + 1])
            order.removeAll(keepingCapacity: true)
            order.append(contentsOf: range)
            order.sort { cols[$0] < cols[$1] }
            var last: Int32 = -1
            for e in order {
                if cols[e] == last { outVals[outVals.count - 1] += vals[e] } else {
                    outCols.append(cols[e])
                    outVals.append(vals[e])
                    last = cols[e]
                }
            }
            indptr[node + 1] = Int64(outCols.count)
        }
        return CSRGraph(indptr: indptr, indices: outCols, weights: outVals)
    }

    /// The first row whose columns are not strictly increasing (nil when all rows are sorted).
    public func firstUnsortedRow() -> Int? {
        for node in 0..<nodeCount {
            let row = neighbours(node)
            if row.count > 1 {
                for e in row.lowerBound..<(row.upperBound - 1) where indices[e] >= indices[e + 1] { return node }
            }
        }
        return nil
    }

    /// Writes the CSR members of `group` (e.g. `DatasetPath.Graph.train`).
    public func write(to root: Group, group: String) throws {
        try root.write("\(group)/\(DatasetPath.CSR.indptr)", indptr)
        try root.write("\(group)/\(DatasetPath.CSR.indices)", indices)
        try root.write("\(group)/\(DatasetPath.CSR.weights)", weights)
    }

    /// Reads a CSR group and checks its structure (monotone pointers, indices in range).
    public static func read(from root: Group, group: String, nodes: Int) throws -> CSRGraph {
        let indptrPath = "\(group)/\(DatasetPath.CSR.indptr)", indicesPath = "\(group)/\(DatasetPath.CSR.indices)"
        let graph = CSRGraph(indptr: try root.read(indptrPath), indices: try root.read(indicesPath),
                             weights: try root.read("\(group)/\(DatasetPath.CSR.weights)"))
        let file = root.file.path
        guard graph.indptr.count == nodes + 1 else {
            throw GCMLError(file: file, object: indptrPath, expected: "\(nodes + 1) pointers", found: "\(graph.indptr.count)")
        }
        for i in 0..<nodes where graph.indptr[i] > graph.indptr[i + 1] {
            throw GCMLError(file: file, object: indptrPath, expected: "non-decreasing pointers", found: "a decrease at row \(i)")
        }
        if let bad = graph.indices.firstIndex(where: { $0 < 0 || Int($0) >= nodes }) {
            throw GCMLError(file: file, object: indicesPath, expected: "video rows in 0..<\(nodes)", found: "\(graph.indices[bad]) at entry \(bad)")
        }
        return graph
    }
}

