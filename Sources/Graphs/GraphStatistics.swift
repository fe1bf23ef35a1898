import Artifacts
import Contracts
import Foundation
import Support

/// Summary numbers of a built relational graph, stored as root attributes of
/// graph.h5 and printed by build-graph. Degrees and components are of `/train`.
public struct GraphStatistics: Sendable, Equatable {
    public var nodes = 0
    /// Undirected train edges (each stored twice in the CSR).
    public var edges = 0
    public var heldoutEdges = 0
    public var heldoutNodes = 0
    /// Train degree 0 (cold-start nodes included).
    public var isolatedNodes = 0
    public var degreeMin = 0
    public var degreeMedian = 0.0
    public var degreeMax = 0
    /// Connected components of /train, isolated nodes counting one each.
    public var components = 0
    public var largestComponent = 0
    public var idsUnmapped = 0
    public var malformedLines = 0

    public init() {}

    public init(train: CSRGraph, heldout: CSRGraph, heldoutNodes: Int, report: InteractionReport = InteractionReport()) {
        self.init(degrees: (0..<train.nodeCount).map { train.degree($0) }, edges: train.entryCount / 2, heldoutEdges: heldout.entryCount / 2,
                  heldoutNodes: heldoutNodes, components: { Self.components(train) }, report: report)
    }

    /// From the train degree of every node (row order) and the counts; `components` (count, largest)
    /// is asked for only when there are nodes.
    public init(degrees: [Int], edges: Int, heldoutEdges: Int, heldoutNodes: Int, components: () -> (Int, Int),
                report: InteractionReport = InteractionReport()) {
        let n = degrees.count
        nodes = n
        self.edges = edges
        self.heldoutEdges = heldoutEdges
        self.heldoutNodes = heldoutNodes
        idsUnmapped = report.idsUnmapped
        malformedLines = report.malformedLines
        guard n > 0 else { return }
        var degrees = degrees
        isolatedNodes = degrees.lazy.filter { $0 == 0 }.count
        degrees.sort()
        degreeMin = degrees[0]
        degreeMax = degrees[n - 1]
        degreeMedian = n % 2 == 1 ? Double(degrees[n / 2]) : Double(degrees[n / 2 - 1] + degrees[n / 2]) / 2
        (self.components, largestComponent) = components()
    }

    /// Component count and largest size by breadth-first search.
    static func components(_ graph: CSRGraph) -> (Int, Int) {
        let n = graph.nodeCount
        var seen = [Bool](repeating: false, count: n)
        var queue = [Int32](repeating: 0, count: n)
        var count = 0, largest = 0
        for start in 0..<n where !seen[start] {
            count += 1
            seen[start] = true
            queue[0] = Int32(start)
            var head = 0, tail = 1
            while head < tail {
                let node = Int(queue[head]); head += 1
                for slot in graph.neighbours(node) {
                    let next = Int(graph.indices[slot])
                    if !seen[next] { seen[next] = true; queue[tail] = Int32(next); tail += 1 }
                }
            }
            largest = max(largest, tail)
        }
        return (count, largest)
    }

    /// Name and value of every statistic, in print order (also the root attribute names).
    public var fields: [(String, AttributeValue)] {
        [("nodes", .int(Int64(nodes))), ("edges", .int(Int64(edges))), ("heldout_edges", .int(Int64(heldoutEdges))),
         ("heldout_node_count", .int(Int64(heldoutNodes))), ("isolated_nodes", .int(Int64(isolatedNodes))),
         ("degree_min", .int(Int64(degreeMin))), ("degree_median", .double(degreeMedian)), ("degree_max", .int(Int64(degreeMax))),
         ("components", .int(Int64(components))), ("largest_component", .int(Int64(largestComponent))),
         ("ids_unmapped", .int(Int64(idsUnmapped))), ("malformed_lines", .int(Int64(malformedLines)))]
    }

    public func write(to file: HDF5File) throws {
        for (name, value) in fields { try file.root.setAttribute(name, value) }
    }

    /// One `name  value` line per statistic.
    public var table: String {
        fields.map { name, value in
            let text: String
            if case .double(let d) = value { text = d == d.rounded() ? String(Int(d)) : String(d) } else { text = value.description }
            return name.padding(toLength: 20, withPad: " ", startingAt: 0) + text
        }.joined(separator: "\n")
    }
}
