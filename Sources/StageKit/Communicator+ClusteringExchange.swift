import Distributed
import Graphs

/// The distributed affinity clustering's collectives, over MPI.
extension Communicator: ClusteringExchange {
    public func exchange(_ messages: [[Int32]]) throws -> [[Int32]] { try alltoallv(messages) }
    public func gather(_ values: [Int32]) throws -> [Int32] { try allgatherv(values).values }
    public func sum(_ values: [Int64]) -> [Int64] {
        var values = values
        allreduce(&values, .sum)
        return values
    }
    public func share(of count: Int, part: Int) -> Range<Int> { Partition.range(count, part: part, of: size) }
}
