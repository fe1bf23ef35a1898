import Contracts
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Sums a value per unordered pair of video rows, so memory grows with the
/// number of distinct pairs, never with the number of input rows.
///
/// Sort-based aggregation, built for hundreds of millions of pairs: a hash table
/// of that size spends its time waiting on DRAM (and needs 2–4× its entries in
/// slots), whereas sorting and merging only stream memory. Adds are buffered; a
/// full buffer is radix-sorted (stable) and merged, in place and from the back,
/// into one sorted run of distinct pairs (16 bytes each, grown by `realloc`, so
/// growth costs neither a copy nor a second resident run). The buffer holds a
/// quarter of the run (at least `bufferSize` adds), so each pair's merges cost a
/// bounded number of streamed bytes per add whatever the size, and the peak is
/// about 16 B per distinct pair for the run plus 12 B for the buffers.
///
/// A pair's value is summed in the order its adds arrived, as a running sum
/// started at the first add — the same floating-point result as adding each
/// value to a table entry as it comes (merges never pre-sum a buffer's adds).
public final class PairCounter: @unchecked Sendable {
    /// The sorted, distinct pairs so far.
    private let runKeys = GrowableStorage<UInt64>()
    private let runValues = GrowableStorage<Double>()
    private var pendingKeys: [UInt64] = []
    private var pendingValues: [Double] = []
    private var inFlightKeys: [UInt64] = []
    private var inFlightValues: [Double] = []
    /// Radix-sort scratch, used by the merging thread only.
    private var scratchKeys: [UInt64] = []
    private var scratchValues: [Double] = []
    private let bufferSize: Int
    /// Adds buffered before the next merge: a quarter of the run, at least `bufferSize`.
    private var mergeThreshold: Int
    /// Whether a full buffer is merged on a background thread while adds continue
    /// into a second buffer (merges stay in order, so sums are the same).
    public let background: Bool
    private let inFlight = DispatchGroup()
    private let mergeQueue = DispatchQueue(label: "gcml.pair-counter.merge")

    /// - Parameters:
    ///   - expectedPairs: initial capacity hint.
    ///   - bufferSize: fewest adds buffered before a merge (the buffer grows to a quarter of the run).
    ///   - background: merge full buffers on a second thread (overlaps parsing and counting).
    public init(expectedPairs: Int = 1 << 16, bufferSize: Int = 1 << 20, background: Bool = true) {
        self.bufferSize = max(1, bufferSize)
        mergeThreshold = self.bufferSize
        pendingKeys.reserveCapacity(mergeThreshold)
        pendingValues.reserveCapacity(mergeThreshold)
        self.background = background
        runKeys.reserve(max(16, expectedPairs))
        runValues.reserve(max(16, expectedPairs))
    }

    /// Distinct pairs so far.
    public var count: Int {
        flush()
        return runKeys.count
    }

    /// Bytes held by the run (its reserved capacity) and the add buffers.
    public var memoryBytes: Int {
        inFlight.wait()
        return runKeys.capacity * MemoryLayout<UInt64>.stride + runValues.capacity * MemoryLayout<Double>.stride
            + (pendingKeys.capacity + inFlightKeys.capacity + scratchKeys.capacity) * (MemoryLayout<UInt64>.size + MemoryLayout<Double>.size)
    }

    /// Adds `value` to the pair's sum.
    @inline(__always)
    public func add(key: UInt64, _ value: Double) {
        pendingKeys.append(key)
        pendingValues.append(value)
        if pendingKeys.count >= mergeThreshold { handOff() }
    }

    /// Adds `value` to the sum of each pair of `keys`, in order: the same as one `add` per key, with
    /// the buffers' bookkeeping (and Swift's exclusivity checks on them) paid once per batch.
    public func add(keys: UnsafeBufferPointer<UInt64>, _ value: Double) {
        var start = 0
        while start < keys.count {
            let n = min(keys.count - start, max(1, mergeThreshold - pendingKeys.count))
            pendingKeys.append(contentsOf: UnsafeBufferPointer(rebasing: keys[start..<(start + n)]))
            pendingValues.append(contentsOf: repeatElement(value, count: n))
            start += n
            if pendingKeys.count >= mergeThreshold { handOff() }
        }
    }

