import Contracts
import Dispatch

/// Sums a value per unordered pair of video rows, so memory grows with the
/// number of distinct pairs, never with the number of input rows.
///
/// Built for tens of millions of pairs, where a plain hash table spends its time
/// waiting on DRAM: adds are buffered, the buffer is split by the top hash bits
/// into 256 partitions (a counting sort, sequential), and each partition's adds
/// go into that partition's own open-addressing table — a few MiB that stays in
/// cache while its keys are inserted. Partitions are disjoint, so a flush runs on
/// several threads with the same result as on one.
public final class PairCounter: @unchecked Sendable {
    private static let empty = UInt64.max
    private static let partitionBits = 8
    private static let partitions = 1 << partitionBits

    struct Entry {
        var key: UInt64
        var value: Double
    }

    /// One partition's table: interleaved key/value entries, linear probing, half-load growth.
    struct Table {
        var entries: [Entry]
        var bits: Int
        var count = 0

        init(bits: Int) {
            self.bits = bits
            entries = [Entry](repeating: Entry(key: PairCounter.empty, value: 0), count: 1 << bits)
        }

        /// `hash` is the full multiplicative hash; the bits below the partition bits pick the slot.
        @inline(__always)
        mutating func add(_ key: UInt64, _ hash: UInt64, _ value: Double) {
            if count * 2 >= entries.count { grow() }
            let mask = entries.count - 1
            var slot = Int(truncatingIfNeeded: (hash << UInt64(PairCounter.partitionBits)) >> UInt64(64 - bits))
            let added: Bool = entries.withUnsafeMutableBufferPointer { e in
                while true {
                    let here = e[slot].key
                    if here == key { e[slot].value += value; return false }
                    if here == PairCounter.empty {
                        e[slot] = Entry(key: key, value: value)
                        return true
                    }
                    slot = (slot + 1) & mask
                }
            }
            if added { count += 1 }
        }

        mutating func grow() {
            let old = entries
            bits += 1
            entries = [Entry](repeating: Entry(key: PairCounter.empty, value: 0), count: 1 << bits)
            count = 0
            for entry in old where entry.key != PairCounter.empty { add(entry.key, PairCounter.hash(entry.key), entry.value) }
        }
    }

    private var tables: [Table]
    private var pendingKeys: [UInt64] = []
    private var pendingValues: [Double] = []
    private var scratchKeys: [UInt64] = []
    private var scratchValues: [Double] = []
    private let bufferSize: Int
    /// Threads used by a flush (partitions are split among them).
    public var threads: Int
    /// Whether a full buffer is inserted on a background thread while adds continue
    /// into a second buffer (flushes stay in order, so sums are the same).
    public let background: Bool
    private var inFlightKeys: [UInt64] = []
    private var inFlightValues: [Double] = []
    private let inFlight = DispatchGroup()
    private let flushQueue = DispatchQueue(label: "gcml.pair-counter.flush")

    /// - Parameters:
    ///   - expectedPairs: initial capacity hint.
    ///   - bufferSize: adds buffered before a flush.
    ///   - background: insert full buffers on a second thread (overlaps parsing and counting).
    public init(expectedPairs: Int = 1 << 16, bufferSize: Int = 1 << 20, threads: Int = 1, background: Bool = true) {
        var bits = 4
        while (1 << bits) * Self.partitions < expectedPairs * 2 { bits += 1 }
        tables = (0..<Self.partitions).map { _ in Table(bits: bits) }
        self.bufferSize = max(1, bufferSize)
        self.threads = max(1, threads)
        self.background = background
        pendingKeys.reserveCapacity(self.bufferSize)
        pendingValues.reserveCapacity(self.bufferSize)
    }

    @inline(__always)
    static func hash(_ key: UInt64) -> UInt64 { (key ^ (key >> 29)) &* 0x9E37_79B9_7F4A_7C15 }

    /// Distinct pairs so far.
    public var count: Int {
        flush()
        return tables.reduce(0) { $0 + $1.count }
    }

    /// Bytes held by the tables and the add buffer.
    public var memoryBytes: Int {
        inFlight.wait()
        return tables.reduce(0) { $0 + $1.entries.count * MemoryLayout<Entry>.stride }
            + (pendingKeys.capacity + inFlightKeys.capacity + scratchKeys.count) * (MemoryLayout<UInt64>.size + MemoryLayout<Double>.size)
    }

    /// Adds `value` to the pair's sum.
    @inline(__always)
    public func add(key: UInt64, _ value: Double) {
        pendingKeys.append(key)
        pendingValues.append(value)
        if pendingKeys.count >= bufferSize { handOff() }
    }

    /// A full buffer: insert it now, or swap it with the (finished) in-flight one and insert it in the background.
    private func handOff() {
        inFlight.wait()
        guard background else { return flush() }
        swap(&pendingKeys, &inFlightKeys)
        swap(&pendingValues, &inFlightValues)
        inFlight.enter()
        flushQueue.async { [self] in
            insert(inFlightKeys, inFlightValues)
            inFlightKeys.removeAll(keepingCapacity: true)
            inFlightValues.removeAll(keepingCapacity: true)
            inFlight.leave()
        }
    }

