import Artifacts
import Support

/// A contiguous range of rows of a CSR graph (one rank's share): the neighbours of node
/// `rows.lowerBound + i` are `indices[indptr[i]..<indptr[i+1]]`, pointers rebased to 0.
public struct CSRRows: Sendable {
    /// The file the rows were read from (named in errors found later, e.g. asymmetry across ranks).
    public var path: String
    public var nodeCount: Int
    public var rows: Range<Int>
    public var indptr: [Int64]
    public var indices: [Int32]
    public var weights: [Float]

    public init(path: String, nodeCount: Int, rows: Range<Int>, indptr: [Int64], indices: [Int32], weights: [Float]) {
        self.path = path
        self.nodeCount = nodeCount
        self.rows = rows
        self.indptr = indptr
        self.indices = indices
        self.weights = weights
    }

    /// All rows of `graph` (a plain run's graph as one share; tests).
    public init(_ graph: CSRGraph, rows: Range<Int>? = nil, path: String = "") {
        let rows = rows ?? 0..<graph.nodeCount
        let first = Int(graph.indptr[rows.lowerBound]), last = Int(graph.indptr[rows.upperBound])
        self.init(path: path, nodeCount: graph.nodeCount, rows: rows,
                  indptr: graph.indptr[rows.lowerBound...rows.upperBound].map { $0 - Int64(first) },
                  indices: Array(graph.indices[first..<last]), weights: Array(graph.weights[first..<last]))
    }

    public var entryCount: Int { indices.count }
}

extension RelationalGraph {
    /// The rows of the `/train` CSR chosen by `split` from the graph's pointers (e.g. a rank's
    /// share balanced by edges), read as row ranges of a validated `gcml.graph/1` file. Checks
    /// what the rows alone can show (pointers, indices in range, sorted rows without self
    /// loops, finite weights); symmetry spans rows, so the caller checks it across shares.
    public static func readTrainRows(_ path: String, split: ([Int64]) -> Range<Int>) throws -> CSRRows {
        let file = try Artifact.open(path, as: .graph)
        defer { try? file.close() }
        let root = file.root
        let nodes = try root.dataset(DatasetPath.videoID).rows
        _ = try readHeldoutNodes(root, path: path, videos: nodes)
        let group = DatasetPath.Graph.train
        let indptrPath = "\(group)/\(DatasetPath.CSR.indptr)", indicesPath = "\(group)/\(DatasetPath.CSR.indices)"
        let weightsPath = "\(group)/\(DatasetPath.CSR.weights)"
        let pointers: [Int64] = try root.read(indptrPath)
        guard pointers.count == nodes + 1 else {
            throw GCMLError(file: path, object: indptrPath, expected: "\(nodes + 1) pointers", found: "\(pointers.count)")
        }
        for i in 0..<nodes where pointers[i] > pointers[i + 1] {
            throw GCMLError(file: path, object: indptrPath, expected: "non-decreasing pointers", found: "a decrease at row \(i)")
        }
        let indicesSet = try root.dataset(indicesPath), weightsSet = try root.dataset(weightsPath)
        guard pointers[0] >= 0, pointers[nodes] <= Int64(indicesSet.rows), weightsSet.rows == indicesSet.rows else {
            throw GCMLError(file: path, object: group, expected: "pointers within \(indicesSet.rows) indices and as many weights",
                            found: "pointers \(pointers[0])…\(pointers[nodes]), \(weightsSet.rows) weights")
        }
        let rows = split(pointers)
        let entries = Int(pointers[rows.lowerBound])..<Int(pointers[rows.upperBound])
        let share = CSRRows(path: path, nodeCount: nodes, rows: rows,
                            indptr: pointers[rows.lowerBound...rows.upperBound].map { $0 - Int64(entries.lowerBound) },
                            indices: try indicesSet.readRows(entries), weights: try weightsSet.readRows(entries))
        for (offset, row) in rows.enumerated() {
            let range = Int(share.indptr[offset])..<Int(share.indptr[offset + 1])
            for entry in range {
                let column = share.indices[entry], at = entries.lowerBound + entry
                if column < 0 || Int(column) >= nodes {
                    throw GCMLError(file: path, object: indicesPath, expected: "video rows in 0..<\(nodes)", found: "\(column) at entry \(at)")
                }
                if Int(column) == row {
                    throw GCMLError(file: path, object: indicesPath, expected: "no self loops", found: "a self loop at row \(row) (entry \(at))")
                }
                if entry > range.lowerBound && share.indices[entry - 1] >= column {
                    throw GCMLError(file: path, object: indicesPath, expected: "columns strictly increasing within each row",
                                    found: "row \(row) unsorted or repeated at entry \(at)")
                }
                if !share.weights[entry].isFinite {
                    throw GCMLError(file: path, object: weightsPath, expected: "finite edge weights", found: "\(share.weights[entry]) at entry \(at)")
                }
            }
        }
        return share
    }
}
