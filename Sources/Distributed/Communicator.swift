import CMPI
import Foundation
import MPIShim
import Support

/// Values a collective can move: fixed-size numbers with an MPI datatype.
public protocol CommunicatorScalar {
    /// The matching MPI datatype handle.
    static var mpiDatatype: MPI_Datatype { get }
}

/// Values a collective can add up.
public protocol CommunicatorSummable: CommunicatorScalar, AdditiveArithmetic {}

extension Float: CommunicatorSummable { public static var mpiDatatype: MPI_Datatype { gcml_mpi_float() } }
extension Double: CommunicatorSummable { public static var mpiDatatype: MPI_Datatype { gcml_mpi_double() } }
extension Int64: CommunicatorSummable { public static var mpiDatatype: MPI_Datatype { gcml_mpi_int64() } }
extension Int32: CommunicatorSummable { public static var mpiDatatype: MPI_Datatype { gcml_mpi_int32() } }
extension Int: CommunicatorSummable {
    public static var mpiDatatype: MPI_Datatype {
        MemoryLayout<Int>.size == 8 ? gcml_mpi_int64() : gcml_mpi_int32()
    }
}
/// Moved as its 8 bytes (never reduced: an int64 reduction would read the bits signed).
extension UInt64: CommunicatorScalar { public static var mpiDatatype: MPI_Datatype { gcml_mpi_int64() } }
extension UInt8: CommunicatorScalar { public static var mpiDatatype: MPI_Datatype { gcml_mpi_uint8() } }
extension Int8: CommunicatorScalar { public static var mpiDatatype: MPI_Datatype { gcml_mpi_int8() } }

/// The ranks of one job and their collectives: the only place gcml talks to MPI.
///
/// `Communicator.world` is a serial communicator of size 1 (no MPI at all, so a plain
/// run costs nothing) unless a launcher (mpirun, or Slurm's srun with PMIx) started the
/// process; then it is MPI_COMM_WORLD. Every collective must be called by every rank in
/// the same order. With one rank every collective is the identity.
public final class Communicator: @unchecked Sendable {
    public let rank: Int
    public let size: Int
    /// MPI_COMM_WORLD when MPI was initialised, nil for the serial communicator.
    private let handle: MPI_Comm?

    public var isRoot: Bool { rank == 0 }
    /// True when a launcher started the process (even with one rank).
    public var isLaunched: Bool { handle != nil }
    /// Largest element count of one MPI call (counts are C ints); larger buffers go in pieces.
    static let maximumCount = 1 << 30

    /// A communicator of one rank that never calls MPI.
    public static let serial = Communicator(rank: 0, size: 1, handle: nil)

    /// The job's communicator: MPI_COMM_WORLD under a launcher, else `serial`.
    /// Initialising MPI fails with a message when a launcher is detected but MPI cannot start.
    public static let world: Communicator = {
        switch Launcher.detect(ProcessInfo.processInfo.environment) {
        case .none:
            return serial
        case .withoutPMIx(let tasks):
            FileHandle.standardError.write(Data("""
                error: started by srun with \(tasks) tasks but without PMIx, so the tasks cannot form one MPI job \
                (Debian's OpenMPI has no PMI-1/PMI-2): launch with srun --mpi=pmix (or set MpiDefault=pmix)

                """.utf8))
            exit(2)
        case .mpi:
            return initialiseMPI()
        }
    }()

    private init(rank: Int, size: Int, handle: MPI_Comm?) {
        self.rank = rank
        self.size = size
        self.handle = handle
    }

    private static func initialiseMPI() -> Communicator {
        var provided: Int32 = 0
        // Serialized: stages compute on many threads but call MPI from one at a time.
        guard MPI_Init_thread(nil, nil, gcml_mpi_thread_serialized(), &provided) == gcml_mpi_success() else {
            FileHandle.standardError.write(Data("error: MPI_Init_thread failed under the detected launcher\n".utf8))
            exit(2)
        }
        // Every rank finalises on a normal exit; a rank leaving without it makes the launcher end the job.
        atexit { Communicator.finalize() }
        let world = gcml_mpi_comm_world()
        var rank: Int32 = 0, size: Int32 = 0
        MPI_Comm_rank(world, &rank)
        MPI_Comm_size(world, &size)
        return Communicator(rank: Int(rank), size: Int(size), handle: world)
    }

