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

    /// Writes `<group>/indptr`, `<group>/indices`, `<group>/weights`.
    public func write(to root: Group, group: String) throws {
        try root.write("\(group)/indptr", indptr)
        try root.write("\(group)/indices", indices)
        try root.write("\(group)/weights", weights)
    }

    /// Reads a CSR group and checks its structure (monotone pointers, indices in range).
    public static func read(from root: Group, group: String, nodes: Int) throws -> CSRGraph {
        let graph = CSRGraph(indptr: try root.read("\(group)/indptr"), indices: try root.read("\(group)/indices"),
                             weights: try root.read("\(group)/weights"))
        let file = root.file.path
        guard graph.indptr.count == nodes + 1 else {
            throw GCMLError(file: file, object: "/\(group)/indptr", expected: "\(nodes + 1) pointers", found: "\(graph.indptr.count)")
        }
        for i in 0..<nodes where graph.indptr[i] > graph.indptr[i + 1] {
            throw GCMLError(file: file, object: "/\(group)/indptr", expected: "non-decreasing pointers", found: "a decrease at row \(i)")
        }
        if let bad = graph.indices.firstIndex(where: { $0 < 0 || Int($0) >= nodes }) {
            throw GCMLError(file: file, object: "/\(group)/indices", expected: "video rows in 0..<\(nodes)", found: "\(graph.indices[bad]) at entry \(bad)")
        }
        return graph
    }
}

/// The relational graph artifact (`gcml.graph/1`): train edges for learning,
/// held-out edges and cold-start nodes for evaluation.
public struct RelationalGraph: Sendable {
    public var videoIDs: [String]
    public var train: CSRGraph
    public var heldout: CSRGraph
    public var heldoutNodes: [Int32]

    public init(videoIDs: [String], train: CSRGraph, heldout: CSRGraph, heldoutNodes: [Int32]) {
        self.videoIDs = videoIDs
        self.train = train
        self.heldout = heldout
        self.heldoutNodes = heldoutNodes
    }

    public var nodeCount: Int { videoIDs.count }

    /// Opens and validates a `gcml.graph/1` file.
    public static func read(_ path: String) throws -> RelationalGraph {
        let file = try Artifact.open(path, as: .graph)
        defer { try? file.close() }
        let root = file.root
        let ids = try root.readStrings("video_id")
        return RelationalGraph(videoIDs: ids,
                               train: try CSRGraph.read(from: root, group: "train", nodes: ids.count),
                               heldout: try CSRGraph.read(from: root, group: "heldout", nodes: ids.count),
                               heldoutNodes: try root.read("heldout_nodes"))
    }

    /// Writes the datasets of contract v1 into an open file (inside `Artifact.write`).
    public func write(to file: HDF5File) throws {
        try file.root.write("video_id", strings: videoIDs)
        try train.write(to: file.root, group: "train")
        try heldout.write(to: file.root, group: "heldout")
        try file.root.write("heldout_nodes", heldoutNodes)
    }
}
