import Contracts
import Foundation
import Graphs
import Interactions
import Support
import XCTest

/// Helpers shared by the build-graph tests in this target.
enum GraphFixtures {
    static func folder() throws -> String {
        let path = NSTemporaryDirectory() + "gcml-graph-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func sessions(_ text: String, ids: [String], window: Int, skipMalformed: Bool = false) throws
        -> (pairs: PairSums, report: InteractionReport) {
        let path = try folder() + "/sessions.tsv"
        try write(text, to: path)
        return try Interactions.countSessions(path: path, index: try VideoIndex(ids: ids), window: window, skipMalformed: skipMalformed)
    }

    static func pairs(_ text: String, ids: [String], skipMalformed: Bool = false) throws -> (pairs: PairSums, report: InteractionReport) {
        let path = try folder() + "/pairs.tsv"
        try write(text, to: path)
        return try Interactions.countPairs(path: path, index: try VideoIndex(ids: ids), skipMalformed: skipMalformed)
    }

    /// Dense symmetric matrix of a CSR graph, for comparing with hand-written expectations.
    static func dense(_ graph: CSRGraph) -> [[Float]] {
        var m = [[Float]](repeating: [Float](repeating: 0, count: graph.nodeCount), count: graph.nodeCount)
        for i in 0..<graph.nodeCount { for s in graph.neighbours(i) { m[i][Int(graph.indices[s])] = graph.weights[s] } }
        return m
    }

    /// Checks the CSR invariants of contract v1: symmetric, no self loops, columns strictly increasing within rows.
    static func assertCanonical(_ graph: CSRGraph, file: StaticString = #filePath, line: UInt = #line) {
        let m = dense(graph)
        for i in 0..<graph.nodeCount {
            let cols = graph.neighbours(i).map { graph.indices[$0] }
            XCTAssertEqual(cols, cols.sorted(), "row \(i) not sorted", file: file, line: line)
            XCTAssertEqual(Set(cols).count, cols.count, "row \(i) has duplicates", file: file, line: line)
            XCTAssertFalse(cols.contains(Int32(i)), "self loop at \(i)", file: file, line: line)
            for j in 0..<graph.nodeCount { XCTAssertEqual(m[i][j], m[j][i], "asymmetric at \(i),\(j)", file: file, line: line) }
        }
    }
}

final class CoWatchTests: XCTestCase {
    let ids = ["v0", "v1", "v2", "v3", "v4"]

    func testSessionWindowEdgesCountOncePerSessionAndSumOverSessions() throws {
        // s1: v0 v1 v2 v0 v3 with window 3 pairs positions i<j with j-i <= 2:
        //   (v0,v1) (v0,v2) (v1,v2) (v1,v0)=dup (v2,v0)=dup (v2,v3) (v0,v3) -> {01, 02, 12, 23, 03}, each once.
        // s2: v1 v2 -> {12}.   s3: v4 alone -> nothing.
        let text = "s1\tv0\ns1\tv1\ns1\tv2\ns1\tv0\ns1\tv3\ns2\tv1\t17\ns2\tv2\t18\ns3\tv4\n"
        let (pairs, report) = try GraphFixtures.sessions(text, ids: ids, window: 3)
        let csr = UndirectedEdges.from(pairs, nodes: 5, weighting: .count).symmetricCSR()
        XCTAssertEqual(GraphFixtures.dense(csr), [
            [0, 1, 1, 1, 0],
            [1, 0, 2, 0, 0],
            [1, 2, 0, 1, 0],
            [1, 0, 1, 0, 0],
            [0, 0, 0, 0, 0],
        ])
        XCTAssertEqual(csr.indptr, [0, 3, 5, 8, 10, 10])
        XCTAssertEqual(csr.indices, [1, 2, 3, 0, 2, 0, 1, 3, 0, 2])
        XCTAssertEqual(report.sessions, 3)
        XCTAssertEqual(report.lines, 8)
        XCTAssertEqual(report.idsUnmapped, 0)
        GraphFixtures.assertCanonical(csr)
    }