    private static func finalize() {
        var initialised: Int32 = 0, finalised: Int32 = 0
        MPI_Initialized(&initialised)
        MPI_Finalized(&finalised)
        if initialised != 0 && finalised == 0 { MPI_Finalize() }
    }

    /// "rank 2 of 4" (for messages), or "" for a plain run.
    public var label: String { isLaunched ? "rank \(rank) of \(size)" : "" }

    // MARK: - Collectives

    /// Waits until every rank arrives. The wait sleeps between checks instead of spinning: ranks
    /// often wait here for one rank's serial work (rank 0 joining the output), and a spinning
    /// MPI wait would take the cores that work needs when ranks share them.
    public func barrier() {
        guard let handle else { return }
        var request: MPI_Request?
        MPI_Ibarrier(handle, &request)
        wait(&request)
    }

    /// Completes a nonblocking operation, checking every millisecond.
    private func wait(_ request: inout MPI_Request?) {
        var done: Int32 = 0
        while true {
            MPI_Test(&request, &done, gcml_mpi_status_ignore())
            if done != 0 { return }
            usleep(1000)
        }
    }

    /// Replaces `values` on every rank by root's; every rank passes the same count.
    public func broadcast<T: CommunicatorScalar>(_ values: inout [T], root: Int = 0) {
        guard let handle, !values.isEmpty else { return }
        values.withUnsafeMutableBufferPointer { buffer in
            forEachPiece(buffer.count) { start, count in
                _ = MPI_Bcast(buffer.baseAddress! + start, Int32(count), T.mpiDatatype, Int32(root), handle)
            }
        }
    }

    /// Root's value on every rank.
    public func broadcast<T: CommunicatorScalar>(_ value: T, root: Int = 0) -> T {
        var values = [value]
        broadcast(&values, root: root)
        return values[0]
    }

    /// Root's array on every rank, whatever the other ranks pass (its count is sent first).
    public func broadcastArray<T: CommunicatorScalar & Numeric>(_ values: [T], root: Int = 0) -> [T] {
        guard isLaunched else { return values }
        let count = broadcast(Int64(values.count), root: root)
        var result = rank == root ? values : [T](repeating: 0, count: Int(count))
        broadcast(&result, root: root)
        return result
    }

    /// Root's bytes (e.g. UTF-8 or JSON) on every rank.
    public func broadcast(bytes: [UInt8], root: Int = 0) -> [UInt8] { broadcastArray(bytes, root: root) }

    /// Root's string on every rank.
    public func broadcast(string: String, root: Int = 0) -> String {
        String(decoding: broadcast(bytes: Array(string.utf8), root: root), as: UTF8.self)
    }

    public enum Reduction { case sum, max, min }

    /// Element-wise reduction over ranks, in place: every rank ends with the same result.
    public func allreduce<T: CommunicatorSummable>(_ values: inout [T], _ operation: Reduction = .sum) {
        values.withUnsafeMutableBufferPointer { allreduce($0, operation) }
    }

    /// Element-wise reduction over ranks, in place in memory the caller owns (a model's flat
    /// gradient is reduced where it lies, without a copy into an array).
    public func allreduce<T: CommunicatorSummable>(_ buffer: UnsafeMutableBufferPointer<T>, _ operation: Reduction = .sum) {
        guard let handle, let base = buffer.baseAddress, buffer.count > 0 else { return }
        let op: MPI_Op
        switch operation {
        case .sum: op = gcml_mpi_op_sum()
        case .max: op = gcml_mpi_op_max()
        case .min: op = gcml_mpi_op_min()
        }
        forEachPiece(buffer.count) { start, count in
            _ = MPI_Allreduce(gcml_mpi_in_place(), base + start, Int32(count), T.mpiDatatype, op, handle)
        }
    }

    /// The reduction of one value over ranks.
    public func allreduce<T: CommunicatorSummable>(_ value: T, _ operation: Reduction = .sum) -> T {
        var values = [value]
        allreduce(&values, operation)
        return values[0]
    }