    /// A full buffer: merge it now, or swap it with the (finished) in-flight one and merge it in the background.
    private func handOff() {
        inFlight.wait()
        // The run only grows, so this bounds the merges' streamed bytes per add (no merge is in flight here).
        mergeThreshold = max(bufferSize, (runKeys.count + pendingKeys.count) / 4)
        guard background else { return merge(&pendingKeys, &pendingValues) }
        swap(&pendingKeys, &inFlightKeys)
        swap(&pendingValues, &inFlightValues)
        // Exactly the next buffer's size (appends would double it, and copy).
        pendingKeys.reserveCapacity(mergeThreshold)
        pendingValues.reserveCapacity(mergeThreshold)
        inFlight.enter()
        mergeQueue.async { [self] in
            merge(&inFlightKeys, &inFlightValues)
            inFlight.leave()
        }
    }

    /// Merges every buffered add (waiting for a background merge first) and returns the
    /// buffers' memory, so that reading the run holds the run alone.
    public func flush() {
        inFlight.wait()
        merge(&pendingKeys, &pendingValues)
        releaseBuffers()
    }

    /// Returns the memory of the add buffers (pending, in-flight, scratch); the run stays.
    private func releaseBuffers() {
        pendingKeys = []
        pendingValues = []
        inFlightKeys = []
        inFlightValues = []
        scratchKeys = []
        scratchValues = []
    }

    /// All pairs sorted by key (row-major order of the upper triangle) with their sums. Hands
    /// the run over: it is moved into the arrays piece by piece from its end while the run
    /// shrinks, so the two are never both whole in memory; the counter is empty afterwards.
    public func sortedSums() -> PairSums {
        flush()
        let n = runKeys.count
        let keys = [UInt64](unsafeUninitializedCapacity: n) { buffer, initialized in
            runKeys.moveOut(to: buffer.baseAddress)
            initialized = n
        }
        let values = [Double](unsafeUninitializedCapacity: n) { buffer, initialized in
            runValues.moveOut(to: buffer.baseAddress)
            initialized = n
        }
        return PairSums(keys: keys, values: values)
    }

    /// Forgets every pair and returns the memory.
    public func removeAll() {
        inFlight.wait()
        releaseBuffers()
        runKeys.free()
        runValues.free()
    }

    /// Sorts a buffer of adds (stably) and merges it into the run; empties the buffer.
    private func merge(_ keys: inout [UInt64], _ values: inout [Double]) {
        let n = keys.count
        guard n > 0 else { return }
        if scratchKeys.count < n {
            scratchKeys = [UInt64](repeating: 0, count: n)
            scratchValues = [Double](repeating: 0, count: n)
        }
        RadixSort.sort(&keys, carrying: &values, scratchKeys: &scratchKeys, scratchValues: &scratchValues)
        keys.withUnsafeBufferPointer { addKeys in
            values.withUnsafeBufferPointer { addValues in mergeSorted(addKeys, addValues) }
        }
        keys.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
    }

    /// Merges sorted adds (equal keys in arrival order) into the run, from the back, in place.
    private func mergeSorted(_ addKeys: UnsafeBufferPointer<UInt64>, _ addValues: UnsafeBufferPointer<Double>) {
        let m = runKeys.count, n = addKeys.count
        // Distinct added keys absent from the run: the run's growth.
        var fresh = 0, i = 0, j = 0
        runKeys.withPointer { run in
            while j < n {
                let key = addKeys[j]
                while i < m && run[i] < key { i += 1 }
                if i == m || run[i] != key { fresh += 1 }
                j += 1
                while j < n && addKeys[j] == key { j += 1 }
            }
        }
        runKeys.resize(m + fresh)
        runValues.resize(m + fresh)
        runKeys.withPointer { rk in
            runValues.withPointer { rv in
                // Writing position w never passes the unread run entries below it (w ≥ i always).
                var w = m + fresh - 1, i = m - 1, j = n - 1
                while j >= 0 {
                    let key = addKeys[j]
                    var first = j
                    while first > 0 && addKeys[first - 1] == key { first -= 1 }
                    while i >= 0 && rk[i] > key {
                        rk[w] = rk[i]
                        rv[w] = rv[i]
                        w -= 1
                        i -= 1
                    }
                    // Running sum in arrival order: from the existing sum, else from the first add.
                    var sum: Double, next = first
                    if i >= 0 && rk[i] == key {
                        sum = rv[i]
                        i -= 1
                    } else {
                        sum = addValues[first]
                        next = first + 1
                    }
                    while next <= j { sum += addValues[next]; next += 1 }
                    rk[w] = key
                    rv[w] = sum
                    w -= 1
                    j = first - 1
                }
            }
        }
    }
}

/// A growable buffer of trivial values in `malloc` memory: `realloc` moves large
/// blocks by remapping pages, so growth neither copies nor briefly doubles memory.
final class GrowableStorage<Element> {
    private(set) var base: UnsafeMutablePointer<Element>?
    private(set) var count = 0
    private(set) var capacity = 0