    /// Inserts every buffered add (waiting for a background insert first).
    public func flush() {
        inFlight.wait()
        insert(pendingKeys, pendingValues)
        pendingKeys.removeAll(keepingCapacity: true)
        pendingValues.removeAll(keepingCapacity: true)
    }

    /// Inserts a buffer of adds, partition by partition, on `threads` threads.
    private func insert(_ pendingKeys: [UInt64], _ pendingValues: [Double]) {
        let n = pendingKeys.count
        guard n > 0 else { return }
        // Counting sort of the buffer by partition (the top hash bits).
        var start = [Int](repeating: 0, count: Self.partitions + 1)
        let shift = UInt64(64 - Self.partitionBits)
        pendingKeys.withUnsafeBufferPointer { keys in
            for key in keys { start[Int(truncatingIfNeeded: Self.hash(key) >> shift) + 1] += 1 }
        }
        for p in 0..<Self.partitions { start[p + 1] += start[p] }
        var cursor = start
        if scratchKeys.count < n {
            scratchKeys = [UInt64](repeating: 0, count: max(n, bufferSize))
            scratchValues = [Double](repeating: 0, count: max(n, bufferSize))
        }
        pendingKeys.withUnsafeBufferPointer { keys in
            pendingValues.withUnsafeBufferPointer { values in
                scratchKeys.withUnsafeMutableBufferPointer { sortedKeys in
                    scratchValues.withUnsafeMutableBufferPointer { sortedValues in
                        for i in 0..<n {
                            let p = Int(truncatingIfNeeded: Self.hash(keys[i]) >> shift)
                            sortedKeys[cursor[p]] = keys[i]
                            sortedValues[cursor[p]] = values[i]
                            cursor[p] += 1
                        }
                    }
                }
            }
        }
        let workers = min(threads, Self.partitions)
        tables.withUnsafeMutableBufferPointer { tables in
            let tables = tables
            scratchKeys.withUnsafeBufferPointer { keys in
                scratchValues.withUnsafeBufferPointer { values in
                    let insert = { (worker: Int) in
                        var p = worker
                        while p < Self.partitions {
                            for i in start[p]..<start[p + 1] { tables[p].add(keys[i], Self.hash(keys[i]), values[i]) }
                            p += workers
                        }
                    }
                    if workers == 1 { insert(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: insert) }
                }
            }
        }
    }

    /// All pairs sorted by key (row-major order of the upper triangle).
    public func sortedSums() -> PairSums {
        flush()
        var keys: [UInt64] = [], values: [Double] = []
        let total = count
        keys.reserveCapacity(total)
        values.reserveCapacity(total)
        for table in tables {
            for entry in table.entries where entry.key != Self.empty {
                keys.append(entry.key)
                values.append(entry.value)
            }
        }
        RadixSort.sort(&keys, carrying: &values)
        return PairSums(keys: keys, values: values)
    }
}

/// LSD radix sort of UInt64 keys (11-bit digits, digits equal for every key skipped),
/// moving a value array along. Stable, linear time.
enum RadixSort {
    static func sort(_ keys: inout [UInt64], carrying values: inout [Double]) {
        let n = keys.count
        guard n > 1 else { return }
        let bits = 11, radix = 1 << bits
        var allOr: UInt64 = 0, allAnd = UInt64.max
        for key in keys { allOr |= key; allAnd &= key }
        let varying = allOr ^ allAnd
        var otherKeys = [UInt64](repeating: 0, count: n)
        var otherValues = [Double](repeating: 0, count: n)
        var counts = [Int](repeating: 0, count: radix)
        var shift: UInt64 = 0
        while shift < 64 {
            defer { shift += UInt64(bits) }
            guard (varying >> shift) & UInt64(radix - 1) != 0 else { continue }
            for i in 0..<radix { counts[i] = 0 }
            keys.withUnsafeBufferPointer { k in
                for key in k { counts[Int((key >> shift) & UInt64(radix - 1))] += 1 }
            }
            var sum = 0
            for i in 0..<radix { let c = counts[i]; counts[i] = sum; sum += c }
            keys.withUnsafeBufferPointer { k in
                values.withUnsafeBufferPointer { v in
                    otherKeys.withUnsafeMutableBufferPointer { ok in
                        otherValues.withUnsafeMutableBufferPointer { ov in
                            counts.withUnsafeMutableBufferPointer { c in
                                for i in 0..<n {
                                    let digit = Int((k[i] >> shift) & UInt64(radix - 1))
                                    ok[c[digit]] = k[i]
                                    ov[c[digit]] = v[i]
                                    c[digit] += 1
                                }
                            }
                        }
                    }
                }
            }
            swap(&keys, &otherKeys)
            swap(&values, &otherValues)
        }
    }
}
