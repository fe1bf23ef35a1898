import Foundation

/// Agreement between two partitions of the same items (a tree level against a
/// latent truth): normalised mutual information and the adjusted Rand index,
/// both from the contingency table, with scikit-learn's conventions.
public enum PartitionAgreement {
    /// The contingency table: counts of (label in `a`, label in `b`) pairs and the marginals.
    struct Contingency {
        var cells: [Int: Int] = [:]      // key = rowIndex * columns + columnIndex
        var rows: [Int]                  // items per label of `a`
        var columns: [Int]               // items per label of `b`
        var total: Int
    }

    static func contingency<A: Hashable, B: Hashable>(_ a: [A], _ b: [B]) -> Contingency {
        precondition(a.count == b.count, "partitions of different item counts")
        var rowIndex: [A: Int] = [:], columnIndex: [B: Int] = [:]
        let rowOf = a.map { label -> Int in
            if let i = rowIndex[label] { return i }
            rowIndex[label] = rowIndex.count
            return rowIndex.count - 1
        }
        let columnOf = b.map { label -> Int in
            if let j = columnIndex[label] { return j }
            columnIndex[label] = columnIndex.count
            return columnIndex.count - 1
        }
        var table = Contingency(rows: [Int](repeating: 0, count: rowIndex.count),
                                columns: [Int](repeating: 0, count: columnIndex.count), total: a.count)
        let width = columnIndex.count
        for item in 0..<a.count {
            let i = rowOf[item], j = columnOf[item]
            table.cells[i * width + j, default: 0] += 1
            table.rows[i] += 1
            table.columns[j] += 1
        }
        return table
    }

    /// Normalised mutual information, MI / mean(H(a), H(b)) (the arithmetic mean,
    /// scikit-learn's default). 1 when both partitions are a single cluster.
    public static func nmi<A: Hashable, B: Hashable>(_ a: [A], _ b: [B]) -> Double {
        let table = contingency(a, b)
        guard table.total > 0 else { return 1 }
        // Both trivial (one cluster each) or identical singletons: perfect agreement by convention.
        if table.rows.count == table.columns.count, table.rows.count == 1 || table.rows.count == table.total { return 1 }
        let n = Double(table.total)
        func entropy(_ counts: [Int]) -> Double {
            counts.reduce(0) { sum, c in c == 0 ? sum : sum - Double(c) / n * log(Double(c) / n) }
        }
        let ha = entropy(table.rows), hb = entropy(table.columns)
        let width = table.columns.count
        var mi = 0.0
        for (key, count) in table.cells {
            let i = key / width, j = key % width
            let nij = Double(count)
            // p(i,j) log(p(i,j) / (p(i) p(j))) = nij/n · log(nij·n / (ai·bj))
            mi += nij / n * log(nij * n / (Double(table.rows[i]) * Double(table.columns[j])))
        }
        let normaliser = (ha + hb) / 2
        guard normaliser > 0 else { return 1 }
        return max(0, min(1, mi / normaliser))
    }

    /// Adjusted Rand index (Hubert & Arabie): the Rand index corrected for chance;
    /// 1 for identical partitions, about 0 for independent ones, can be negative.
    public static func ari<A: Hashable, B: Hashable>(_ a: [A], _ b: [B]) -> Double {
        let table = contingency(a, b)
        // Degenerate cases scikit-learn defines as perfect agreement.
        if table.total == 0 { return 1 }
        if table.rows.count == table.columns.count, table.rows.count == 1 || table.rows.count == table.total { return 1 }
        func pairs(_ c: Int) -> Double { Double(c) * Double(c - 1) / 2 }
        let index = table.cells.values.reduce(0) { $0 + pairs($1) }
        let sumA = table.rows.reduce(0) { $0 + pairs($1) }
        let sumB = table.columns.reduce(0) { $0 + pairs($1) }
        let expected = sumA * sumB / pairs(table.total)
        let maximum = (sumA + sumB) / 2
        guard maximum != expected else { return 1 }
        return (index - expected) / (maximum - expected)
    }
}
