import Contracts
import Distributed

/// Pair sums split over ranks: each pair has one owner rank (a hash of its key, so every rank
/// owns about as many pairs whatever the row order), which sums what every rank read of it.
public enum PairRouting {
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
}
