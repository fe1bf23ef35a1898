import Dispatch

/// The pair counter build-graph used before the sort-based one (kept here only as the
/// benchmark's "previous build" peer): adds buffered, the buffer split by the top hash bits
/// into 256 partitions, each partition an open-addressing table (half-load growth) that
/// is filled while its part of the buffer is inserted, full buffers inserted on a
/// background thread. Counting only: the benchmark compares rows/s and bytes per pair.
final class PreviousPairCounter: @unchecked Sendable {
    private static let empty = UInt64.max
    private static let partitionBits = 8
    private static let partitions = 1 << partitionBits

    private struct Entry {
        var key: UInt64
        var value: Double
    }

    private struct Table {
        var entries = [Entry](repeating: Entry(key: PreviousPairCounter.empty, value: 0), count: 16)
        var bits = 4
        var count = 0

        mutating func add(_ key: UInt64, _ hash: UInt64, _ value: Double) {
            if count * 2 >= entries.count { grow() }
            let mask = entries.count - 1
            var slot = Int(truncatingIfNeeded: (hash << UInt64(PreviousPairCounter.partitionBits)) >> UInt64(64 - bits))
            let added: Bool = entries.withUnsafeMutableBufferPointer { e in
                while true {
                    if e[slot].key == key { e[slot].value += value; return false }
                    if e[slot].key == PreviousPairCounter.empty { e[slot] = Entry(key: key, value: value); return true }
                    slot = (slot + 1) & mask
                }
            }
            if added { count += 1 }
        }

        mutating func grow() {
            let old = entries
            bits += 1
            entries = [Entry](repeating: Entry(key: PreviousPairCounter.empty, value: 0), count: 1 << bits)
            count = 0
            for entry in old where entry.key != PreviousPairCounter.empty { add(entry.key, PreviousPairCounter.hash(entry.key), entry.value) }
        }
    }

    private var tables = (0..<PreviousPairCounter.partitions).map { _ in Table() }
    private var pending: [(UInt64, Double)] = []
    private var inFlight: [(UInt64, Double)] = []
    private var sorted: [(UInt64, Double)] = []
    private let group = DispatchGroup()
    private let queue = DispatchQueue(label: "gcml.bench.previous-pair-counter")
    private let bufferSize = 1 << 20

    static func hash(_ key: UInt64) -> UInt64 { (key ^ (key >> 29)) &* 0x9E37_79B9_7F4A_7C15 }

    @inline(__always)
    func add(key: UInt64, _ value: Double) {
        pending.append((key, value))
        if pending.count >= bufferSize {
            group.wait()
            swap(&pending, &inFlight)
            group.enter()
            queue.async { [self] in
                insert(inFlight)
                inFlight.removeAll(keepingCapacity: true)
                group.leave()
            }
        }
    }

    /// Distinct pairs (after inserting what is buffered).
    var count: Int {
        group.wait()
        insert(pending)
        pending.removeAll(keepingCapacity: true)
        return tables.reduce(0) { $0 + $1.count }
    }

    /// Bytes of the tables (what the counter held besides its fixed buffers).
    var tableBytes: Int { tables.reduce(0) { $0 + $1.entries.count * MemoryLayout<Entry>.stride } }

    private func insert(_ adds: [(UInt64, Double)]) {
        let shift = UInt64(64 - Self.partitionBits)
        var start = [Int](repeating: 0, count: Self.partitions + 1)
        for (key, _) in adds { start[Int(truncatingIfNeeded: Self.hash(key) >> shift) + 1] += 1 }
        for p in 0..<Self.partitions { start[p + 1] += start[p] }
        var cursor = start
        if sorted.count < adds.count { sorted = [(UInt64, Double)](repeating: (0, 0), count: adds.count) }
        for add in adds {
            let p = Int(truncatingIfNeeded: Self.hash(add.0) >> shift)
            sorted[cursor[p]] = add
            cursor[p] += 1
        }
        for p in 0..<Self.partitions {
            for i in start[p]..<start[p + 1] { tables[p].add(sorted[i].0, Self.hash(sorted[i].0), sorted[i].1) }
        }
    }
}
