import Support

/// Sets aside what evaluation needs, by stable hashes of video ids only, so a
/// video or an edge keeps its side night after night while the corpus grows:
/// - cold-start nodes: `StableHash.fraction(id, salt: seed) < nodeFraction`; all their
///   edges go to held-out, none to train;
/// - held-out edges: among the remaining edges, those whose order-independent hash of
///   the two ids falls below `edgeFraction`.
public struct HoldOut: Sendable, Equatable {
    public var nodeFraction: Double
    public var edgeFraction: Double
    /// Salt of the hashes (the seed); the same salt gives the same sides.
    public var seed: UInt64

    public init(nodeFraction: Double = 0.1, edgeFraction: Double = 0, seed: UInt64 = 0) {
        self.nodeFraction = nodeFraction
        self.edgeFraction = edgeFraction
        self.seed = seed
    }

    /// Independent salt for edges so edge and node choices do not correlate.
    private var edgeSalt: UInt64 { seed ^ 0x6564_6765_5F68_6F6C }

    public func isHeldOutNode(_ videoID: String) -> Bool { StableHash.fraction(videoID, salt: seed) < nodeFraction }

    /// Symmetric in its arguments: the hash of the unordered pair of ids.
    public func edgeFraction(_ x: String, _ y: String) -> Double {
        edgeFraction(hash: StableHash.hash(x, salt: edgeSalt), StableHash.hash(y, salt: edgeSalt))
    }

    private func edgeFraction(hash hx: UInt64, _ hy: UInt64) -> Double {
        let h = SplitMix64.mix(min(hx, hy) &* 0x9E37_79B9_7F4A_7C15 ^ max(hx, hy))
        return Double(h >> 11) * 0x1.0p-53
    }

    public func isHeldOutEdge(_ x: String, _ y: String) -> Bool { edgeFraction(x, y) < edgeFraction }

    public struct Split: Sendable {
        public var train: UndirectedEdges
        public var heldout: UndirectedEdges
        /// Every video the hash chose, in row order (also those without edges in this graph).
        public var heldoutNodes: [Int32]
    }

    /// The hold-out decisions over the videos `videoIDs` (row i = video i), hashed once per video.
    public struct Sides: Sendable {
        /// Per row: a cold-start node.
        public let cold: [Bool]
        let edgeHash: [UInt64]
        let holdOut: HoldOut

        /// Whether the edge between rows x and y is held out (either end cold, or the pair's hash chose it).
        @inline(__always)
        public func isHeldOut(_ x: Int, _ y: Int) -> Bool {
            cold[x] || cold[y] || (holdOut.edgeFraction > 0 && holdOut.edgeFraction(hash: edgeHash[x], edgeHash[y]) < holdOut.edgeFraction)
        }
    }

    public func sides(videoIDs: [String]) -> Sides {
        Sides(cold: videoIDs.map(isHeldOutNode), edgeHash: edgeFraction > 0 ? videoIDs.map { StableHash.hash($0, salt: edgeSalt) } : [],
              holdOut: self)
    }

    /// Splits `edges` over the videos `videoIDs` (row i = video i).
    public func split(_ edges: UndirectedEdges, videoIDs: [String]) -> Split {
        precondition(videoIDs.count == edges.nodeCount)
        let sides = sides(videoIDs: videoIDs)
        let heldoutNodes = sides.cold.indices.filter { sides.cold[$0] }.map { Int32($0) }
        var toHeldout = [Bool](repeating: false, count: edges.count)
        for e in 0..<edges.count { toHeldout[e] = sides.isHeldOut(Int(edges.a[e]), Int(edges.b[e])) }
        return Split(train: edges.filter { !toHeldout[$0] }, heldout: edges.filter { toHeldout[$0] }, heldoutNodes: heldoutNodes)
    }
}