    /// Every rank's `values` (the same count on every rank), concatenated in rank order.
    public func allgather<T: CommunicatorScalar & Numeric>(_ values: [T]) throws -> [T] {
        guard let handle else { return values }
        let total = try checkedCount(values.count * size, doing: "allgather")
        var result = [T](repeating: 0, count: total)
        values.withUnsafeBufferPointer { send in
            result.withUnsafeMutableBufferPointer { receive in
                _ = MPI_Allgather(send.baseAddress, Int32(send.count), T.mpiDatatype, receive.baseAddress, Int32(send.count),
                                  T.mpiDatatype, handle)
            }
        }
        return result
    }

    /// Every rank's `values` (any count per rank), concatenated in rank order, and each rank's count.
    public func allgatherv<T: CommunicatorScalar & Numeric>(_ values: [T]) throws -> (values: [T], counts: [Int]) {
        guard let handle else { return (values, [values.count]) }
        let counts = try allgather([Int64(values.count)]).map { Int($0) }
        let total = try checkedCount(counts.reduce(0, +), doing: "allgatherv")
        var receiveCounts = counts.map { Int32($0) }
        var displacements = Self.offsets(counts).map { Int32($0) }
        var result = [T](repeating: 0, count: total)
        values.withUnsafeBufferPointer { send in
            result.withUnsafeMutableBufferPointer { receive in
                _ = MPI_Allgatherv(send.baseAddress, Int32(send.count), T.mpiDatatype, receive.baseAddress, &receiveCounts,
                                   &displacements, T.mpiDatatype, handle)
            }
        }
        return (result, counts)
    }