    deinit { free() }

    var buffer: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }

    func withPointer<R>(_ body: (UnsafeMutablePointer<Element>) -> R) -> R {
        if base == nil { reserve(1) }
        return body(base!)
    }

    func reserve(_ wanted: Int) {
        guard wanted > capacity else { return }
        guard let grown = realloc(base, wanted * MemoryLayout<Element>.stride) else {
            fatalError("PairCounter: out of memory growing to \(wanted) pairs")
        }
        base = grown.bindMemory(to: Element.self, capacity: wanted)
        capacity = wanted
    }

    /// Sets the count (new elements uninitialised; the caller writes them), growing by at least 1.25×.
    func resize(_ newCount: Int) {
        if newCount > capacity { reserve(max(newCount, capacity + capacity / 4)) }
        count = newCount
    }

    /// Copies every element to `destination` in pieces from the end, shrinking the block after
    /// each piece (`realloc` returns the pages), and leaves the storage empty.
    func moveOut(to destination: UnsafeMutablePointer<Element>?) {
        let piece = 1 << 20
        while count > 0, let base, let destination {
            let start = max(0, count - piece)
            (destination + start).update(from: base + start, count: count - start)
            count = start
            if start > 0, let shrunk = realloc(base, start * MemoryLayout<Element>.stride) {
                self.base = shrunk.bindMemory(to: Element.self, capacity: start)
                capacity = start
            }
        }
        free()
    }

    func free() {
        Glibc.free(base)
        base = nil
        count = 0
        capacity = 0
    }
}

/// LSD radix sort of UInt64 keys (11-bit digits, digits equal for every key skipped),
/// moving a value array along. Stable, linear time.
enum RadixSort {
    static func sort(_ keys: inout [UInt64], carrying values: inout [Double]) {
        var scratchKeys = [UInt64](repeating: 0, count: keys.count)
        var scratchValues = [Double](repeating: 0, count: keys.count)
        sort(&keys, carrying: &values, scratchKeys: &scratchKeys, scratchValues: &scratchValues)
    }

    /// The same with caller-owned scratch of at least keys.count entries (contents undefined afterwards).
    static func sort(_ keys: inout [UInt64], carrying values: inout [Double], scratchKeys: inout [UInt64], scratchValues: inout [Double]) {
        let n = keys.count
        guard n > 1 else { return }
        precondition(scratchKeys.count >= n && scratchValues.count >= n)
        let bits = 11, radix = 1 << bits
        var allOr: UInt64 = 0, allAnd = UInt64.max
        for key in keys { allOr |= key; allAnd &= key }
        let varying = allOr ^ allAnd
        var counts = [Int](repeating: 0, count: radix)
        var sortedInScratch = false
        var shift: UInt64 = 0
        while shift < 64 {
            defer { shift += UInt64(bits) }
            guard (varying >> shift) & UInt64(radix - 1) != 0 else { continue }
            for i in 0..<radix { counts[i] = 0 }
            let pass = { (k: UnsafeMutableBufferPointer<UInt64>, v: UnsafeMutableBufferPointer<Double>,
                          ok: UnsafeMutableBufferPointer<UInt64>, ov: UnsafeMutableBufferPointer<Double>) in
                counts.withUnsafeMutableBufferPointer { c in
                    for i in 0..<n { c[Int((k[i] >> shift) & UInt64(radix - 1))] += 1 }
                    var sum = 0
                    for i in 0..<radix { let x = c[i]; c[i] = sum; sum += x }
                    for i in 0..<n {
                        let digit = Int((k[i] >> shift) & UInt64(radix - 1))
                        ok[c[digit]] = k[i]
                        ov[c[digit]] = v[i]
                        c[digit] += 1
                    }
                }
            }
            keys.withUnsafeMutableBufferPointer { k in
                values.withUnsafeMutableBufferPointer { v in
                    scratchKeys.withUnsafeMutableBufferPointer { sk in
                        scratchValues.withUnsafeMutableBufferPointer { sv in
                            if sortedInScratch { pass(sk, sv, k, v) } else { pass(k, v, sk, sv) }
                        }
                    }
                }
            }
            sortedInScratch.toggle()
        }
        if sortedInScratch {
            keys.withUnsafeMutableBufferPointer { k in scratchKeys.withUnsafeBufferPointer { k.baseAddress!.update(from: $0.baseAddress!, count: n) } }
            values.withUnsafeMutableBufferPointer { v in scratchValues.withUnsafeBufferPointer { v.baseAddress!.update(from: $0.baseAddress!, count: n) } }
        }
    }
}
