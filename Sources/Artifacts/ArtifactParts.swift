import Foundation
import Support

/// How the parts of one artifact, written by several ranks in rank order, join into
/// the artifact: which datasets hold one row per item (concatenated), which are CSR
/// pointers (concatenated with each part's values shifted by the entries before it),
/// and — everything else — what every part holds alike (taken from the first part).
public struct PartLayout: Sendable {
    /// Datasets concatenated along their first dimension, e.g. `/video_id`, `/visual`.
    public var rows: Set<String>
    /// CSR pointer datasets ([items + 1] int64, starting at 0), e.g. `/labels/indptr`.
    public var pointers: Set<String>

    public init(rows: Set<String>, pointers: Set<String> = []) {
        self.rows = rows
        self.pointers = pointers
    }
}

/// Joins part files into one ordinary artifact body (no links to the parts remain).
public enum ArtifactParts {
    /// Rows copied per read/write: about 8 MiB of the widest row.
    static let blockBytes = 8 << 20

    /// Writes the join of `parts` (in order) into `file`, with the attributes of the
    /// first part's groups and datasets. Each part is read once, block by block.
    public static func join(_ parts: [String], layout: PartLayout, into file: HDF5File) throws {
        precondition(!parts.isEmpty, "join needs at least one part")
        let opened = try parts.map { try HDF5File.open($0) }
        defer { for part in opened { try? part.close() } }
        let first = opened[0]
        for path in try first.root.datasetPaths() {
            let sources = try opened.map { try $0.root.dataset(path) }
            let target: Dataset
            if layout.pointers.contains(path) {
                target = try joinPointers(sources, path: path, into: file)
            } else if layout.rows.contains(path) {
                target = try joinRows(sources, path: path, into: file)
            } else {
                target = try copy(sources[0], to: file, path: path)
            }
            try copyAttributes(from: sources[0], to: target)
        }
        try copyGroupAttributes(first.root, into: file)
    }

    /// Concatenates the parts' rows in order.
    static func joinRows(_ sources: [Dataset], path: String, into file: HDF5File) throws -> Dataset {
        let model = sources[0]
        for source in sources where source.elementType != model.elementType || Array(source.shape.dropFirst()) != Array(model.shape.dropFirst()) {
            throw GCMLError(file: source.file.path, object: path, expected: "\(model.elementType) rows of shape \(Array(model.shape.dropFirst())) (as in \(model.file.path))",
                            found: "\(source.elementType) rows of shape \(Array(source.shape.dropFirst()))")
        }
        let total = sources.reduce(0) { $0 + $1.rows }
        var shape = model.shape
        shape[0] = model.extendable ? 0 : total
        let target = try file.root.createDataset(path, type: model.elementType, shape: shape, extendable: model.extendable,
                                                 compression: compression(of: model), chunkRows: model.chunkShape?.first)
        var row = 0
        for source in sources {
            let step = max(1, blockBytes / max(1, source.rowWidth * source.elementType.byteSize))
            var start = 0
            while start < source.rows {
                let range = start..<min(source.rows, start + step)
                try copyRows(source, range, to: target, at: row + start)
                start = range.upperBound
            }
            row += source.rows
        }
        return target
    }

    /// Concatenates CSR pointers: each later part drops its leading 0 and is shifted by the entries before it.
    static func joinPointers(_ sources: [Dataset], path: String, into file: HDF5File) throws -> Dataset {
        var joined: [Int64] = [0]
        for source in sources {
            let values: [Int64] = try source.read()
            guard values.first == 0 else {
                throw GCMLError(file: source.file.path, object: path, expected: "CSR pointers starting at 0", found: "\(values.first.map(String.init) ?? "no values")")
            }
            let shift = joined.last!
            joined += values.dropFirst().map { $0 + shift }
        }
        let model = sources[0]
        let target = try file.root.createDataset(path, type: .int64, shape: [model.extendable ? 0 : joined.count], extendable: model.extendable,
                                                 compression: compression(of: model))
        if model.extendable { try target.append(joined) } else { try target.writeRows(joined, at: 0) }
        return target
    }

    /// Copies a whole dataset (one that every part holds alike).
    static func copy(_ source: Dataset, to file: HDF5File, path: String) throws -> Dataset {
        var shape = source.shape
        if shape.isEmpty { shape = [1] }
        if source.extendable { shape[0] = 0 }
        let target = try file.root.createDataset(path, type: source.elementType, shape: shape, extendable: source.extendable,
                                                 compression: compression(of: source), chunkRows: source.chunkShape?.first)
        if source.rows > 0 { try copyRows(source, 0..<source.rows, to: target, at: 0) }
        return target
    }

    /// Copies rows `range` of `source` to row `row` of `target`, growing an extendable target.
    static func copyRows(_ source: Dataset, _ range: Range<Int>, to target: Dataset, at row: Int) throws {
        func move<T: HDF5Scalar>(_ type: T.Type) throws {
            let values: [T] = try source.readRows(range)
            if target.extendable && row == target.rows { try target.append(values) } else { try target.writeRows(values, at: row) }
        }
        switch source.elementType {
        case .float32: try move(Float.self)
        case .float64: try move(Double.self)
        case .int8: try move(Int8.self)
        case .uint8: try move(UInt8.self)
        case .int32: try move(Int32.self)
        case .int64: try move(Int64.self)
        case .string:
            let strings = try source.readStrings(rows: range)
            if target.extendable && row == target.rows { try target.append(strings: strings) } else { try target.writeStrings(strings, at: row) }
        }
    }

    static func compression(of dataset: Dataset) -> Compression {
        guard dataset.isCompressed else { return .none }
        return .zstd(level: 3, shuffle: dataset.filters.contains(2))
    }

    static func copyAttributes(from source: HDF5Object, to target: HDF5Object) throws {
        for name in try source.attributeNames() {
            if let value = try source.attribute(name) { try target.setAttribute(name, value) }
        }
    }

    /// Attributes of every group of `source` (root included), onto the same groups of `file`.
    static func copyGroupAttributes(_ source: Group, into file: HDF5File) throws {
        let target = source.path == "/" ? file.root : try file.root.createGroup(source.path)
        try copyAttributes(from: source, to: target)
        for name in try source.childNames() {
            let child = source.path == "/" ? "/" + name : source.path + "/" + name
            if source.isGroup(child) { try copyGroupAttributes(try source.group(child), into: file) }
        }
    }
}
