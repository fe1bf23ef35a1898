import Distributed
import Foundation
import Support
import XCTest

final class CommunicatorTests: XCTestCase {
    // MARK: one process

    /// The send layout of `route`: by destination, and within one in record order (what keeps the
    /// one-process order of adds), against filtering the records once per destination.
    func testBucketedLaysRecordsOutByDestinationInRecordOrder() {
        var random = SeededGenerator(seed: 8)
        for (count, parts) in [(0, 3), (1, 1), (500, 1), (500, 4), (2000, 7)] {
            let keys = (0..<count).map { _ in UInt64(random.below(1 << 30)) }
            let values = (0..<count).map { _ in Float(random.below(1000)) }
            let laid = Partition.bucketed(count: count, parts: parts, key: { keys[$0] }, value: { values[$0] }) { Partition.hashed($0, parts: parts) }
            var expectedKeys: [UInt64] = [], expectedValues: [Float] = [], expectedCounts: [Int] = []
            for part in 0..<parts {
                let records = (0..<count).filter { Partition.hashed(keys[$0], parts: parts) == part }
                expectedKeys += records.map { keys[$0] }
                expectedValues += records.map { values[$0] }
                expectedCounts.append(records.count)
            }
            XCTAssertEqual(laid.keys, expectedKeys, "\(count) records, \(parts) parts")
            XCTAssertEqual(laid.values, expectedValues)
            XCTAssertEqual(laid.counts, expectedCounts)
        }
    }

    func testOneProcessRoutesInRoundsReceiveEveryRecordOnce() throws {
        let keys: [UInt64] = (0..<23).map { UInt64($0 * 3) }
        var received: [UInt64] = [], rounds = 0
        let sent = try Communicator.serial.routeInRounds(count: keys.count, perRound: 5, key: { keys[$0] }, value: { Int32($0) },
                                                         destination: { _ in 0 }) { k, v in
            received += k
            XCTAssertEqual(v.map { keys[Int($0)] }, k)
            rounds += 1
        }
        XCTAssertEqual(received, keys)
        XCTAssertEqual(rounds, 5)
        XCTAssertEqual(sent, 0)
    }

    func testSerialCommunicatorCollectivesAreTheIdentity() throws {
        let one = Communicator.serial
        XCTAssertEqual(one.rank, 0)
        XCTAssertEqual(one.size, 1)
        XCTAssertFalse(one.isLaunched)
        one.barrier()
        var values: [Double] = [1.5, -2]
        one.allreduce(&values)
        one.broadcast(&values)
        XCTAssertEqual(values, [1.5, -2])
        XCTAssertEqual(one.allreduce(Int64(7), .max), 7)
        XCTAssertEqual(try one.allgather([Int32(3), 4]), [3, 4])
        let (gathered, counts) = try one.allgatherv([Float(1), 2, 3])
        XCTAssertEqual(gathered, [1, 2, 3])
        XCTAssertEqual(counts, [3])
        XCTAssertEqual(try one.allgather(strings: ["a", "é"]), [["a", "é"]])
        XCTAssertEqual(try one.alltoallv([[Int64(5), 6]]), [[5, 6]])
        XCTAssertEqual(one.exclusiveScan([Int64(4), 9]), [0, 0])
        XCTAssertEqual(one.broadcast(string: "x"), "x")
        XCTAssertEqual(one.failedRanks(true), [])
        XCTAssertEqual(one.failedRanks(false), [0])
        XCTAssertThrowsError(try one.alltoallv([[Int64(1)], [2]]))
    }

    func testLauncherIsDetectedFromTheEnvironment() {
        XCTAssertEqual(Launcher.detect([:]), .none)
        XCTAssertEqual(Launcher.detect(["OMPI_COMM_WORLD_SIZE": "3"]), .mpi)
        XCTAssertEqual(Launcher.detect(["PMIX_RANK": "0", "SLURM_STEP_ID": "0", "SLURM_STEP_NUM_TASKS": "4"]), .mpi)
        // A batch script's own shell is not a parallel launch.
        XCTAssertEqual(Launcher.detect(["SLURM_PROCID": "0", "SLURM_JOB_ID": "5"]), .none)
        XCTAssertEqual(Launcher.detect(["SLURM_STEP_ID": "0", "SLURM_STEP_NUM_TASKS": "1"]), .none)
        XCTAssertEqual(Launcher.detect(["SLURM_STEP_ID": "0", "SLURM_STEP_NUM_TASKS": "4"]), .withoutPMIx(tasks: 4))
    }

    func testEqualRangesCoverTheItemsInOrder() {
        for count in [0, 1, 2, 7, 10, 100] {
            for parts in 1...5 {
                let ranges = (0..<parts).map { Partition.range(count, part: $0, of: parts) }
                XCTAssertEqual(ranges.first?.lowerBound, 0)
                XCTAssertEqual(ranges.last?.upperBound, count)
                for p in 1..<parts { XCTAssertEqual(ranges[p - 1].upperBound, ranges[p].lowerBound) }
                let sizes = ranges.map(\.count)
                XCTAssertLessThanOrEqual(sizes.max()! - sizes.min()!, 1, "count \(count), parts \(parts)")
            }
        }
        XCTAssertEqual(Partition.range(10, part: 1, of: 3), 4..<7)
    }

    func testBlockRangesStartAtBlockBoundariesAndCoverTheItems() {
        // 10 items in blocks of 3 ([0,3) [3,6) [6,9) [9,10)) over 3 parts: blocks 2, 1, 1.
        XCTAssertEqual((0..<3).map { Partition.range(10, part: $0, of: 3, inBlocksOf: 3) }, [0..<6, 6..<9, 9..<10])
        // More parts than blocks: the last parts are empty ranges at the end.
        XCTAssertEqual((0..<4).map { Partition.range(5, part: $0, of: 4, inBlocksOf: 4) }, [0..<4, 4..<5, 5..<5, 5..<5])
        for count in [0, 1, 7, 100, 1025] {
            for parts in 1...5 {
                for block in [1, 3, 16, 1024] {
                    let ranges = (0..<parts).map { Partition.range(count, part: $0, of: parts, inBlocksOf: block) }
                    XCTAssertEqual(ranges.flatMap { Array($0) }, Array(0..<count), "count \(count), parts \(parts), block \(block)")
                    for range in ranges where !range.isEmpty {
                        XCTAssertEqual(range.lowerBound % block, 0)
                        XCTAssertTrue(range.upperBound % block == 0 || range.upperBound == count)
                    }
                }
            }
        }
    }

    func testCostRangesSplitAtTheNearestBoundary() {
        // Items of cost 10, 10, 10, 70: half the total (50) is nearest the boundary after item 3 (30).
        let offsets: [Int64] = [0, 10, 20, 30, 100]
        XCTAssertEqual(Partition.range(offsets: offsets, part: 0, of: 2), 0..<3)
        XCTAssertEqual(Partition.range(offsets: offsets, part: 1, of: 2), 3..<4)
        // Equal costs split like the equal ranges.
        let even = (0...9).map { Int64($0 * 5) }
        for part in 0..<3 {
            XCTAssertEqual(Partition.range(offsets: even, part: part, of: 3).count, Partition.range(9, part: part, of: 3).count, accuracy: 1)
        }
        // More parts than items: every item once, some parts empty.
        let ranges = (0..<4).map { Partition.range(offsets: [0, 5, 9], part: $0, of: 4) }
        XCTAssertEqual(ranges.flatMap { Array($0) }, [0, 1])
    }
}