    func testBlocksHandOnEachEndedSessionsPairsAndSumToTheWholeCount() throws {
        // The example above with a budget of one add: s1's five pairs are added when s2's first row
        // ends it, s2's pair when s3 starts; s3 forms none, so the last block is empty.
        let text = "s1\tv0\ns1\tv1\ns1\tv2\ns1\tv0\ns1\tv3\ns2\tv1\t17\ns2\tv2\t18\ns3\tv4\n"
        let path = try GraphFixtures.folder() + "/sessions.tsv"
        try GraphFixtures.write(text, to: path)
        var blocks: [(keys: [UInt64], values: [Double], last: Bool)] = []
        let report = try Interactions.countSessions(pieces: [InputPiece(path: path)], index: try VideoIndex(ids: ids), window: 3,
                                                    blockAdds: 1) { block, last in blocks.append((block.keys, block.values, last)) }
        let key = PairSums.key
        XCTAssertEqual(blocks.map(\.keys), [[key(0, 1), key(0, 2), key(0, 3), key(1, 2), key(2, 3)].sorted(), [key(1, 2)], []])
        XCTAssertEqual(blocks.map(\.values), [[1, 1, 1, 1, 1], [1], []])
        XCTAssertEqual(blocks.map(\.last), [false, false, true])
        XCTAssertEqual(report.sessions, 3)
        XCTAssertEqual(report.lines, 8)
    }

    func testWindowTwoPairsOnlyAdjacentWatches() throws {
        let (pairs, _) = try GraphFixtures.sessions("a\tv0\na\tv1\na\tv2\na\tv3\n", ids: ids, window: 2)
        let edges = UndirectedEdges.from(pairs, nodes: 5, weighting: .count)
        XCTAssertEqual(edges.a, [0, 1, 2])
        XCTAssertEqual(edges.b, [1, 2, 3])
        XCTAssertEqual(edges.weight, [1, 1, 1])
    }

    func testUnknownVideosKeepTheirPlaceInTheWindowAndAreReported() throws {
        let text = "a\tv0\na\tghost\na\tv1\nb\tv2\nb\tother\n"
        let w2 = try GraphFixtures.sessions(text, ids: ids, window: 2)
        XCTAssertEqual(w2.pairs.count, 0)
        XCTAssertEqual(w2.report.idsUnmapped, 2)
        XCTAssertEqual(w2.report.unmappedExamples, ["ghost", "other"])
        XCTAssertNotNil(w2.report.unmappedWarning)
        let w3 = try GraphFixtures.sessions(text, ids: ids, window: 3)
        XCTAssertEqual(UndirectedEdges.from(w3.pairs, nodes: 5, weighting: .count).a, [0])
    }

    func testSameSessionIdAfterAnotherSessionStartsANewSession() throws {
        // Sessions must be contiguous: "a" reappearing is a new session, so v0-v1 counts twice.
        let (pairs, report) = try GraphFixtures.sessions("a\tv0\na\tv1\nb\tv3\na\tv0\na\tv1\n", ids: ids, window: 2)
        XCTAssertEqual(report.sessions, 3)
        XCTAssertEqual(UndirectedEdges.from(pairs, nodes: 5, weighting: .count).weight, [2])
    }

    func testCommentsBlankLinesAndCRLFAreAccepted() throws {
        let (pairs, report) = try GraphFixtures.sessions("# header\r\n\r\na\tv0\r\na\tv1\r\n", ids: ids, window: 2)
        XCTAssertEqual(report.lines, 2)
        XCTAssertEqual(pairs.count, 1)
        XCTAssertEqual(report.idsUnmapped, 0)
    }

    func testMalformedSessionLineNamesTheLineNumber() throws {
        XCTAssertThrowsError(try GraphFixtures.sessions("a\tv0\na v1\n", ids: ids, window: 2)) { error in
            XCTAssertTrue("\(error)".contains("line 2"), "\(error)")
        }
        XCTAssertThrowsError(try GraphFixtures.sessions("a\tv0\n\tv1\n", ids: ids, window: 2))
        XCTAssertThrowsError(try GraphFixtures.sessions("a\tv0\na\tv1\t1\t2\n", ids: ids, window: 2))
        let skipped = try GraphFixtures.sessions("a\tv0\nbad\na\tv1\n", ids: ids, window: 2, skipMalformed: true)
        XCTAssertEqual(skipped.report.malformedLines, 1)
        XCTAssertEqual(skipped.report.firstMalformedLine, 2)
        XCTAssertEqual(skipped.pairs.count, 1)
    }

