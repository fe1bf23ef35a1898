import Support

extension Partition {
    /// The part a 64-bit key belongs to when items are spread by hash (balanced for any key order).
    @inline(__always)
    public static func hashed(_ key: UInt64, parts: Int) -> Int { Int(SplitMix64.mix(key) % UInt64(parts)) }
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
        var sendKeys = [[Int64]](repeating: [], count: size)
        var sendValues = [[Value]](repeating: [], count: size)
        for (key, value) in zip(keys, values) {
            let rank = destination(key)
            sendKeys[rank].append(Int64(bitPattern: key))
            sendValues[rank].append(value)
        }
        let sent = (0..<size).filter { $0 != rank }.reduce(0) { $0 + sendKeys[$1].count } * (8 + MemoryLayout<Value>.size)
        let receivedKeys = try alltoallv(sendKeys)
        sendKeys = []
        let receivedValues = try alltoallv(sendValues)
        return (receivedKeys.joined().map { UInt64(bitPattern: $0) }, Array(receivedValues.joined()), sent)
    }
}
