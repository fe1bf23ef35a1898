import Contracts
import Distributed

/// Pair sums split over ranks: each pair has one owner rank (a hash of its key, so every rank
/// owns about as many pairs whatever the row order), which sums what every rank read of it.
public enum PairRouting {
    /// Adds a rank counts before it sends their partial sums to the owners (`Rounds`): bounds a
    /// rank's local table and exchange buffers (16 B a pair each) whatever the input and rank count.
    public static let defaultBlockAdds = 1 << 23

    /// Sends each (key, value) to the key's owner and sums there with `PairCounter`, in rank order
    /// and each rank's order: whole counts sum exactly in any order, and raw adds of consecutive
    /// input parts sum in input order, so the owner's sums equal one process's bit for bit.
    static func route(_ keys: [UInt64], _ values: [Double], communicator: Communicator) throws -> (pairs: PairSums, bytesSent: Int) {
        if communicator.size == 1 && !keys.isEmpty && zip(keys, keys.dropFirst()).allSatisfy({ $0 < $1 }) {
            return (PairSums(keys: keys, values: values), 0)
        }
        let ranks = communicator.size
        let received = try communicator.route(keys: keys, values: values) { Partition.hashed($0, parts: ranks) }
        let counter = PairCounter(expectedPairs: received.keys.count)
        for (key, value) in zip(received.keys, received.values) { counter.add(key: key, value) }
        return (counter.sortedSums(), received.bytesSent)
    }

    /// Routing partial sums in rounds, so a rank holds its owned pairs plus one block at a time:
    /// each round every rank sends a block's sums to the owners (empty once its input is done),
    /// which add them to their counter. Only for whole counts (session co-watches): they sum
    /// exactly in any grouping and order, so the owner's sums equal one process's bit for bit.
    final class Rounds {
        let communicator: Communicator
        /// Merged in the foreground: a background merge would hold a second buffer of a quarter of
        /// the owned pairs at the peak, and the merges fall between rounds anyway.
        private let owned = PairCounter(background: false)
        private(set) var bytesSent = 0
        private(set) var rounds = 0
        /// Whether every rank has sent its last block (then no rank calls another round).
        private(set) var everyRankDone = false

        init(communicator: Communicator) { self.communicator = communicator }

        /// One round (every rank calls it equally often): sends `block` to the owners and adds what
        /// arrives; `last`: this rank has no more blocks. The block is emptied once laid out for
        /// sending, so it is not held beside the send and receive buffers.
        func exchange(_ block: inout PairSums, last: Bool) throws {
            precondition(!everyRankDone)
            let ranks = communicator.size
            var send = Partition.bucketed(count: block.keys.count, parts: ranks, key: { block.keys[$0] }, value: { block.values[$0] }) {
                Partition.hashed($0, parts: ranks)
            }
            block = PairSums(keys: [], values: [])
            let received = try communicator.route(bucketed: &send)
            for (key, value) in zip(received.keys, received.values) { owned.add(key: key, value) }
            bytesSent += received.bytesSent
            rounds += 1
            everyRankDone = communicator.allreduce(Int64(last ? 1 : 0)) == Int64(ranks)
        }

        /// After this rank's last block: empty rounds until every rank is done; then the owned sums.
        func finish() throws -> PairSums {
            while !everyRankDone {
                var empty = PairSums(keys: [], values: [])
                try exchange(&empty, last: true)
            }
            return owned.sortedSums()
        }
    }
}
