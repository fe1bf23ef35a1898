import Distributed
import Foundation
import Support
import XCTest

final class CommunicatorTests: XCTestCase {
    // MARK: one process

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
