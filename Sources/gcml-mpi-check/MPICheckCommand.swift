import ArgumentParser
import Distributed
import Foundation
import Support

@main
struct MPICheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gcml-mpi-check",
        abstract: "Check that ranks start and every collective works (run it under mpirun or srun --mpi=pmix).",
        discussion: """
            Each rank runs every collective of the Communicator on inputs made from its rank and prints one JSON \
            line with the results (rank, size, then one key per collective), so a person or a test can compare \
            them with what the collective should give. Without a launcher it is one rank and no MPI. \
            --fail-rank R makes rank R fail after the collectives (its error names it and the job ends); \
            --stall-rank R makes rank R wait forever before the last barrier (for kill tests).
            """)

    @Option(help: "This rank fails after the collectives (tests the job's error path).") var failRank: Int?
    @Option(help: "This rank sleeps forever before the final barrier (tests killing a rank).") var stallRank: Int?

    func run() throws {
        let world = Communicator.world
        try world.agree("gcml-mpi-check") {
            let report = try collectives(world)
            print(JSON.string(report))
            fflush(stdout)
            if failRank == world.rank { throw GCMLError("failing on purpose (--fail-rank \(world.rank))") }
            if stallRank == world.rank { while true { sleep(60) } }
            world.barrier()
        }
    }

    /// Every collective on rank-made inputs; the expected values are the caller's to work out.
    func collectives(_ world: Communicator) throws -> [String: Any] {
        let r = world.rank, p = world.size
        var result: [String: Any] = ["rank": r, "size": p, "launched": world.isLaunched, "pid": Int(getpid())]
        world.barrier()

        var fromLast: [Double] = r == p - 1 ? [1.5, 2.5, Double(r)] : [0, 0, 0]
        world.broadcast(&fromLast, root: p - 1)
        result["broadcast_f64_from_last"] = fromLast
        result["broadcast_array_i64"] = world.broadcastArray(r == 0 ? (10...14).map(Int64.init) : [], root: 0)
        result["broadcast_string"] = world.broadcast(string: r == 0 ? "héllo ranks" : "", root: 0)

        var f32: [Float] = [Float(r + 1), 0.5]
        world.allreduce(&f32)
        result["allreduce_sum_f32"] = f32.map(Double.init)
        var f64: [Double] = [Double(r) * 0.25, 1e-3]
        world.allreduce(&f64)
        result["allreduce_sum_f64"] = f64
        var i64: [Int64] = [Int64(r), 1 << 40]
        world.allreduce(&i64)
        result["allreduce_sum_i64"] = i64
        result["allreduce_max_i64"] = world.allreduce(Int64(r * 7), .max)
        result["allreduce_min_i64"] = world.allreduce(Int64(r * 7 + 3), .min)

        result["allgather_i32"] = try world.allgather([Int32(r * 10), Int32(r * 10 + 1)]).map(Int.init)
        let (gathered, counts) = try world.allgatherv([Int64](repeating: Int64(r), count: r + 1))
        result["allgatherv_i64"] = gathered
        result["allgatherv_counts"] = counts
        result["allgather_strings"] = try world.allgather(strings: (0..<r).map { "\(r)-\($0)" })

        result["alltoall_i64"] = try world.alltoall((0..<p).map { Int64(100 * r + $0) }, perRank: 1)
        let toEach: [[Float]] = (0..<p).map { d in [Float](repeating: Float(r * 1000 + d), count: r + d) }
        result["alltoallv_f32"] = try world.alltoallv(toEach).map { $0.map(Double.init) }

        result["exclusive_scan_i64"] = world.exclusiveScan([Int64(r + 1), 1])
        let share = world.share(of: 10)
        result["share_of_10"] = [share.lowerBound, share.upperBound]
        return result
    }
}
