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
        let queries = communicator.share(of: n, inBlocksOf: TopK.Blocking().queryBlock)
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

/// The video ids as one rank holds them: every id, or (the id map partitioned over ranks) the ids
/// of a contiguous share of the rows, with a way to read the ids of any rows (the features file).
public struct VideoIDShare {
    /// Videos in all.
    public var count: Int
    /// The rows whose ids `ids` holds.
    public var rows: Range<Int>
    public var ids: [String]
    /// The ids of any rows.
    public var read: (Range<Int>) throws -> [String]

    public init(count: Int, rows: Range<Int>, ids: [String], read: @escaping (Range<Int>) throws -> [String]) {
        precondition(rows.count == ids.count && rows.upperBound <= count)
        (self.count, self.rows, self.ids, self.read) = (count, rows, ids, read)
    }

    /// Every id, held by this rank.
    public init(all ids: [String]) { self.init(count: ids.count, rows: 0..<ids.count, ids: ids) { Array(ids[$0]) } }
}

extension HoldOut {
    /// `sides` when ranks hold contiguous shares of the ids (in rank order): each hashes its own
    /// ids and the per-video flags and hashes are gathered (9 B per video on every rank).
    func sides(_ videos: VideoIDShare, communicator: Communicator) throws -> Sides {
        let local = sides(videoIDs: videos.ids)
        guard videos.rows.count != videos.count else { return local }
        let cold = try communicator.allgatherv(local.cold.map { UInt8($0 ? 1 : 0) }).values.map { $0 != 0 }
        let edgeHash = edgeFraction > 0 ? try communicator.allgatherv(local.edgeHash).values : []
        return Sides(cold: cold, edgeHash: edgeHash, holdOut: self)
    }
}

extension GraphAssembly {
    /// Entries a rank sends per round of the CSR step by default (12 B each, so ~50 MB out and in).
    public static let defaultEntriesPerRound = 1 << 22

