import Contracts
import Graphs
import Support
import XCTest

/// The CSR rows a rank owns, filled entry by entry in any order (as all-to-all rounds deliver
/// them), against the one-process assembly of the same edges (`GraphAssembly.assemble`:
/// `prunedToTopK`, `HoldOut.split`, `symmetricCSR`, an independent code path).
final class OwnedRowsTests: XCTestCase {
    func testRowsFilledInAnyOrderEqualTheOneProcessGraphRows() throws {
        var random = SeededGenerator(seed: 17)
        let nodes = 90
        var keys = Set<UInt64>()
        while keys.count < 700 {
            let a = random.below(nodes), b = (a + 1 + random.below(nodes - 1)) % nodes
            keys.insert(PairSums.key(Int32(a), Int32(b)))
        }
        let sorted = keys.sorted()
        // Few distinct weights: many ties for the top-k rule.
        let pairs = PairSums(keys: sorted, values: sorted.map { _ in Double(1 + random.below(4)) })
        let edges = UndirectedEdges.from(pairs, nodes: nodes, weighting: .count)
        let ids = (0..<nodes).map { "v\($0)" }
        for topK in [nil, 1, 3] as [Int?] {
            let assembly = GraphAssembly(topK: topK, holdOut: HoldOut(nodeFraction: 0.15, edgeFraction: 0.3, seed: 2))
            let whole = try assembly.assemble(edges, videoIDs: ids, source: "test").graph
            let sides = assembly.holdOut.sides(videoIDs: ids)
            // Three owners (one empty), entries delivered in a shuffled order.
            let cuts = [0, 40, 40, nodes]
            var degree = [Int64](repeating: 0, count: nodes)
            for e in 0..<edges.count { degree[Int(edges.a[e])] += 1; degree[Int(edges.b[e])] += 1 }
            var entries: [(UInt64, Float)] = []
            for e in 0..<edges.count {
                let a = UInt64(edges.a[e]), b = UInt64(edges.b[e])
                entries += [(a << 32 | b, edges.weight[e]), (b << 32 | a, edges.weight[e])]
            }
            entries.shuffle(using: &random)
            var owners = (0..<3).map { OwnedRows(rows: cuts[$0]..<cuts[$0 + 1], degrees: degree[cuts[$0]..<cuts[$0 + 1]]) }
            func owner(_ row: Int) -> Int { (0..<3).last { cuts[$0] <= row && cuts[$0 + 1] > row }! }
            for (key, weight) in entries { owners[owner(Int(key >> 32))].place(key, weight) }
            for o in 0..<3 { owners[o].sortColumns() }
            // Top k: an entry stays when its row keeps it or the other end's row keeps the edge.
            var keeps: [[Bool]?] = owners.map { rows in topK.map { rows.topK($0) } }
            if topK != nil {
                let chosen = owners.map { rows in rows.topK(topK!) }
                for o in 0..<3 {
                    for slot in 0..<owners[o].count where chosen[o][slot] {
                        let (row, column) = owners[o].entry(slot)
                        let other = owner(Int(column))
                        let mirrored = try XCTUnwrap(owners[other].slot(row: Int(column), column: Int32(row)))
                        keeps[other]![mirrored] = true
                    }
                }
            }
            var train = CSRGraph(indptr: [0], indices: [], weights: []), heldout = train
            for o in 0..<3 {
                let (t, h) = owners[o].split(keeping: keeps[o]) { sides.isHeldOut($0, $1) }
                train.indptr += t.indptr.dropFirst().map { $0 + train.indptr.last! }
                train.indices += t.indices
                train.weights += t.weights
                heldout.indptr += h.indptr.dropFirst().map { $0 + heldout.indptr.last! }
                heldout.indices += h.indices
                heldout.weights += h.weights
            }
            XCTAssertEqual(train, whole.train, "top k \(String(describing: topK))")
            XCTAssertEqual(heldout, whole.heldout, "top k \(String(describing: topK))")
            XCTAssertGreaterThan(heldout.entryCount, 0)
        }
    }

    func testSlotAndEntryFindWhatWasPlaced() {
        var rows = OwnedRows(rows: 5..<8, degrees: [Int64(2), 0, 3])
        for (row, column, weight) in [(7, 1, Float(3)), (5, 9, 1), (7, 0, 2), (5, 2, 4), (7, 8, 5)] {
            rows.place(UInt64(row) << 32 | UInt64(column), weight)
        }
        rows.sortColumns()
        XCTAssertEqual(rows.indptr, [0, 2, 2, 5])
        XCTAssertEqual(rows.columns, [2, 9, 0, 1, 8])
        XCTAssertEqual(rows.weights, [4, 1, 2, 3, 5])
        XCTAssertEqual(rows.slot(row: 7, column: 1), 3)
        XCTAssertNil(rows.slot(row: 7, column: 2))
        XCTAssertNil(rows.slot(row: 6, column: 0))
        XCTAssertNil(rows.slot(row: 9, column: 0))
        XCTAssertEqual(rows.entry(4).row, 7)
        XCTAssertEqual(rows.entry(1).row, 5)
        XCTAssertEqual(rows.topK(1), [true, false, false, false, true])
    }
}
