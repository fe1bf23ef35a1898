import Contracts
import Interactions
import Support
import XCTest

final class PairCounterTests: XCTestCase {
    func testSumsEqualADictionaryForAnyBufferThreadsOrBackgroundFlush() {
        var random = SeededGenerator(seed: 21)
        let adds = (0..<20_000).map { _ in (Int32(random.below(300)), Int32(random.below(300)), Double(random.below(5))) }
            .filter { $0.0 != $0.1 }
        var reference: [UInt64: Double] = [:]
        for (a, b, w) in adds { reference[PairSums.key(a, b), default: 0] += w }
        let expectedKeys = reference.keys.sorted()
        for (buffer, threads, background) in [(37, 1, true), (37, 2, false), (1000, 2, true), (1 << 20, 1, true), (1, 1, false)] {
            let counter = PairCounter(expectedPairs: 4, bufferSize: buffer, threads: threads, background: background)
            for (a, b, w) in adds { counter.add(key: PairSums.key(a, b), w) }
            XCTAssertEqual(counter.count, reference.count)
            let sums = counter.sortedSums()
            let (keys, values) = (sums.keys, sums.values)
            XCTAssertEqual(keys, expectedKeys, "buffer \(buffer) threads \(threads)")
            XCTAssertEqual(values, expectedKeys.map { reference[$0]! }, "buffer \(buffer) threads \(threads)")
        }
    }

    func testKeyIsOrderIndependentAndRoundTrips() {
        XCTAssertEqual(PairSums.key(7, 3), PairSums.key(3, 7))
        XCTAssertTrue(PairSums.rows(of: PairSums.key(7, 3)) == (3, 7))
        XCTAssertTrue(PairSums.rows(of: PairSums.key(0, Int32.max)) == (0, Int32.max))
    }
}
