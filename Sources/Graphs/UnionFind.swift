/// Disjoint sets over 0..<count with union by size and path halving: near-constant
/// time per operation, two Int32/Int64 arrays of memory.
public struct UnionFind: Sendable {
    private var parent: [Int32]
    private var sizes: [Int64]
    /// Number of disjoint sets.
    public private(set) var setCount: Int

    /// `count` singletons, each of size 1.
    public init(count: Int) {
        self.init(sizes: [Int64](repeating: 1, count: count))
    }

    /// Singletons with the given weights (e.g. the videos each cluster already holds);
    /// `size(of:)` reports the sum over a set.
    public init(sizes: [Int64]) {
        parent = (0..<Int32(sizes.count)).map { $0 }
        self.sizes = sizes
        setCount = sizes.count
    }

    public var count: Int { parent.count }

    /// The representative of `element`'s set.
    @inline(__always)
    public mutating func find(_ element: Int) -> Int {
        var x = element
        while Int(parent[x]) != x {
            let grand = parent[Int(parent[x])]
            parent[x] = grand          // path halving
            x = Int(grand)
        }
        return x
    }

    /// Total size of `element`'s set.
    public mutating func size(of element: Int) -> Int64 { sizes[find(element)] }

    /// Merges the sets of `a` and `b`; false when they were already one set.
    @discardableResult
    public mutating func union(_ a: Int, _ b: Int) -> Bool {
        var ra = find(a), rb = find(b)
        if ra == rb { return false }
        if sizes[ra] < sizes[rb] || (sizes[ra] == sizes[rb] && rb < ra) { swap(&ra, &rb) }
        parent[rb] = Int32(ra)
        sizes[ra] += sizes[rb]
        setCount -= 1
        return true
    }

    /// Whether `a` and `b` are in the same set.
    public mutating func connected(_ a: Int, _ b: Int) -> Bool { find(a) == find(b) }
}
