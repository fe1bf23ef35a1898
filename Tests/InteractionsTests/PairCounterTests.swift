import Contracts
import Interactions
import Support
import XCTest

final class PairCounterTests: XCTestCase {
    func testSumsEqualADictionaryForAnyBufferOrBackgroundMerge() {
        var random = SeededGenerator(seed: 21)
        let adds = (0..<20_000).map { _ in (Int32(random.below(300)), Int32(random.below(300)), Double(random.below(5))) }
            .filter { $0.0 != $0.1 }
        var reference: [UInt64: Double] = [:]
        for (a, b, w) in adds { reference[PairSums.key(a, b), default: 0] += w }
        let expectedKeys = reference.keys.sorted()
        for (buffer, background) in [(37, true), (37, false), (1000, true), (1 << 20, true), (1, false)] {
            let counter = PairCounter(expectedPairs: 4, bufferSize: buffer, background: background)
            for (a, b, w) in adds { counter.add(key: PairSums.key(a, b), w) }
            XCTAssertEqual(counter.count, reference.count)
            let sums = counter.sortedSums()
            let (keys, values) = (sums.keys, sums.values)
            XCTAssertEqual(keys, expectedKeys, "buffer \(buffer) background \(background)")
            XCTAssertEqual(values, expectedKeys.map { reference[$0]! }, "buffer \(buffer) background \(background)")
        }
    }

    /// Fractional weights make the summation order visible: every pair's sum must be the
    /// running sum of its adds in arrival order, bit for bit (what a table entry updated
    /// add by add gives, the counter's original semantics), however adds are buffered.
    func testFractionalSumsAreRunningSumsInArrivalOrderBitForBit() {
        var random = SeededGenerator(seed: 5)
        let adds = (0..<50_000).map { _ in (Int32(random.below(120)), Int32(random.below(2000)), random.unit() * 1e3 + 1e-7) }
            .filter { $0.0 != $0.1 }
        var reference: [UInt64: Double] = [:]
        for (a, b, w) in adds {
            let key = PairSums.key(a, b)
            if let sum = reference[key] { reference[key] = sum + w } else { reference[key] = w }
        }
        let expectedKeys = reference.keys.sorted()
        for (buffer, background) in [(1, false), (333, true), (4096, false), (1 << 20, true)] {
            let counter = PairCounter(expectedPairs: 1, bufferSize: buffer, background: background)
            for (a, b, w) in adds { counter.add(key: PairSums.key(a, b), w) }
            let sums = counter.sortedSums()
            let (keys, values) = (sums.keys, sums.values)
            XCTAssertEqual(keys, expectedKeys, "buffer \(buffer)")
            XCTAssertEqual(values.map(\.bitPattern), expectedKeys.map { reference[$0]!.bitPattern }, "buffer \(buffer)")
            XCTAssertEqual(counter.count, 0, "the sums were handed over")
        }
    }

    func testKeyIsOrderIndependentAndRoundTrips() {
        XCTAssertEqual(PairSums.key(7, 3), PairSums.key(3, 7))
        XCTAssertTrue(PairSums.rows(of: PairSums.key(7, 3)) == (3, 7))
        XCTAssertTrue(PairSums.rows(of: PairSums.key(0, Int32.max)) == (0, Int32.max))
    }
}
