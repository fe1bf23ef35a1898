import Distributed

/// Count, mean and scatter Σ (x − mean)(x − mean)ᵀ of a set of rows.
struct RowMoments {
    var count: Int
    var mean: [Double]
    /// Full symmetric, row-major.
    var scatter: [Double]

    static func empty(dimension d: Int) -> RowMoments {
        RowMoments(count: 0, mean: [Double](repeating: 0, count: d), scatter: [Double](repeating: 0, count: d * d))
    }

    /// Adds the rows of `other` (Chan et al.): M = M_a + M_b + δδᵀ·n_a·n_b/n, μ = μ_a + δ·n_b/n with
    /// δ = μ_b − μ_a. Not associative in floating point, so callers add blocks in one fixed order.
    mutating func append(_ other: RowMoments) {
        guard other.count > 0 else { return }
        guard count > 0 else { self = other; return }
        let d = mean.count
        let na = Double(count), nb = Double(other.count), n = na + nb
        let delta = (0..<d).map { other.mean[$0] - mean[$0] }
        let weight = na * nb / n
        for i in 0..<d {
            for j in i..<d {
                let value = scatter[i * d + j] + other.scatter[i * d + j] + weight * delta[i] * delta[j]
                scatter[i * d + j] = value
                scatter[j * d + i] = value
            }
        }
        for i in 0..<d { mean[i] += delta[i] * nb / n }
        count += other.count
    }

    /// [count, mean, scatter] as float64 values, for a broadcast.
    var packed: [Double] { [Double(count)] + mean + scatter }

    init(count: Int, mean: [Double], scatter: [Double]) {
        self.count = count
        self.mean = mean
        self.scatter = scatter
    }

    init(packed: [Double], dimension d: Int) {
        precondition(packed.count == 1 + d + d * d)
        count = Int(packed[0])
        mean = Array(packed[1...d])
        scatter = Array(packed[(1 + d)...])
    }
}

/// Mean and covariance of float rows kept in fixed blocks of videos, so that N ranks that own
/// whole blocks get one process's bits: each block has its own `CovarianceAccumulator` (its
/// own shift and float32 SSYRK blocks, which start where the block starts), and the blocks'
/// moments are added in block order — rank by rank along a chain of broadcasts, since adding
/// moments is not associative in floating point.
///
/// Memory: one accumulator, plus on ranks after the first the moments of their finished blocks
/// (D×D float64 each) until the blocks before them are known; the first rank adds as it goes.
public final class FixedBlockCovariance {
    public let dimension: Int
    public let blockRows: Int
    private var current: CovarianceAccumulator
    /// Rank 0 (one process) adds its blocks as they finish: no blocks come before them.
    private let addsAsItGoes: Bool
    /// Rank 0: the sum of its finished blocks.
    private var added: RowMoments
    /// A later rank: its finished blocks, in order, until the sum of the ranks before it is known.
    private var finished: [RowMoments] = []

    /// `isFirstRank`: this is rank 0 (or one process), whose blocks follow no others.
    public init(dimension: Int, blockRows: Int, isFirstRank: Bool) {
        self.dimension = dimension
        self.blockRows = blockRows
        current = CovarianceAccumulator(dimension: dimension, blockRows: blockRows)
        addsAsItGoes = isFirstRank
        added = .empty(dimension: dimension)
    }

    /// Ends the current block: the next rows belong to the next fixed block.
    public func startBlock() {
        guard current.count > 0 else { return }
        let moments = current.moments()
        if addsAsItGoes { added.append(moments) } else { finished.append(moments) }
        current = CovarianceAccumulator(dimension: dimension, blockRows: blockRows)
    }

    /// Adds `rows` rows (row-major, `dimension` values each) to the current block.
    public func add(_ values: [Float], rows: Int) { current.add(values, rows: rows) }

    /// Mean, unbiased covariance and row count of the rows added on every rank, the blocks added in order.
    public func finish(over communicator: Communicator) -> (mean: [Double], covariance: [Double], count: Int) {
        startBlock()
        let d = dimension
        var total = added
        if communicator.isLaunched {
            // Rank r adds its blocks to the sum of ranks 0..<r and passes the sum on.
            for root in 0..<communicator.size {
                if communicator.rank == root, root > 0 { for block in finished { total.append(block) } }
                var packed = communicator.rank == root ? total.packed : [Double](repeating: 0, count: 1 + d + d * d)
                communicator.broadcast(&packed, root: root)
                total = RowMoments(packed: packed, dimension: d)
            }
        }
        return (total.mean, CovarianceAccumulator.covariance(scatter: total.scatter, count: total.count), total.count)
    }
}
