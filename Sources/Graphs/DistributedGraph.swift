import Artifacts
import Contracts
import Distributed
import Foundation
import LinearAlgebra
import Support

/// One rank's share of a graph built over several ranks: the CSR rows it owns, ready to be
/// written as its part of graph.h5 (`partLayout`), and the statistics of the whole graph.
public struct GraphPart: Sendable {
    /// The videos of `rows`, their train and held-out CSR rows (pointers from 0, columns global),
    /// and the cold-start videos among them.
    public var graph: RelationalGraph
    public var rows: Range<Int>
    /// Of the whole graph (the same on every rank).
    public var statistics: GraphStatistics
    /// Bytes this rank sent to other ranks in all-to-alls.
    public var bytesSent: Int

    /// Writes the part (or, on one rank, the whole graph) into an open file.
    public func write(to file: HDF5File) throws {
        try graph.write(to: file)
        try statistics.write(to: file)
    }
}

extension UndirectedEdges {
    /// `from` over pairs split by owner over ranks (`pairs` is this rank's share): the edges of
    /// this rank's pairs. PMI's marginals are summed over ranks (exact for whole-number counts).
    public static func from(_ pairs: PairSums, nodes: Int, weighting: EdgeWeighting, communicator: Communicator) -> UndirectedEdges {
        guard weighting == .pmi, communicator.size > 1 else { return from(pairs, nodes: nodes, weighting: weighting) }
        var (marginal, total) = pmiMarginals(pairs, nodes: nodes)
        communicator.allreduce(&marginal)
        total = communicator.allreduce(total)
        return from(pairs, nodes: nodes, weighting: weighting, marginals: (marginal, total))
    }
}

extension ContentKNN {
    /// The kNN graph with the queries split over ranks: each rank scores whole query blocks
    /// of `TopK` (the one-process blocks, so the same GEMMs and bit-identical cosines) against
    /// every video, and sends each link to the pair's owner (a hash of the pair), which keeps one
    /// edge per pair. Returns this rank's share of the edges and the bytes it sent.
    public static func ownedGraph(_ table: FeatureTable, k: Int, threads: Int = 1, communicator: Communicator,
                                  progress reporter: ProgressReporter = .unnamed) throws -> (edges: UndirectedEdges, bytesSent: Int) {
        let n = table.count, d = table.visualWidth
        let unit = Matrix(rows: n, columns: d, values: table.visual).normalizedRows
        let block = TopK.Blocking().queryBlock
        let blocks = communicator.share(of: (n + block - 1) / block)
        let queries = min(n, blocks.lowerBound * block)..<min(n, blocks.upperBound * block)
        let excluded = queries.map { Int32($0) }
        let progress = reporter.progress("kNN", total: queries.count, unit: "videos")
        let found = unit.values.withUnsafeBufferPointer { corpus in
            excluded.withUnsafeBufferPointer { skip in
                TopK.innerProduct(queries: corpus.baseAddress! + queries.lowerBound * d, queryCount: queries.count, corpus: corpus.baseAddress!,
                                  corpusCount: n, dimension: d, k: k, excluding: skip.baseAddress, threads: threads,
                                  progress: { progress.set($0) })
            }
        }
        progress.finish()
        let links = links(found, firstQuery: queries.lowerBound)
        let ranks = communicator.size
        let routed = try communicator.route(keys: links.keys, values: links.weights) { Partition.hashed($0, parts: ranks) }
        return (edges(keys: routed.keys, weights: routed.values, nodes: n), routed.bytesSent)
    }
}