    /// Every rank's strings, in rank order (one array per rank).
    public func allgather(strings: [String]) throws -> [[String]] {
        guard isLaunched else { return [strings] }
        // Each string as its UTF-8 bytes and a terminating 0 (gcml's ids and names hold no NUL).
        var bytes: [UInt8] = []
        for string in strings { bytes += Array(string.utf8) + [0] }
        let (all, byteCounts) = try allgatherv(bytes)
        var result: [[String]] = []
        var start = 0
        for count in byteCounts {
            let piece = all[start..<(start + count)]
            result.append(piece.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) })
            start += count
        }
        return result
    }

    /// All-to-all with `perRank` values for every destination: `send` holds size × perRank values,
    /// block r for rank r; the result holds block s from rank s.
    public func alltoall<T: CommunicatorScalar & Numeric>(_ send: [T], perRank: Int) throws -> [T] {
        guard send.count == perRank * size else {
            throw GCMLError("alltoall: expected \(perRank * size) values (\(perRank) for each of \(size) ranks), found \(send.count)")
        }
        guard let handle else { return send }
        _ = try checkedCount(send.count, doing: "alltoall")
        var result = [T](repeating: 0, count: send.count)
        send.withUnsafeBufferPointer { s in
            result.withUnsafeMutableBufferPointer { r in
                _ = MPI_Alltoall(s.baseAddress, Int32(perRank), T.mpiDatatype, r.baseAddress, Int32(perRank), T.mpiDatatype, handle)
            }
        }
        return result
    }

    /// All-to-all with any count per pair: `send[r]` goes to rank r; the result's element s came from rank s.
    public func alltoallv<T: CommunicatorScalar & Numeric>(_ send: [[T]]) throws -> [[T]] {
        guard send.count == size else {
            throw GCMLError("alltoallv: expected one array for each of \(size) ranks, found \(send.count)")
        }
        guard isLaunched else { return send }
        let (received, receiveCounts) = try alltoallv(flat: send.flatMap { $0 }, counts: send.map(\.count))
        var result: [[T]] = []
        var start = 0
        for count in receiveCounts {
            result.append(Array(received[start..<(start + count)]))
            start += count
        }
        return result
    }

    /// All-to-all with any count per pair, in one flat buffer each way (no per-rank copies):
    /// `send` holds the values for rank 0, then for rank 1, …, `counts[r]` of them for rank r.
    /// Returns what arrived, rank 0's values first, and how many came from each rank.
    public func alltoallv<T: CommunicatorScalar & Numeric>(flat send: [T], counts sendCounts: [Int]) throws -> (values: [T], counts: [Int]) {
        guard sendCounts.count == size, sendCounts.reduce(0, +) == send.count else {
            throw GCMLError("alltoallv: expected a count for each of \(size) ranks summing to \(send.count), found \(sendCounts)")
        }
        guard let handle else { return (send, sendCounts) }
        let receiveCounts = try alltoall(sendCounts.map(Int64.init), perRank: 1).map { Int($0) }
        _ = try checkedCount(send.count, doing: "alltoallv")
        let total = try checkedCount(receiveCounts.reduce(0, +), doing: "alltoallv")
        var received = [T](repeating: 0, count: total)
        var sc = sendCounts.map { Int32($0) }, sd = Self.offsets(sendCounts).map { Int32($0) }
        var rc = receiveCounts.map { Int32($0) }, rd = Self.offsets(receiveCounts).map { Int32($0) }
        send.withUnsafeBufferPointer { s in
            received.withUnsafeMutableBufferPointer { r in
                _ = MPI_Alltoallv(s.baseAddress, &sc, &sd, T.mpiDatatype, r.baseAddress, &rc, &rd, T.mpiDatatype, handle)
            }
        }
        return (received, receiveCounts)
    }

    /// Exclusive prefix sum over ranks: rank r gets the sum of ranks 0..<r (0 on rank 0).
    public func exclusiveScan<T: CommunicatorSummable>(_ values: [T]) -> [T] {
        guard let handle, !values.isEmpty else { return values.map { _ in .zero } }
        var result = [T](repeating: .zero, count: values.count)
        values.withUnsafeBufferPointer { s in
            result.withUnsafeMutableBufferPointer { r in
                forEachPiece(s.count) { start, count in
                    _ = MPI_Exscan(s.baseAddress! + start, r.baseAddress! + start, Int32(count), T.mpiDatatype, gcml_mpi_op_sum(), handle)
                }
            }
        }
        // MPI leaves rank 0's receive buffer undefined; the empty sum is zero.
        if rank == 0 { return values.map { _ in .zero } }
        return result
    }

    /// The exclusive prefix sum of one value.
    public func exclusiveScan<T: CommunicatorSummable>(_ value: T) -> T { exclusiveScan([value])[0] }

    /// Ends every rank of the job now (the launcher kills the others) with `code`.
    public func abort(code: Int32 = 1) -> Never {
        if let handle { MPI_Abort(handle, code) }
        exit(code)
    }

    // MARK: - Agreement

    /// Runs `body` on every rank and agrees on the outcome: returns when every rank
    /// succeeded. A rank whose `body` throws prints the error with its rank and aborts
    /// the job, so no rank waits for it forever. With one process the error is rethrown
    /// as it is (a plain run behaves exactly as before).
    public func agree<R>(_ program: String, _ body: () throws -> R) throws -> R {
        guard isLaunched else { return try body() }
        do {
            return try body()
        } catch {
            fail(program, error)
        }
    }

    /// Prints `error` naming this rank and ends the job.
    public func fail(_ program: String, _ error: Error) -> Never {
        let text = String(describing: error)
        FileHandle.standardError.write(Data("\(program): \(label): error: \(text)\n".utf8))
        abort(code: 1)
    }

    /// The ranks that did not succeed (the same list on every rank; empty when all did).
    public func failedRanks(_ succeeded: Bool) -> [Int] {
        var flags = [Int64](repeating: 0, count: size)
        flags[rank] = succeeded ? 0 : 1
        if let handle {
            // Nonblocking and sleeping, like `barrier`: ranks wait here while rank 0 joins the output.
            var request: MPI_Request?
            flags.withUnsafeMutableBufferPointer { buffer in
                MPI_Iallreduce(gcml_mpi_in_place(), buffer.baseAddress, Int32(buffer.count), Int64.mpiDatatype, gcml_mpi_op_sum(),
                               handle, &request)
                wait(&request)
            }
        }
        return flags.indices.filter { flags[$0] != 0 }
    }

    // MARK: - Helpers

    private func forEachPiece(_ count: Int, _ body: (_ start: Int, _ count: Int) -> Void) {
        var start = 0
        while start < count {
            let piece = min(Self.maximumCount, count - start)
            body(start, piece)
            start += piece
        }
    }

    private func checkedCount(_ count: Int, doing: String) throws -> Int {
        guard count <= Int(Int32.max) else {
            throw GCMLError("\(doing): \(count) values in one call, more than MPI's limit of \(Int32.max) (split the work into smaller pieces)")
        }
        return count
    }

    static func offsets(_ counts: [Int]) -> [Int] {
        var running = 0
        var result: [Int] = []
        for count in counts {
            result.append(running)
            running += count
        }
        return result
    }
}
