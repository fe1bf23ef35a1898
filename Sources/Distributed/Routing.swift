import Support

extension Partition {
    /// The part a 64-bit key belongs to when items are spread by hash (balanced for any key order).
    @inline(__always)
    public static func hashed(_ key: UInt64, parts: Int) -> Int { Int(SplitMix64.mix(key) % UInt64(parts)) }

    /// Records (key(i), value(i)) for i in 0..<count laid out by destination part: part 0's first, then
    /// part 1's, …, each part's in record order, and how many each part got. Two passes (count, then
    /// place), so the buffers have their exact size and no per-part arrays are grown or joined.
    public static func bucketed<Value>(count: Int, parts: Int, key: (Int) -> UInt64, value: (Int) -> Value,
                                       destination: (UInt64) -> Int) -> (keys: [UInt64], values: [Value], counts: [Int]) {
        var counts = [Int](repeating: 0, count: parts)
        for i in 0..<count { counts[destination(key(i))] += 1 }
        var next = [Int](repeating: 0, count: parts)
        for p in 1..<max(1, parts) { next[p] = next[p - 1] + counts[p - 1] }
        var values = [Value]()
        let keys = [UInt64](unsafeUninitializedCapacity: count) { keyBuffer, keysWritten in
            values = [Value](unsafeUninitializedCapacity: count) { valueBuffer, valuesWritten in
                for i in 0..<count {
                    let k = key(i), p = destination(k)
                    keyBuffer.initializeElement(at: next[p], to: k)
                    valueBuffer.initializeElement(at: next[p], to: value(i))
                    next[p] += 1
                }
                valuesWritten = count
            }
            keysWritten = count
        }
        return (keys, values, counts)
    }
}

extension Communicator {
    /// Sends every record (keys[i], values[i]) to rank `destination(keys[i])` in one all-to-all.
    /// Returns what this rank received: the records of rank 0, then rank 1, …, each rank's in the
    /// order it passed them (so order-dependent work, e.g. a running sum, sees the one-process
    /// order when ranks hold consecutive parts of the input), and the bytes this rank sent to other ranks.
    public func route<Value: CommunicatorScalar & Numeric>(keys: [UInt64], values: [Value], destination: (UInt64) -> Int) throws
        -> (keys: [UInt64], values: [Value], bytesSent: Int) {
        precondition(keys.count == values.count)
        guard size > 1 else { return (keys, values, 0) }
        return try route(count: keys.count, key: { keys[$0] }, value: { values[$0] }, destination: destination)
    }

    /// `route` of the records (key(i), value(i)), i in 0..<count, made as they are laid out (no input arrays).
    /// Holds the send buffer and the received records (8 B + the value each), one array at a time for keys then values.
    public func route<Value: CommunicatorScalar & Numeric>(count: Int, key: (Int) -> UInt64, value: (Int) -> Value,
                                                           destination: (UInt64) -> Int) throws -> (keys: [UInt64], values: [Value], bytesSent: Int) {
        var send = Partition.bucketed(count: count, parts: size, key: key, value: value, destination: destination)
        return try route(bucketed: &send)
    }

    /// `route` of records already laid out by destination (`Partition.bucketed`); empties `send` as it goes.
    public func route<Value: CommunicatorScalar & Numeric>(bucketed send: inout (keys: [UInt64], values: [Value], counts: [Int])) throws
        -> (keys: [UInt64], values: [Value], bytesSent: Int) {
        let sent = (send.keys.count - send.counts[rank]) * (MemoryLayout<UInt64>.size + MemoryLayout<Value>.size)
        guard size > 1 else { return (send.keys, send.values, 0) }
        let keys = try alltoallv(flat: send.keys, counts: send.counts).values
        send.keys = []
        let values = try alltoallv(flat: send.values, counts: send.counts).values
        send.values = []
        return (keys, values, sent)
    }

    /// `route` in rounds of at most `perRound` records, so the send and receive buffers stay bounded
    /// whatever `count`: every rank takes part in as many rounds as the rank with the most records
    /// needs (empty ones after its own are done), and `receive` gets each round's records as they arrive.
    /// Returns the bytes this rank sent.
    public func routeInRounds<Value: CommunicatorScalar & Numeric>(count: Int, perRound: Int, key: (Int) -> UInt64, value: (Int) -> Value,
                                                                   destination: (UInt64) -> Int,
                                                                   receive: (_ keys: [UInt64], _ values: [Value]) throws -> Void) throws -> Int {
        precondition(perRound >= 1)
        let rounds = allreduce((count + perRound - 1) / perRound, .max)
        var sent = 0
        for round in 0..<rounds {
            let first = min(count, round * perRound), records = min(count, first + perRound) - first
            let routed = try route(count: records, key: { key(first + $0) }, value: { value(first + $0) }, destination: destination)
            sent += routed.bytesSent
            try receive(routed.keys, routed.values)
        }
        return sent
    }
}