    /// `assemble` over ranks. `edges` is this rank's share of the weighted edges (every edge on
    /// exactly one rank, a < b, sorted); it is emptied once its entries are sent, so a rank never
    /// holds its edges and its rows' CSR twice over. The rows of the CSR are split into contiguous
    /// ranges balanced by degree; each edge goes, as one entry, to the owner of each of its two rows,
    /// in rounds of at most `entriesPerRound` entries per rank (all-to-alls), straight into the slots
    /// of the owner's CSR (the degrees fix every row's slots, so nothing is sorted but each row's
    /// columns). The owners prune to the top k (telling the other end's owner which entries their
    /// row keeps: more rounds), split held-out edges and cold-start nodes by the same hashes as one
    /// process. Every dataset then equals the one-process graph's rows. The statistics need the train
    /// degrees of all nodes (gathered) and the components (each rank's union-find links, gathered).
    public func assemble(owned edges: inout UndirectedEdges, videos: VideoIDShare, report: InteractionReport = InteractionReport(),
                         source: String, entriesPerRound: Int = defaultEntriesPerRound, communicator world: Communicator) throws -> GraphPart {
        let n = videos.count
        let ranks = world.size
        var bytesSent = 0
        let before = world.allreduce(Int64(edges.count))
        if minWeight > 0 { edges = edges.withMinimumWeight(minWeight) }

        // Rows split by degree (before pruning: what the entries cost to route and place).
        var degree = [Int64](repeating: 0, count: n)
        for e in 0..<edges.count { degree[Int(edges.a[e])] += 1; degree[Int(edges.b[e])] += 1 }
        world.allreduce(&degree)
        var offsets = [Int64](repeating: 0, count: n + 1)
        for i in 0..<n { offsets[i + 1] = offsets[i] + degree[i] }
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

        // Each edge as an entry of both its rows (key row << 32 | column), placed where the owner's CSR has room for it.
        var entries = OwnedRows(rows: rows, degrees: degree[rows])
        degree = []
        bytesSent += try world.routeInRounds(count: 2 * edges.count, perRound: entriesPerRound, key: { i in
            let a = UInt64(UInt32(edges.a[i / 2])), b = UInt64(UInt32(edges.b[i / 2]))
            return i % 2 == 0 ? a << 32 | b : b << 32 | a
        }, value: { edges.weight[$0 / 2] }, destination: { owner(Int($0 >> 32)) }) { keys, weights in
            for (key, weight) in zip(keys, weights) { entries.place(key, weight) }
        }
        edges = UndirectedEdges(nodeCount: n)
        entries.sortColumns()

        var keep: [Bool]?
        if let topK {
            var kept = entries.topK(topK)
            // The other end keeps the edge too: tell its row's owner (key column << 32 | row).
            let slots = kept.indices.filter { kept[$0] }
            bytesSent += try world.routeInRounds(count: slots.count, perRound: entriesPerRound, key: { i in
                let (row, column) = entries.entry(slots[i])
                return UInt64(UInt32(column)) << 32 | UInt64(UInt32(row))
            }, value: { _ in UInt8(1) }, destination: { owner(Int($0 >> 32)) }) { keys, _ in
                for key in keys {
                    if let slot = entries.slot(row: Int(key >> 32), column: Int32(truncatingIfNeeded: key)) { kept[slot] = true }
                }
            }
            keep = kept
        }
        let entryCount = keep.map { $0.lazy.filter { $0 }.count } ?? entries.count
        guard world.allreduce(Int64(entryCount)) > 0 else {
            throw GCMLError(file: source, expected: "at least one edge between distinct known videos\(minWeight > 0 ? " with weight >= \(minWeight)" : "")",
                            found: "none (\(before) edge(s) before \(parameter: "minWeight")/\(parameter: "topK"))")
        }

        let sides = try holdOut.sides(videos, communicator: world)
        let (train, heldout) = entries.split(keeping: keep) { sides.isHeldOut($0, $1) }
        let heldoutNodes = rows.filter { sides.cold[$0] }.map { Int32($0) }
        let part = RelationalGraph(videoIDs: try videos.read(rows), train: train, heldout: heldout, heldoutNodes: heldoutNodes)

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

/// The CSR entries of one rank's rows, filled in any order into the slots their rows' degrees
/// reserve, then sorted by column within each row (each row's columns are distinct).
public struct OwnedRows {
    public let rows: Range<Int>
    /// Row pointers over `rows` (from 0).
    public private(set) var indptr: [Int64]
    public private(set) var columns: [Int32]
    public private(set) var weights: [Float]
    /// Per row: its next free slot while placing.
    private var next: [Int64]

    /// Rows `rows` whose entry counts are `degrees` (one per row).
    public init<Degrees: Collection>(rows: Range<Int>, degrees: Degrees) where Degrees.Element == Int64 {
        self.rows = rows
        var indptr = [Int64](repeating: 0, count: degrees.count + 1)
        for (i, degree) in degrees.enumerated() { indptr[i + 1] = indptr[i] + degree }
        self.indptr = indptr
        let count = Int(indptr.last ?? 0)
        columns = [Int32](repeating: 0, count: count)
        weights = [Float](repeating: 0, count: count)
        next = Array(indptr.dropLast())
    }

    public var count: Int { columns.count }

    /// Places an entry (key row << 32 | column) in the next free slot of its row.
    @inline(__always)
    public mutating func place(_ key: UInt64, _ weight: Float) {
        let row = Int(key >> 32) - rows.lowerBound
        let slot = Int(next[row])
        precondition(slot < Int(indptr[row + 1]), "row \(row + rows.lowerBound): more entries than its degree")
        columns[slot] = Int32(truncatingIfNeeded: key)
        weights[slot] = weight
        next[row] += 1
    }

    /// Sorts each row's entries by column (after every entry is placed).
    public mutating func sortColumns() {
        precondition(zip(next, indptr.dropFirst()).allSatisfy { $0 == $1 }, "rows with fewer entries than their degree")
        next = []
        var packed: [UInt64] = []
        for row in 0..<rows.count {
            let range = Int(indptr[row])..<Int(indptr[row + 1])
            packed.removeAll(keepingCapacity: true)
            for slot in range { packed.append(UInt64(UInt32(bitPattern: columns[slot])) << 32 | UInt64(weights[slot].bitPattern)) }
            packed.sort()
            for (slot, value) in zip(range, packed) {
                columns[slot] = Int32(truncatingIfNeeded: value >> 32)
                weights[slot] = Float(bitPattern: UInt32(truncatingIfNeeded: value))
            }
        }
    }

    /// The (global row, column) of a slot.
    public func entry(_ slot: Int) -> (row: Int, column: Int32) {
        var low = 0, high = rows.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if indptr[middle] <= Int64(slot) { low = middle } else { high = middle - 1 }
        }
        return (rows.lowerBound + low, columns[slot])
    }

    /// The slot of (global row, column), if present (binary search in the sorted row).
    public func slot(row: Int, column: Int32) -> Int? {
        let local = row - rows.lowerBound
        guard (0..<rows.count).contains(local) else { return nil }
        var low = Int(indptr[local]), high = Int(indptr[local + 1])
        while low < high {
            let middle = (low + high) / 2
            if columns[middle] < column { low = middle + 1 } else { high = middle }
        }
        return low < Int(indptr[local + 1]) && columns[low] == column ? low : nil
    }

    /// Per entry, whether it is among its row's k heaviest; ties go to the smaller column
    /// (the rule of `UndirectedEdges.prunedToTopK`).
    public func topK(_ k: Int) -> [Bool] {
        var keep = [Bool](repeating: false, count: count)
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
                return columns[x] < columns[y]
            }
            for slot in order.prefix(k) { keep[slot] = true }
        }
        return keep
    }

    /// The entries `keep` chooses (all when nil) as two CSRs over `rows`: those `heldOut(row, column)`
    /// chooses, and the rest. The held-out entries are copied out and the rest compacted in place,
    /// so the rows are never held twice; the rows are empty afterwards.
    public mutating func split(keeping keep: [Bool]?, _ heldOut: (Int, Int) -> Bool) -> (train: CSRGraph, heldout: CSRGraph) {
        var trainIndptr = [Int64](repeating: 0, count: rows.count + 1), heldoutIndptr = trainIndptr
        var heldoutColumns: [Int32] = [], heldoutWeights: [Float] = []
        var written = 0
        for row in 0..<rows.count {
            for slot in Int(indptr[row])..<Int(indptr[row + 1]) where keep?[slot] ?? true {
                if heldOut(rows.lowerBound + row, Int(columns[slot])) {
                    heldoutColumns.append(columns[slot])
                    heldoutWeights.append(weights[slot])
                } else {
                    // Writing never passes reading (written ≤ slot).
                    columns[written] = columns[slot]
                    weights[written] = weights[slot]
                    written += 1
                }
            }
            trainIndptr[row + 1] = Int64(written)
            heldoutIndptr[row + 1] = Int64(heldoutColumns.count)
        }
        columns.removeLast(columns.count - written)
        weights.removeLast(weights.count - written)
        let train = CSRGraph(indptr: trainIndptr, indices: columns, weights: weights)
        (indptr, columns, weights) = ([Int64](repeating: 0, count: rows.count + 1), [], [])
        return (train, CSRGraph(indptr: heldoutIndptr, indices: heldoutColumns, weights: heldoutWeights))
    }
}
