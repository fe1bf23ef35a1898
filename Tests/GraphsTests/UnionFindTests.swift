import Graphs
import Support
import XCTest

final class UnionFindTests: XCTestCase {
    func testUnionsMergeSetsAndCountThem() {
        var sets = UnionFind(count: 6)
        XCTAssertEqual(sets.setCount, 6)
        XCTAssertTrue(sets.union(0, 1))
        XCTAssertTrue(sets.union(2, 3))
        XCTAssertFalse(sets.union(1, 0))
        XCTAssertTrue(sets.union(3, 1))
        XCTAssertEqual(sets.setCount, 3)
        XCTAssertTrue(sets.connected(0, 2))
        XCTAssertFalse(sets.connected(0, 4))
        XCTAssertEqual(sets.size(of: 3), 4)
        XCTAssertEqual(sets.size(of: 5), 1)
    }

    func testWeightedSizesAddUp() {
        var sets = UnionFind(sizes: [5, 1, 2])
        sets.union(1, 2)
        XCTAssertEqual(sets.size(of: 1), 3)
        sets.union(0, 2)
        XCTAssertEqual(sets.size(of: 0), 8)
    }

    func testMatchesBruteForceComponentsOnRandomUnions() {
        var generator = SeededGenerator(seed: 7)
        let n = 300
        var sets = UnionFind(count: n)
        var component = Array(0..<n)          // brute force: relabel the whole component on each union
        for _ in 0..<400 {
            let a = Int.random(in: 0..<n, using: &generator), b = Int.random(in: 0..<n, using: &generator)
            let merged = sets.union(a, b)
            XCTAssertEqual(merged, component[a] != component[b])
            let old = component[b], new = component[a]
            for i in 0..<n where component[i] == old { component[i] = new }
        }
        for a in stride(from: 0, to: n, by: 7) {
            for b in stride(from: 0, to: n, by: 11) {
                XCTAssertEqual(sets.connected(a, b), component[a] == component[b])
            }
        }
        XCTAssertEqual(sets.setCount, Set(component).count)
    }
}
