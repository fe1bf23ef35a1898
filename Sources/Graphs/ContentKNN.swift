import Contracts
import Foundation
import LinearAlgebra
import Support

/// The content graph used when no interaction data exists: every video linked to
/// its k most cosine-similar videos (exact, itself excluded), by blocked SGEMM +
/// per-row top-k (`TopK.innerProduct`) over L2-normalised rows.
public enum ContentKNN {
    /// Each video's k nearest neighbours by cosine similarity, [N, k] best first.
    public static func neighbours(_ features: Matrix<Float>, k: Int, threads: Int = 1,
                                  progress reporter: ProgressReporter = .unnamed) -> TopKResult {
        let unit = features.normalizedRows
        let progress = reporter.progress("kNN", total: features.rows, unit: "videos")
        let result = TopK.innerProduct(queries: unit, corpus: unit, k: k, excluding: (0..<features.rows).map(Int32.init),
                                       threads: threads, progress: { progress.set($0) })
        progress.finish()
        return result
    }

    /// The kNN graph over the `/visual` features of `table`.
    public static func graph(_ table: FeatureTable, k: Int, threads: Int = 1, progress: ProgressReporter = .unnamed) -> UndirectedEdges {
        graph(Matrix(rows: table.count, columns: table.visualWidth, values: table.visual), k: k, threads: threads, progress: progress)
    }

    /// The undirected kNN graph: an edge wherever either endpoint lists the other among
    /// its k nearest, weighted by their cosine similarity; non-positive similarities are
    /// dropped (edge weights are strengths).
    public static func graph(_ features: Matrix<Float>, k: Int, threads: Int = 1,
                             progress: ProgressReporter = .unnamed) -> UndirectedEdges {
        let n = features.rows
        let found = neighbours(features, k: k, threads: threads, progress: progress)
        let links = links(found, firstQuery: 0)
        return edges(keys: links.keys, weights: links.weights, nodes: n)
    }

    /// Each query's positive-similarity neighbours as pair keys with their cosines (query q is row firstQuery + q).
    static func links(_ found: TopKResult, firstQuery: Int) -> (keys: [UInt64], weights: [Float]) {
        let k = found.k
        var keys: [UInt64] = []
        var weights: [Float] = []
        keys.reserveCapacity(found.queryCount * k)
        weights.reserveCapacity(found.queryCount * k)
        for q in 0..<found.queryCount {
            for slot in 0..<k {
                let j = found.indices[q * k + slot], s = found.scores[q * k + slot]
                guard j >= 0, s > 0 else { continue }
                keys.append(PairSums.key(Int32(firstQuery + q), j))
                weights.append(s)
            }
        }
        return (keys, weights)
    }

    /// One edge per distinct pair key, in key order.
    static func edges(keys: [UInt64], weights: [Float], nodes n: Int) -> UndirectedEdges {
        // Sort by pair and keep one entry per pair (both directions carry the same cosine).
        let order = keys.indices.sorted { keys[$0] < keys[$1] }
        var edges = UndirectedEdges(nodeCount: n)
        var last = UInt64.max
        for e in order {
            if keys[e] == last {
                // The two directions' cosines may differ in the last bit: keep the larger, whatever the order.
                edges.weight[edges.count - 1] = max(edges.weight[edges.count - 1], weights[e])
                continue
            }
            last = keys[e]
            let (x, y) = PairSums.rows(of: keys[e])
            edges.a.append(x)
            edges.b.append(y)
            edges.weight.append(weights[e])
        }
        return edges
    }
}
