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

    /// Batches of every size (empty, single, larger than the buffer) sum like one add per key, bit for bit.
    func testBatchAddsEqualADictionaryOfSingleAdds() {
        var random = SeededGenerator(seed: 8)
        var batches: [([UInt64], Double)] = []
        for _ in 0..<3000 {
            let size = [0, 1, 2, 7, 40, 300][random.below(6)]
            let keys = (0..<size).map { _ in PairSums.key(Int32(random.below(150)), Int32(150 + random.below(150))) }
            batches.append((keys, random.unit() * 10 + 1e-7))
        }
        var reference: [UInt64: Double] = [:]
        for (keys, w) in batches {
            for key in keys { if let sum = reference[key] { reference[key] = sum + w } else { reference[key] = w } }
        }
        let expectedKeys = reference.keys.sorted()
        for (buffer, background) in [(1, false), (37, true), (1000, false), (1 << 20, true)] {
            let counter = PairCounter(expectedPairs: 1, bufferSize: buffer, background: background)
            for (keys, w) in batches { keys.withUnsafeBufferPointer { counter.add(keys: $0, w) } }
            let sums = counter.sortedSums()
            XCTAssertEqual(sums.keys, expectedKeys, "buffer \(buffer)")
            XCTAssertEqual(sums.values.map(\.bitPattern), expectedKeys.map { reference[$0]!.bitPattern }, "buffer \(buffer)")
        }
    }

    func testKeyIsOrderIndependentAndRoundTrips() {
        XCTAssertEqual(PairSums.key(7, 3), PairSums.key(3, 7))
        XCTAssertTrue(PairSums.rows(of: PairSums.key(7, 3)) == (3, 7))
        XCTAssertTrue(PairSums.rows(of: PairSums.key(0, Int32.max)) == (0, Int32.max))
    }
}

final class VideoIndexLookupTests: XCTestCase {
    /// Ids of every length around the eight-byte compare step, and near misses of each (one byte changed
    /// at the start, the middle or the end; one byte more or less): each id finds its own row, no near miss any.
    func testIdsOfEveryLengthFindTheirRowAndNearMissesNone() throws {
        let ids: [String] = (0...20).map { (length: Int) -> String in
            let bytes: [UInt8] = (0..<length).map { (i: Int) -> UInt8 in UInt8(97 + (i * 7 + length) % 26) }
            return String(decoding: bytes, as: UTF8.self)
        }
        let index = try VideoIndex(ids: ids)
        for (row, id) in ids.enumerated() {
            XCTAssertEqual(index.lookup(id), Int32(row), "id \"\(id)\"")
            let bytes = Array(id.utf8)
            for position in Set([0, bytes.count / 2, bytes.count - 1]) where position >= 0 && !bytes.isEmpty {
                var changed = bytes
                changed[position] = changed[position] == 90 ? 89 : 90  // an upper-case letter: no id has one
                XCTAssertNil(index.lookup(String(decoding: changed, as: UTF8.self)), "\"\(id)\" changed at \(position)")
            }
            XCTAssertNil(index.lookup(id + "Z"))
            if !bytes.isEmpty { XCTAssertNil(index.lookup(String(id.dropLast()) + "Z")) }
        }
    }
}
