import Foundation
import Support
import XCTest

/// Every collective of the Communicator under 3 real ranks (mpirun), through gcml-mpi-check:
/// the expected values are worked out here from the inputs each rank makes from its rank.
final class CollectiveTests: XCTestCase {
    // MARK: three ranks under mpirun

    /// Runs gcml-mpi-check on 3 ranks and checks every collective against values worked out here.
    func testEveryCollectiveUnderThreeRanks() throws {
        let p = 3
        let result = try Launch.run(Launch.mpirun(p, "gcml-mpi-check", []))
        XCTAssertEqual(result.status, 0, result.stderr)
        let reports = result.stdout.split(separator: "\n").compactMap { JSON.object(String($0)) }
        XCTAssertEqual(reports.count, p, result.stdout)
        let byRank = Dictionary(uniqueKeysWithValues: reports.map { ($0["rank"] as! Int, $0) })
        XCTAssertEqual(Set(byRank.keys), [0, 1, 2])
        for (r, report) in byRank {
            func ints(_ key: String) -> [Int] { (report[key] as? [Any])?.compactMap { ($0 as? NSNumber)?.intValue } ?? [] }
            func doubles(_ key: String) -> [Double] { (report[key] as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue } ?? [] }
            XCTAssertEqual(report["size"] as? Int, p)
            XCTAssertEqual(report["launched"] as? Bool, true)
            XCTAssertEqual(doubles("broadcast_f64_from_last"), [1.5, 2.5, Double(p - 1)])
            XCTAssertEqual(ints("broadcast_array_i64"), [10, 11, 12, 13, 14])
            XCTAssertEqual(report["broadcast_string"] as? String, "héllo ranks")
            XCTAssertEqual(doubles("allreduce_sum_f32"), [Double(p * (p + 1) / 2), 0.5 * Double(p)])
            let f64 = doubles("allreduce_sum_f64")
            XCTAssertEqual(f64.count, 2)
            XCTAssertEqual(f64.first ?? 0, 0.25 * Double(p * (p - 1) / 2), accuracy: 1e-12)
            XCTAssertEqual(f64.last ?? 0, 1e-3 * Double(p), accuracy: 1e-15)
            XCTAssertEqual(ints("allreduce_sum_i64"), [p * (p - 1) / 2, p << 40])
            XCTAssertEqual(report["allreduce_max_i64"] as? Int, 7 * (p - 1))
            XCTAssertEqual(report["allreduce_min_i64"] as? Int, 3)
            XCTAssertEqual(ints("allgather_i32"), (0..<p).flatMap { [$0 * 10, $0 * 10 + 1] })
            XCTAssertEqual(ints("allgatherv_i64"), (0..<p).flatMap { [Int](repeating: $0, count: $0 + 1) })
            XCTAssertEqual(ints("allgatherv_counts"), (0..<p).map { $0 + 1 })
            XCTAssertEqual(report["allgather_strings"] as? [[String]], (0..<p).map { s in (0..<s).map { "\(s)-\($0)" } })
            // Rank r sent 100·r + d to rank d, so rank r holds 100·s + r from each s.
            XCTAssertEqual(ints("alltoall_i64"), (0..<p).map { 100 * $0 + r })
            // Rank s sent s + d copies of 1000·s + d to rank d.
            let alltoallv = (report["alltoallv_f32"] as? [[Any]])?.map { $0.compactMap { ($0 as? NSNumber)?.doubleValue } }
            XCTAssertEqual(alltoallv, (0..<p).map { s in [Double](repeating: Double(1000 * s + r), count: s + r) })
            XCTAssertEqual(ints("exclusive_scan_i64"), [r * (r + 1) / 2, r])
            XCTAssertEqual(ints("share_of_10"), [[0, 4], [4, 7], [7, 10]][r])
        }
    }

    func testAFailingRankIsNamedAndEndsTheJob() throws {
        let result = try Launch.run(Launch.mpirun(3, "gcml-mpi-check", ["--fail-rank", "1"]), seconds: 60)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertFalse(result.timedOut, "the job did not end by itself")
        XCTAssertTrue(result.stderr.contains("rank 1 of 3: error: failing on purpose"), result.stderr)
    }

    func testAKilledRankEndsTheJobWithNoRankLeft() throws {
        let running = try Launch.Running(Launch.mpirun(3, "gcml-mpi-check", ["--stall-rank", "2"]), seconds: 60)
        XCTAssertTrue(running.waitForOutput(seconds: 40) { $0.split(separator: "\n").count == 3 }, "ranks did not report")
        let reports = running.stdout.split(separator: "\n").compactMap { JSON.object(String($0)) }
        let pids = Dictionary(uniqueKeysWithValues: reports.compactMap { r in (r["rank"] as? Int).map { ($0, Int32(r["pid"] as? Int ?? 0)) } })
        guard let stalled = pids[2], stalled > 0 else { return XCTFail("no pid for rank 2: \(running.stdout)") }
        kill(stalled, SIGKILL)
        let result = running.finish()
        XCTAssertNotEqual(result.status, 0)
        XCTAssertFalse(result.timedOut, "the job did not end after a rank was killed")
        XCTAssertTrue(result.stderr.contains("rank 2"), result.stderr)
        for pid in pids.values { XCTAssertFalse(Launch.isAlive(pid), "rank process \(pid) still running") }
    }
}
