import Foundation
import Support

/// The last check before an output is published: every float dataset holds finite
/// numbers only (a NaN or infinity is an arithmetic failure upstream, never data).
enum FiniteValues {
    /// Values per block read back, so the check streams however large the file.
    static let blockValues = 1 << 20

    static func check(path: String, displayName: String) throws {
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        for datasetPath in try file.root.datasetPaths() {
            let dataset = try file.root.dataset(datasetPath)
            switch dataset.elementType {
            case .float32: try check(dataset, as: Float.self, displayName: displayName)
            case .float64: try check(dataset, as: Double.self, displayName: displayName)
            default: continue
            }
        }
    }

    private static func check<T: HDF5Scalar & BinaryFloatingPoint>(_ dataset: Dataset, as: T.Type, displayName: String) throws {
        if dataset.rank == 0 {
            let value: [T] = try dataset.read()
            if let bad = value.first(where: { !$0.isFinite }) {
                throw GCMLError(file: displayName, object: dataset.path, expected: "a finite value before publishing", found: "\(bad)")
            }
            return
        }
        let width = max(1, dataset.rowWidth)
        let rowsPerBlock = max(1, blockValues / width)
        var buffer = [T](repeating: 0, count: min(dataset.rows, rowsPerBlock) * width)
        var start = 0
        while start < dataset.rows {
            let rows = min(rowsPerBlock, dataset.rows - start)
            try buffer.withUnsafeMutableBufferPointer { all in
                let block = UnsafeMutableBufferPointer(rebasing: all[0..<(rows * width)])
                try dataset.readRows(start..<(start + rows), into: block)
                if let bad = block.firstIndex(where: { !$0.isFinite }) {
                    throw GCMLError(file: displayName, object: dataset.path, expected: "finite values before publishing",
                                    found: "\(block[bad]) at row \(start + bad / width)" + (width > 1 ? ", column \(bad % width)" : "")
                                        + " (an arithmetic overflow or invalid input upstream; nothing was written)")
                }
            }
            start += rows
        }
    }
}