extension GraphAssembly {
    /// `assemble` over ranks. `edges` is this rank's share of the weighted edges (every edge on
    /// exactly one rank, a < b, sorted). The rows of the CSR are split into contiguous ranges
    /// balanced by degree; each edge goes, as one entry, to the owner of each of its two rows (an
    /// all-to-all); the owners prune to the top k (telling the other end's owner which entries
    /// their row keeps: a second all-to-all), split held-out edges and cold-start nodes by the same
    /// hashes as one process and sort each row's columns. Every dataset then equals the one-process
    /// graph's rows. The statistics need the train degrees of all nodes (gathered) and the
    /// components (each rank's union-find links, gathered).
    public func assemble(owned edges: UndirectedEdges, videoIDs: [String], report: InteractionReport = InteractionReport(),
                         source: String, communicator world: Communicator) throws -> GraphPart {
        let n = videoIDs.count
        let ranks = world.size
        var bytesSent = 0
        let kept = minWeight > 0 ? edges.withMinimumWeight(minWeight) : edges
        let before = world.allreduce(Int64(edges.count))

        // Rows split by degree (before pruning: what the entries cost to route and sort).
        var degree = [Int64](repeating: 0, count: n)
        for e in 0..<kept.count { degree[Int(kept.a[e])] += 1; degree[Int(kept.b[e])] += 1 }
        world.allreduce(&degree)
        var offsets = [Int64](repeating: 0, count: n + 1)
        for i in 0..<n { offsets[i + 1] = offsets[i] + degree[i] }
        degree = []
        let starts = (0..<ranks).map { Partition.range(offsets: offsets, part: $0, of: ranks).lowerBound }
        let rows = Partition.range(offsets: offsets, part: world.rank, of: ranks)
        offsets = []
        // The rank owning a row: the last whose range starts at or before it.
        func owner(_ row: Int) -> Int {
            var low = 0, high = ranks - 1
            while low < high {
                let middle = (low + high + 1) / 2
                if starts[middle] <= row { low = middle } else { high = middle - 1 }
            }
            return low
        }

        // Each edge as an entry of both its rows: key row << 32 | column.
        var keys: [UInt64] = [], weights: [Float] = []
        keys.reserveCapacity(2 * kept.count)
        weights.reserveCapacity(2 * kept.count)
        for e in 0..<kept.count {
            let a = UInt64(UInt32(kept.a[e])), b = UInt64(UInt32(kept.b[e]))
            keys += [a << 32 | b, b << 32 | a]
            weights += [kept.weight[e], kept.weight[e]]
        }
        let routed = try world.route(keys: keys, values: weights) { owner(Int($0 >> 32)) }
        keys = []
        weights = []
        bytesSent += routed.bytesSent
        var entries = RowEntries(keys: routed.keys, weights: routed.values, rows: rows)

        if let topK {
            var keep = entries.topK(topK)
            // The other end keeps the edge too: tell its row's owner.
            var confirm: [UInt64] = []
            for slot in keep.indices where keep[slot] {
                let key = entries.keys[slot]
                confirm.append((key & 0xFFFF_FFFF) << 32 | key >> 32)
            }
            let told = try world.route(keys: confirm, values: [UInt8](repeating: 1, count: confirm.count)) { owner(Int($0 >> 32)) }
            bytesSent += told.bytesSent
            for key in told.keys {
                if let slot = entries.slot(of: key) { keep[slot] = true }
            }
            entries = entries.filter(keep)
        }
        guard world.allreduce(Int64(entries.keys.count)) > 0 else {
            throw GCMLError(file: source, expected: "at least one edge between distinct known videos\(minWeight > 0 ? " with weight >= \(minWeight)" : "")",
                            found: "none (\(before) edge(s) before \(parameter: "minWeight")/\(parameter: "topK"))")
        }

        let sides = holdOut.sides(videoIDs: videoIDs)
        let (train, heldout) = entries.split { sides.isHeldOut($0, $1) }
        let heldoutNodes = rows.filter { sides.cold[$0] }.map { Int32($0) }
        let part = RelationalGraph(videoIDs: Array(videoIDs[rows]), train: train, heldout: heldout, heldoutNodes: heldoutNodes)

        let degrees = try world.allgatherv((0..<rows.count).map { Int32(train.degree($0)) }).values.map(Int.init)
        let components = try Self.components(train, rows: rows, nodes: n, communicator: world)
        let statistics = GraphStatistics(
            degrees: degrees, edges: Int(world.allreduce(Int64(train.entryCount))) / 2,
            heldoutEdges: Int(world.allreduce(Int64(heldout.entryCount))) / 2, heldoutNodes: sides.cold.lazy.filter { $0 }.count,
            components: { components }, report: report)
        return GraphPart(graph: part, rows: rows, statistics: statistics, bytesSent: bytesSent)
    }

