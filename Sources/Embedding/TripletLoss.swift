import Contracts

/// How the negative of each triplet is chosen inside a mini-batch.
public enum Mining: String, CaseIterable, Sendable {
    /// The closest batch embedding still farther from the anchor than the positive; else the given negative.
    case semihard
    /// The closest batch embedding (hardest negative); else the given negative.
    case hard
    /// The negative from triplets.h5.
    case none
}

/// Triplet loss [‖a−p‖² − ‖a−n‖² + margin]₊ on unit embeddings, with in-batch re-mining.
///
/// Batch layout: rows 0..<B are anchors, B..<2B their positives, 2B..<3B the given
/// negatives; `videos[r]` is the video of row r. On unit vectors ‖x−y‖² = 2 − 2 x·y,
/// so one GEMM (the Gram matrix of the batch) gives every pairwise distance.
public enum TripletLoss {
    /// The negative row for each triplet in `anchors` (all B when nil), written at its index in
    /// `negatives`. A candidate is any batch row whose video is not the anchor's, not the positive's
    /// and not a known neighbour of the anchor (`neighbours`, a CSR adjacency with sorted columns).
    /// `gram` holds the Gram rows of those anchors: [anchors.count, 3B] row-major (the whole batch
    /// is searched whichever anchors a rank mines for).
    public static func selectNegatives<S: NetworkScalar>(gram: UnsafePointer<S>, anchors: Range<Int>? = nil, tripletCount b: Int,
                                                         videos: UnsafePointer<Int32>, neighbours: CSRGraph?, mining: Mining,
                                                         into negatives: UnsafeMutablePointer<Int>) {
        let rows = 3 * b
        let anchors = anchors ?? 0..<b
        for i in anchors {
            negatives[i] = 2 * b + i
            if mining == .none { continue }
            let g = gram + (i - anchors.lowerBound) * rows
            let anchor = videos[i], positive = videos[b + i]
            // Larger similarity = smaller distance; semi-hard: similarity below the positive's.
            let limit = mining == .semihard ? g[b + i] : S.infinity
            var best = -S.infinity, bestRow = -1
            for j in 0..<rows {
                let s = g[j]
                guard s < limit, s > best else { continue }
                let video = videos[j]
                if video == anchor || video == positive { continue }
                if let neighbours, isNeighbour(neighbours, Int(anchor), video) { continue }
                best = s
                bestRow = j
            }
            if bestRow >= 0 { negatives[i] = bestRow }
        }
    }

    @inline(__always)
    static func isNeighbour(_ graph: CSRGraph, _ node: Int, _ other: Int32) -> Bool {
        guard node < graph.nodeCount else { return false }
        var low = Int(graph.indptr[node]), high = Int(graph.indptr[node + 1])
        while low < high {
            let mid = (low + high) >> 1
            let value = graph.indices[mid]
            if value == other { return true }
            if value < other { low = mid + 1 } else { high = mid }
        }
        return false
    }

    /// Mean hinge loss over the B triplets and its gradient with respect to the embeddings
    /// [3B, dim] (written into `gradient`, all rows). Returns the loss and the number of active triplets.
    @discardableResult
    public static func lossAndGradient<S: NetworkScalar>(embeddings z: UnsafePointer<S>, dim: Int, tripletCount b: Int,
                                                         negatives: UnsafePointer<Int>, margin: S,
                                                         gradient: UnsafeMutablePointer<S>) -> (loss: Double, active: Int) {
        gradient.update(repeating: 0, count: 3 * b * dim)
        var total = 0.0
        var active = 0
        let scale = 2 / S(b)
        for i in 0..<b {
            let a = z + i * dim, p = z + (b + i) * dim, n = z + negatives[i] * dim
            let ap = Kernels.dot(dim, a, p), an = Kernels.dot(dim, a, n)
            // ‖a−p‖² − ‖a−n‖² = (2 − 2a·p) − (2 − 2a·n) = 2(a·n − a·p).
            let hinge = 2 * (an - ap) + margin
            if hinge <= 0 { continue }   // (a NaN hinge is counted, so a diverged model shows a NaN loss)
            total += Double(hinge)
            active += 1
            let ga = gradient + i * dim, gp = gradient + (b + i) * dim, gn = gradient + negatives[i] * dim
            for c in 0..<dim {
                ga[c] += scale * (n[c] - p[c])
                gp[c] -= scale * a[c]
                gn[c] += scale * a[c]
            }
        }
        return (total / Double(b), active)
    }

    /// What in-batch mining did to one batch (the paper's evidence for smart negatives): how many
    /// triplets kept their own pre-sampled negative (row 2B+i), and the summed anchor–negative
    /// Euclidean distance of the chosen negatives (unit vectors: ‖a−n‖ = √(2 − 2a·n)).
    public static func miningStatistics<S: NetworkScalar>(embeddings z: UnsafePointer<S>, dim: Int, tripletCount b: Int,
                                                          negatives: UnsafePointer<Int>) -> (ownNegativeChosen: Int, distanceSum: Double) {
        var own = 0, distance = 0.0
        for i in 0..<b {
            if negatives[i] == 2 * b + i { own += 1 }
            let an = Double(Kernels.dot(dim, z + i * dim, z + negatives[i] * dim))
            distance += max(0, 2 - 2 * an).squareRoot()
        }
        return (own, distance)
    }
}
