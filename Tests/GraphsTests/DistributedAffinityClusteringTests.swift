import Contracts
import Foundation
import Graphs
import Support
import TestSupport
import XCTest

/// Ranks simulated in one process: one thread per rank, collectives through a shared mailbox.
private final class SimulatedRanks: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var deposits: [Any?]
    private var delivered: [Any] = []
    private var arrived = 0
    private var generation = 0

    init(size: Int) {
        self.size = size
        deposits = [Any?](repeating: nil, count: size)
    }

    /// Every rank's `value`, by rank, once every rank has called this (a barrier).
    func collect<T>(_ value: T, rank: Int) -> [T] {
        condition.lock()
        defer { condition.unlock() }
        deposits[rank] = value
        arrived += 1
        let mine = generation
        if arrived == size {
            delivered = deposits.map { $0! }
            deposits = [Any?](repeating: nil, count: size)
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == mine { condition.wait() }
        }
        return delivered.map { $0 as! T }
    }

    /// Runs `body` on every rank at once (threads, so a rank blocked in a collective never starves another).
    func run<R>(_ body: @escaping (SimulatedExchange) -> R) -> [R] {
        let results = RankResults<R>(count: size)
        let lock = NSLock(), done = DispatchGroup()
        for rank in 0..<size {
            done.enter()
            let thread = Thread { [self] in
                let result = body(SimulatedExchange(rank: rank, ranks: self))
                lock.lock()
                results.values[rank] = result
                lock.unlock()
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        done.wait()
        return results.values.map { $0! }
    }
}

/// The ranks' results, each written once under a lock.
private final class RankResults<R>: @unchecked Sendable {
    var values: [R?]
    init(count: Int) { values = [R?](repeating: nil, count: count) }
}

private final class SimulatedExchange: ClusteringExchange {
    let rank: Int
    let ranks: SimulatedRanks
    var size: Int { ranks.size }
    init(rank: Int, ranks: SimulatedRanks) {
        self.rank = rank
        self.ranks = ranks
    }
    func exchange(_ messages: [[Int32]]) throws -> [[Int32]] { ranks.collect(messages, rank: rank).map { $0[rank] } }
    func gather(_ values: [Int32]) throws -> [Int32] { ranks.collect(values, rank: rank).flatMap { $0 } }
    func sum(_ values: [Int64]) -> [Int64] {
        ranks.collect(values, rank: rank).reduce([Int64](repeating: 0, count: values.count)) { zip($0, $1).map { $0 &+ $1 } }
    }
    // Deliberately uneven (the first rank owns the smallest share), so cluster owners differ from row owners.
    func share(of count: Int, part: Int) -> Range<Int> {
        func start(_ p: Int) -> Int { p == 0 ? 0 : min(count, count * (p * p + p) / (size * size + size)) }
        return start(part)..<start(part + 1)
    }
}

/// Rows split at `cuts` (sorted node boundaries inside 0...nodes), one share per rank.
private func shares(_ graph: CSRGraph, cuts: [Int]) -> [CSRRows] {
    let bounds = [0] + cuts + [graph.nodeCount]
    return (0..<(bounds.count - 1)).map { CSRRows(graph, rows: bounds[$0]..<bounds[$0 + 1]) }
}

/// Distributed clustering of `graph` over `cuts.count + 1` simulated ranks: the outcome of every rank.
private func clusterOnRanks(_ graph: CSRGraph, cuts: [Int], _ clustering: AffinityClustering,
                            stepEntries: Int = 1 << 22) -> [Result<DistributedAffinityClustering.Outcome, Error>] {
    let parts = shares(graph, cuts: cuts)
    return SimulatedRanks(size: parts.count).run { exchange in
        Result { try DistributedAffinityClustering(clustering, stepEntries: stepEntries).cluster(parts[exchange.rank], exchange: exchange, keepsLevels: exchange.rank == 0) }
    }
}

/// A random undirected graph: isolated nodes (the last tenth never gets an edge), several components
/// (nodes only link within their block of `blockSize`), weights from `weight`.
private func blockGraph(nodes: Int, edges: Int, blockSize: Int, seed: UInt64, weight: (inout SeededGenerator) -> Float) -> CSRGraph {
    var generator = SeededGenerator(seed: seed)
    var seen = Set<Int>(), list: [(Int, Int, Float)] = []
    let connected = nodes * 9 / 10
    while list.count < edges {
        let a = generator.below(connected)
        let block = a / blockSize * blockSize
        let b = block + generator.below(min(blockSize, connected - block))
        if a == b || !seen.insert(min(a, b) * nodes + max(a, b)).inserted { continue }
        list.append((a, b, weight(&generator)))
    }
    return undirectedGraph(nodes: nodes, list)
}

final class DistributedAffinityClusteringTests: XCTestCase {
    /// The hand-drawn path of `AffinityClusteringTests` split over 3 ranks mid-cluster: the same levels as worked out by hand.
    func testHandDrawnPathOnThreeRanks() throws {
        let graph = undirectedGraph(nodes: 11, [(0, 1, 5), (1, 2, 3), (2, 3, 5), (3, 4, 1), (4, 5, 2), (5, 6, 2), (6, 7, 4), (9, 10, 1)])
        let outcomes = clusterOnRanks(graph, cuts: [3, 7], AffinityClustering(levels: 3, linkage: .max))
        let tree = try outcomes[0].get().result.tree
        XCTAssertEqual(tree.level(1), ClusterLevel(assignment: [0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 5], size: [2, 2, 2, 2, 1, 2], parent: [0, 0, 1, 1, 2, 3]))
        XCTAssertEqual(tree.level(2), ClusterLevel(assignment: [0, 0, 0, 0, 1, 1, 1, 1, 2, 3, 3], size: [4, 4, 1, 2], parent: [0, 0, 1, 2]))
        XCTAssertEqual(tree.level(3), ClusterLevel(assignment: [0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 2], size: [8, 1, 2], parent: nil))
        XCTAssertEqual(try outcomes[0].get().result.linkWeight, 23)
    }

    /// Average linkage by hand (see `AffinityClusteringTests`): A–C's mean (9.5 + 1)/2 is summed from two ranks.
    func testAverageLinkageByHandAcrossRanks() throws {
        let graph = undirectedGraph(nodes: 8, [(0, 1, 10), (2, 3, 10), (4, 5, 10), (6, 7, 10),
                                               (0, 2, 9), (0, 4, 9.5), (1, 5, 1), (3, 5, 4), (5, 6, 6)])
        let result = try clusterOnRanks(graph, cuts: [1, 5], AffinityClustering(levels: 3, linkage: .average))[0].get().result
        XCTAssertEqual(result.tree.level(1).parent, [0, 0, 1, 1])
        XCTAssertEqual(result.tree.level(2).assignment, [0, 0, 0, 0, 1, 1, 1, 1])
        let round3 = result.links.filter { $0.round == 3 }
        XCTAssertEqual(round3.count, 1)
        XCTAssertEqual(Double(round3.first?.weight ?? 0), (9.5 + 1 + 4) / 3, accuracy: 1e-6)
    }

    /// Many ties (weights 1…3), isolated nodes, several components, both linkages, caps, 1–4 ranks
    /// (uneven and empty shares): every rank's links and rank 0's tree equal one process's.
    func testTiesComponentsAndCapsMatchOneProcess() throws {
        for (index, seed) in [UInt64(3), 11].enumerated() {
            let graph = blockGraph(nodes: 700, edges: 1600, blockSize: 90, seed: seed) { Float(1 + $0.below(3)) }
            for linkage in AffinityClustering.Linkage.allCases {
                for cap in [nil, 12] as [Int?] {
                    let clustering = AffinityClustering(levels: 6, linkage: linkage, maxClusterSize: cap)
                    let one = clustering.cluster(graph)
                    for cuts in [[], [350], [0, 100, 100], [233, 467, 700][..<(2 + index)].map { $0 }] {
                        let outcomes = clusterOnRanks(graph, cuts: cuts, clustering, stepEntries: cuts.count == 1 ? 40 : 1 << 22)
                        let context = "seed \(seed) \(linkage) cap \(String(describing: cap)) cuts \(cuts)"
                        XCTAssertEqual(try outcomes[0].get().result.tree, one.tree, context)
                        XCTAssertEqual(try outcomes[0].get().result.links, one.links, context)
                    }
                }
            }
        }
    }

    /// Weights over 16 orders of magnitude, so float64 sums depend on the order of the additions:
    /// average linkage still gives the one-process weights bit for bit (links compare weights exactly).
    func testAverageLinkageSumsInTheOneProcessOrder() throws {
        let graph = blockGraph(nodes: 500, edges: 3000, blockSize: 500, seed: 5) { Float(pow(10, Double($0.below(160)) / 10 - 8)) * (1 + Float($0.below(1000)) / 7) }
        let clustering = AffinityClustering(levels: 5, linkage: .average)
        let one = clustering.cluster(graph)
        XCTAssertGreaterThan(one.links.count, 400)
        for cuts in [[125, 250, 375], [17, 400]] {
            let outcomes = clusterOnRanks(graph, cuts: cuts, clustering)
            XCTAssertEqual(try outcomes[0].get().result.tree, one.tree)
            XCTAssertEqual(try outcomes[0].get().result.links.map(\.weight.bitPattern), one.links.map(\.weight.bitPattern))
        }
    }

    /// Worked by hand so that the order of the float64 additions decides the answer. Round 1 forms
    /// A = {0, 1, 2} and B = {3, 4, 5} (their internal edges are the strongest of every video). The
    /// entries from A to B, in row order, weigh 1 (row 0), 2⁶⁰ (row 1) and −2⁶⁰ (row 2): one process adds
    /// (1 + 2⁶⁰) − 2⁶⁰ = 0 (the 1 is rounded away), so the round-2 link weighs 0; adding row 0's share and
    /// rows 1–2's share separately would give (1) + (0) and a mean of 1/3.
    func testAverageLinkageAddsInRowOrderAcrossRanks() throws {
        let big = Float(1 << 60)
        let graph = undirectedGraph(nodes: 6, [(0, 1, 2 * big), (0, 2, 5), (3, 4, 4 * big), (3, 5, 5),
                                               (0, 3, 1), (1, 4, big), (2, 5, -big)])
        for cuts in [[], [1], [2], [1, 4], [0, 1, 3, 6]] {
            let outcomes = clusterOnRanks(graph, cuts: cuts, AffinityClustering(levels: 2, linkage: .average))
            let result = try outcomes[0].get().result
            XCTAssertEqual(result.tree.level(1).assignment, [0, 0, 0, 1, 1, 1], "cuts \(cuts)")
            XCTAssertEqual(result.tree.level(2).size, [6], "cuts \(cuts)")
            let round2 = result.links.filter { $0.round == 2 }
            XCTAssertEqual(round2.map(\.weight), [0], "cuts \(cuts)")
        }
    }

    /// A round that merges nothing ends the scans; the remaining levels repeat it, as one process writes them.
    func testStopsScanningWhenARoundMergesNothing() throws {
        let graph = undirectedGraph(nodes: 5, [(0, 1, 2), (1, 2, 1), (3, 4, 1)])
        let clustering = AffinityClustering(levels: 10, linkage: .max)
        let outcome = try clusterOnRanks(graph, cuts: [2], clustering)[0].get()
        XCTAssertEqual(outcome.roundsRun, 2, "round 1 merges everything it can, round 2 finds nothing")
        XCTAssertEqual(outcome.result.tree.levels.count, 10)
        XCTAssertEqual(outcome.result.tree, clustering.cluster(graph).tree)
        for level in outcome.result.tree.levels.dropFirst() {
            XCTAssertEqual(level.assignment, [0, 0, 0, 1, 1])
        }
        XCTAssertEqual(outcome.result.tree.levels.last?.parent, nil)
        XCTAssertEqual(outcome.result.tree.level(9).parent, [0, 1])
    }

    /// Symmetry spans ranks: an edge stored one way only (each share well-formed on its own) is refused on every rank.
    func testAsymmetricGraphIsRefusedOnEveryRank() {
        var graph = undirectedGraph(nodes: 4, [(0, 1, 1), (2, 3, 1), (1, 2, 2)])
        // Row 3 (rank 1) keeps 3→2 but with another weight than 2→3.
        graph.weights[graph.weights.count - 1] = 7
        for outcome in clusterOnRanks(graph, cuts: [2], AffinityClustering(levels: 2)) {
            XCTAssertThrowsError(try outcome.get()) { error in
                XCTAssertTrue("\(error)".contains("symmetric"), "\(error)")
            }
        }
    }

    /// Pointer jumping against union-find on the same links: long chains both ways (many steps), stars,
    /// 2-cycles, longer cycles with tails (possible with average linkage), isolated clusters, random
    /// links; 1–4 ranks with uneven shares. Same representative exactly when union-find joins them.
    func testPointerJumpingFindsTheUnionFindComponents() throws {
        var generator = SeededGenerator(seed: 17)
        var link = [Int32](repeating: -1, count: 1000)
        for c in 0..<199 { link[c] = Int32(c + 1) }                   // chain 0 → 1 → … → 199, ending at a root
        for c in 201..<400 { link[c] = Int32(c - 1) }                 // chain 399 → … → 200 → 201 (a 2-cycle at its end)
        link[200] = 201
        for c in 401..<500 { link[c] = 400 }                          // a star
        for c in 500..<507 { link[c] = Int32(c == 506 ? 500 : c + 1) } // a 7-cycle with a tail of 40
        for c in 507..<547 { link[c] = Int32(c == 507 ? 503 : c - 1) }
        for c in 547..<555 { link[c] = Int32(c == 554 ? 547 : c + 1) } // an 8-cycle
        for c in 600..<900 { link[c] = Int32(600 + generator.below(300)) } // random links: cycles and trees
        var sets = UnionFind(count: link.count)
        for (c, d) in link.enumerated() where d >= 0 { sets.union(c, Int(d)) }
        for ranks in 1...4 {
            let results = SimulatedRanks(size: ranks).run { exchange in
                Result { () -> PointerJumping.Components in
                    let share = exchange.share(of: link.count, part: exchange.rank)
                    return try PointerJumping.components(link: Array(link[share]), clusterCount: link.count, exchange: exchange)
                }
            }
            let representative = try results.flatMap { try $0.get().representative }
            XCTAssertEqual(representative.count, link.count)
            var byRoot: [Int: Int32] = [:], byRepresentative: [Int32: Int] = [:]
            for c in link.indices {
                let root = sets.find(c)
                XCTAssertEqual(byRoot[root, default: representative[c]], representative[c], "cluster \(c) on \(ranks) ranks")
                XCTAssertEqual(byRepresentative[representative[c], default: root], root, "cluster \(c) on \(ranks) ranks")
                byRoot[root] = representative[c]
                byRepresentative[representative[c]] = root
            }
            XCTAssertGreaterThanOrEqual(try results[0].get().steps, 8, "a chain of 200 needs about log₂ 200 steps")
        }
    }

    /// The cap binds inside one component, worked by hand: the path 0–1–2–3–4–5 with weights
    /// 5, 4, 3, 2, 1 links every video into one component in round 1; with a cap of 3 the links go
    /// strongest first: 0→1, 2→1 make {0, 1, 2}; 3→2 would make 4 and is skipped; 4→3 and 5→4
    /// make {3, 4, 5}. Split over 3 ranks across the component, as one process.
    func testCapBindsInsideAComponentAcrossRanks() throws {
        let graph = undirectedGraph(nodes: 6, [(0, 1, 5), (1, 2, 4), (2, 3, 3), (3, 4, 2), (4, 5, 1)])
        let clustering = AffinityClustering(levels: 1, linkage: .max, maxClusterSize: 3)
        let expected = [AffinityClustering.Link(round: 1, from: 0, to: 1, weight: 5), AffinityClustering.Link(round: 1, from: 2, to: 1, weight: 4),
                        AffinityClustering.Link(round: 1, from: 4, to: 3, weight: 2), AffinityClustering.Link(round: 1, from: 5, to: 4, weight: 1)]
        XCTAssertEqual(clustering.cluster(graph).links, expected)
        for cuts in [[2, 4], [1, 5], [0, 3]] {
            let result = try clusterOnRanks(graph, cuts: cuts, clustering)[0].get().result
            XCTAssertEqual(result.tree.level(1).assignment, [0, 0, 0, 1, 1, 1], "cuts \(cuts)")
            XCTAssertEqual(result.links, expected, "cuts \(cuts)")
        }
    }

    /// Long chains with a binding cap: weights rise along paths, so every video links to the next
    /// and a round's component is a long chain; the capped unions (strongest first) cut it into
    /// pieces. 1 vs 3 ranks, both linkages, several caps: the same tree and links as one process.
    func testCappedChainsMatchOneProcess() throws {
        var list: [(Int, Int, Float)] = []
        for start in stride(from: 0, to: 600, by: 150) {
            for v in start..<(start + 149) { list.append((v, v + 1, Float(v - start + 1))) }
        }
        for v in stride(from: 0, to: 590, by: 37) { list.append((v, v + 10, 0.5)) }      // some shortcuts
        let graph = undirectedGraph(nodes: 600, list)
        for linkage in AffinityClustering.Linkage.allCases {
            for cap in [nil, 5, 40] as [Int?] {
                let clustering = AffinityClustering(levels: 5, linkage: linkage, maxClusterSize: cap)
                let one = clustering.cluster(graph)
                let outcomes = clusterOnRanks(graph, cuts: [130, 420], clustering, stepEntries: 25)
                XCTAssertEqual(try outcomes[0].get().result.tree, one.tree, "\(linkage) cap \(String(describing: cap))")
                XCTAssertEqual(try outcomes[0].get().result.links, one.links, "\(linkage) cap \(String(describing: cap))")
            }
        }
    }

    /// Average linkage with many near-ties (weights 1 or 1.5 plus a few float32 ulps, so many means
    /// are equal or differ only in their last bits and the tie-break and exact comparisons decide),
    /// in exchange steps down to one entry: 3 ranks give the one-process tree and link weights bit
    /// for bit. (The order of additions is what `testAverageLinkageSumsInTheOneProcessOrder` checks.)
    func testAverageLinkageNearTiesMatchOneProcessBitForBit() throws {
        let graph = blockGraph(nodes: 900, edges: 4000, blockSize: 300, seed: 23) { generator in
            var weight = Float(1) + Float(generator.below(2)) * 0.5
            for _ in 0..<generator.below(6) { weight = weight.nextUp }
            return weight
        }
        for cap in [nil, 30] as [Int?] {
            let clustering = AffinityClustering(levels: 6, linkage: .average, maxClusterSize: cap)
            let one = clustering.cluster(graph)
            XCTAssertGreaterThan(one.links.count, 700)
            for (cuts, step) in [([300, 600], 1 << 22), ([50, 870], 13), ([450, 451], 1)] {
                let outcomes = clusterOnRanks(graph, cuts: cuts, clustering, stepEntries: step)
                let context = "cap \(String(describing: cap)) cuts \(cuts) step \(step)"
                XCTAssertEqual(try outcomes[0].get().result.tree, one.tree, context)
                XCTAssertEqual(try outcomes[0].get().result.links.map(\.weight.bitPattern), one.links.map(\.weight.bitPattern), context)
                XCTAssertEqual(try outcomes[0].get().result.links, one.links, context)
            }
        }
    }
}