    /// Components of the train graph whose rows are split over ranks: each rank unions its rows'
    /// edges, the non-trivial (node, root) links of every rank are gathered, and every rank unions
    /// those: the same count and largest size as a search over the whole graph.
    static func components(_ train: CSRGraph, rows: Range<Int>, nodes: Int, communicator: Communicator) throws -> (Int, Int) {
        var local = UnionFind(count: nodes)
        for row in 0..<train.nodeCount {
            for slot in train.neighbours(row) { local.union(rows.lowerBound + row, Int(train.indices[slot])) }
        }
        var links: [Int32] = []
        for node in 0..<nodes {
            let root = local.find(node)
            if root != node { links += [Int32(node), Int32(root)] }
        }
        let all = try communicator.allgatherv(links).values
        var global = UnionFind(count: nodes)
        for i in stride(from: 0, to: all.count, by: 2) { global.union(Int(all[i]), Int(all[i + 1])) }
        var largest: Int64 = 0
        for node in 0..<nodes where global.find(node) == node { largest = max(largest, global.size(of: node)) }
        return (global.setCount, Int(largest))
    }
}

/// The CSR entries of one rank's rows, sorted by (row, column): key row << 32 | column.
struct RowEntries {
    var keys: [UInt64]
    var weights: [Float]
    let rows: Range<Int>

    init(keys: [UInt64], weights: [Float], rows: Range<Int>) {
        let order = keys.indices.sorted { keys[$0] < keys[$1] }
        self.keys = order.map { keys[$0] }
        self.weights = order.map { weights[$0] }
        self.rows = rows
    }

    private init(sortedKeys: [UInt64], weights: [Float], rows: Range<Int>) {
        keys = sortedKeys
        self.weights = weights
        self.rows = rows
    }

    @inline(__always) static func row(_ key: UInt64) -> Int { Int(key >> 32) }
    @inline(__always) static func column(_ key: UInt64) -> Int32 { Int32(truncatingIfNeeded: key) }

    /// Row pointers over `rows` (from 0).
    func pointers() -> [Int64] {
        var indptr = [Int64](repeating: 0, count: rows.count + 1)
        for key in keys { indptr[Self.row(key) - rows.lowerBound + 1] += 1 }
        for i in 0..<rows.count { indptr[i + 1] += indptr[i] }
        return indptr
    }

    /// The slot of `key`, if present (binary search).
    func slot(of key: UInt64) -> Int? {
        var low = 0, high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if keys[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low < keys.count && keys[low] == key ? low : nil
    }

    /// Per entry, whether it is among its row's k heaviest; ties go to the smaller column
    /// (the rule of `UndirectedEdges.prunedToTopK`).
    func topK(_ k: Int) -> [Bool] {
        var keep = [Bool](repeating: false, count: keys.count)
        let indptr = pointers()
        var order: [Int] = []
        for row in 0..<rows.count {
            let range = Int(indptr[row])..<Int(indptr[row + 1])
            if range.count <= k {
                for slot in range { keep[slot] = true }
                continue
            }
            order = Array(range)
            order.sort { x, y in
                if weights[x] != weights[y] { return weights[x] > weights[y] }
                return Self.column(keys[x]) < Self.column(keys[y])
            }
            for slot in order.prefix(k) { keep[slot] = true }
        }
        return keep
    }

    func filter(_ keep: [Bool]) -> RowEntries {
        let slots = keys.indices.filter { keep[$0] }
        return RowEntries(sortedKeys: slots.map { keys[$0] }, weights: slots.map { weights[$0] }, rows: rows)
    }

    /// The entries as two CSRs over `rows`: those `heldOut(row, column)` chooses, and the rest.
    func split(_ heldOut: (Int, Int) -> Bool) -> (train: CSRGraph, heldout: CSRGraph) {
        let chosen = keys.map { heldOut(Self.row($0), Int(Self.column($0))) }
        let train = filter(chosen.map { !$0 }), heldout = filter(chosen)
        return (train.csr(), heldout.csr())
    }

    func csr() -> CSRGraph { CSRGraph(indptr: pointers(), indices: keys.map(Self.column), weights: weights) }
}