    func testPairsSumBothDirectionsDropSelfPairsAndDefaultToWeightOne() throws {
        let text = "v0\tv1\t2.5\nv1\tv0\t0.5\nv2\tv3\nv3\tv3\t4\nv4\tmissing\t1\n"
        let (pairs, report) = try GraphFixtures.pairs(text, ids: ids)
        let edges = UndirectedEdges.from(pairs, nodes: 5, weighting: .count)
        XCTAssertEqual(edges.a, [0, 2])
        XCTAssertEqual(edges.b, [1, 3])
        XCTAssertEqual(edges.weight, [3, 1])
        XCTAssertEqual(report.selfPairs, 1)
        XCTAssertEqual(report.idsUnmapped, 1)
        XCTAssertEqual(report.unmappedExamples, ["missing"])
    }

    func testNegativeOrNonFiniteWeightsAreErrorsEvenWhenSkippingMalformed() throws {
        for bad in ["-1", "nan", "inf"] {
            XCTAssertThrowsError(try GraphFixtures.pairs("v0\tv1\t1\nv1\tv2\t\(bad)\n", ids: ids, skipMalformed: true)) { error in
                XCTAssertTrue("\(error)".contains("line 2"), "\(error)")
            }
        }
        XCTAssertThrowsError(try GraphFixtures.pairs("v0\tv1\tabc\n", ids: ids))
        let skipped = try GraphFixtures.pairs("v0\tv1\tabc\nv1\tv2\n", ids: ids, skipMalformed: true)
        XCTAssertEqual(skipped.report.malformedLines, 1)
        XCTAssertEqual(skipped.pairs.count, 1)
    }

    func testWeightingsFromHandComputedCounts() throws {
        // counts: 01 -> 3, 12 -> 1, 23 -> 1.
        let text = "v0\tv1\t3\nv1\tv2\nv2\tv3\n"
        let counted = try GraphFixtures.pairs(text, ids: ids)
        XCTAssertEqual(UndirectedEdges.from(counted.pairs, nodes: 5, weighting: .log1p).weight,
                       [Float(log(4.0)), Float(log(2.0)), Float(log(2.0))])
        // marginals c0=3 c1=4 c2=2 c3=1, D=10; pmi(01)=log(30/12)>0, pmi(12)=log(10/8)>0, pmi(23)=log(10/2)>0.
        let pmi = UndirectedEdges.from(counted.pairs, nodes: 5, weighting: .pmi)
        XCTAssertEqual(pmi.weight[0], Float(log(30.0 / 12)), accuracy: 1e-6)
        XCTAssertEqual(pmi.weight[1], Float(log(10.0 / 8)), accuracy: 1e-6)
        XCTAssertEqual(pmi.weight[2], Float(log(10.0 / 2)), accuracy: 1e-6)
        // A pair at or below chance gets PMI <= 0 and is dropped: star 0-1,0-2,0-3 with one heavy spoke.
        let star = try GraphFixtures.pairs("v0\tv1\t1\nv0\tv2\t1\nv0\tv3\t1\nv2\tv3\t10\n", ids: ids)
        // c0=3 c1=1 c2=11 c3=11, D=26: pmi(02)=log(26/33)<0 dropped, pmi(01)=log(26/3)>0, pmi(23)=log(260/121)>0.
        let starPMI = UndirectedEdges.from(star.pairs, nodes: 5, weighting: .pmi)
        XCTAssertEqual(starPMI.a, [0, 2])
        XCTAssertEqual(starPMI.b, [1, 3])
    }

    func testTopKKeepsAnEdgeWhenEitherEndpointRanksItAndBreaksTiesBySmallerRow() {
        // Node 0: edges to 1 (w 5), 2 (w 3), 3 (w 3), 4 (w 1). Node 4 also has 4-3 (w 0.5).
        let edges = UndirectedEdges(nodeCount: 5, a: [0, 0, 0, 0, 3], b: [1, 2, 3, 4, 4], weight: [5, 3, 3, 1, 0.5])
        // k = 2: node 0 keeps 0-1 and 0-2 (tie 2 vs 3 -> smaller row 2); node 3 keeps 0-3 and 3-4;
        // node 4 keeps 0-4 and 3-4; nodes 1, 2 keep theirs. So all edges survive except none... check each:
        //   0-1 (0,1) kept; 0-2 kept; 0-3 kept by node 3; 0-4 kept by node 4; 3-4 kept by 3 and 4.
        XCTAssertEqual(edges.prunedToTopK(2), edges)
        // k = 1: node 0 keeps 0-1; node 1 keeps 0-1; node 2 keeps 0-2; node 3 has 0-3 (3) vs 3-4 (0.5) -> 0-3;
        // node 4 has 0-4 (1) vs 3-4 (0.5) -> 0-4. Dropped: 3-4.
        let k1 = edges.prunedToTopK(1)
        XCTAssertEqual(k1.a, [0, 0, 0, 0])
        XCTAssertEqual(k1.b, [1, 2, 3, 4])
        // Pure tie: a star whose hub ranks equal spokes by row; leaves keep their only edge anyway,
        // so prune a triangle with all-equal weights at k = 1: node 0 keeps 0-1, node 1 keeps 0-1, node 2 keeps 0-2.
        let triangle = UndirectedEdges(nodeCount: 3, a: [0, 0, 1], b: [1, 2, 2], weight: [1, 1, 1]).prunedToTopK(1)
        XCTAssertEqual(triangle.a, [0, 0])
        XCTAssertEqual(triangle.b, [1, 2])
    }

    func testMinimumWeightAndSymmetricCSRMatchHandExample() {
        let edges = UndirectedEdges(nodeCount: 4, a: [0, 0, 1, 2], b: [1, 3, 2, 3], weight: [1, 4, 2, 0.5])
        let kept = edges.withMinimumWeight(1)
        XCTAssertEqual(kept.weight, [1, 4, 2])
        let csr = kept.symmetricCSR()
        XCTAssertEqual(csr.indptr, [0, 2, 4, 5, 6])
        XCTAssertEqual(csr.indices, [1, 3, 0, 2, 1, 0])
        XCTAssertEqual(csr.weights, [1, 4, 1, 2, 2, 4])
        GraphFixtures.assertCanonical(csr)
    }

    func testInMemoryLinesMatchFileLines() throws {
        let text = "a\tv0\r\na\tv1\n\nb\tv2\nb\tv3"
        var fromMemory: [String] = []
        try Array(text.utf8).withUnsafeBytes { bytes in
            try TextInput.forEachLine(in: bytes) { line, number in fromMemory.append("\(number):" + String(decoding: line, as: UTF8.self)) }
        }
        let path = try GraphFixtures.folder() + "/lines.tsv"
        try GraphFixtures.write(text, to: path)
        var fromFile: [String] = []
        try TextInput(path: path).forEachLine { line, number in fromFile.append("\(number):" + String(decoding: line, as: UTF8.self)) }
        XCTAssertEqual(fromMemory, ["1:a\tv0", "2:a\tv1", "3:", "4:b\tv2", "5:b\tv3"])
        XCTAssertEqual(fromFile, fromMemory)
    }

    func testDuplicateFeatureIdsAreRejected() {
        XCTAssertThrowsError(try VideoIndex(ids: ["a", "b", "a"]))
        XCTAssertEqual(try VideoIndex(ids: ["a", "b", "ab", ""]).lookup("ab"), 2)
        XCTAssertNil(try VideoIndex(ids: ["a", "b"]).lookup("c"))
    }
}

/// The id index with rows given (a rank's owned ids, a batch's resolved ids): lookups against a dictionary.
final class VideoIndexTests: XCTestCase {
    func testInsertedIDsWithGivenRowsAreFoundAcrossGrowthAndUnknownRowsAreNil() {
        var random = SeededGenerator(seed: 12)
        var index = VideoIndex(expectedIDs: 2)
        var reference: [String: Int32] = [:]
        for _ in 0..<5000 {
            let id = "id\(random.below(3000))" + String(repeating: "x", count: random.below(20))
            let row = Int32(random.below(100_000)) - 10_000
            let earlier = id.withCString { pointer in
                pointer.withMemoryRebound(to: UInt8.self, capacity: id.utf8.count) { index.insert(UnsafeBufferPointer(start: $0, count: id.utf8.count), row: row) }
            }
            XCTAssertEqual(earlier, reference[id], id)
            if reference[id] == nil { reference[id] = row }
        }
        XCTAssertEqual(index.count, reference.count)
        for (id, row) in reference { XCTAssertEqual(index.lookup(id), row >= 0 ? row : nil, id) }
        XCTAssertNil(index.lookup("id-absent"))
        XCTAssertNil(index.lookup(""))
    }

    func testPositionsAreRowsAndARepeatedIDIsRefused() throws {
        let index = try VideoIndex(ids: ["b", "a", "", "c"])
        XCTAssertEqual(["a", "b", "c", "", "d"].map { index.lookup($0) }, [1, 0, 3, 2, nil])
        XCTAssertThrowsError(try VideoIndex(ids: ["a", "b", "a"], source: "f.h5")) { error in
            XCTAssertTrue("\(error)".contains("at rows 0 and 2"), "\(error)")
        }
    }
}
