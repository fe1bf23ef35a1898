import Artifacts
import Support

/// The triplets artifact (`gcml.triplets/1`): (anchor, positive, negative) video rows and the
/// tree level each negative came from (0 = uniform random).
public struct TripletSet: Equatable, Sendable {
    public var anchor: [Int32]
    public var positive: [Int32]
    public var negative: [Int32]
    /// Empty when not read (`read(…, levels: false)`) or not known.
    public var negativeLevel: [Int8]

    public init(anchor: [Int32], positive: [Int32], negative: [Int32], negativeLevel: [Int8] = []) {
        precondition(anchor.count == positive.count && anchor.count == negative.count)
        precondition(negativeLevel.isEmpty || negativeLevel.count == anchor.count)
        self.anchor = anchor
        self.positive = positive
        self.negative = negative
        self.negativeLevel = negativeLevel
    }

    public var count: Int { anchor.count }

    /// Number of triplets in a validated `gcml.triplets/1` file.
    public static func count(_ path: String) throws -> Int {
        let file = try Artifact.open(path, as: .triplets)
        defer { try? file.close() }
        return try file.root.dataset(DatasetPath.Triplets.anchor).rows
    }

    /// Reads triplets `rows` (all when nil) of a `gcml.triplets/1` file and checks every video row
    /// against `videos` (the rows of the features the triplets index). The whole file must hold
    /// at least one triplet.
    public static func read(_ path: String, videos: Int, rows: Range<Int>? = nil, levels: Bool = true) throws -> TripletSet {
        let file = try Artifact.open(path, as: .triplets)
        defer { try? file.close() }
        let root = file.root
        let total = try root.dataset(DatasetPath.Triplets.anchor).rows
        guard total > 0 else {
            throw GCMLError(file: path, object: DatasetPath.Triplets.anchor, expected: "at least one triplet", found: "none")
        }
        let range = rows ?? 0..<total
        var columns: [[Int32]] = []
        for name in [DatasetPath.Triplets.anchor, DatasetPath.Triplets.positive, DatasetPath.Triplets.negative] {
            let values: [Int32] = try root.dataset(name).readRows(range)
            if let bad = values.firstIndex(where: { $0 < 0 || Int($0) >= videos }) {
                throw GCMLError(file: path, object: name, expected: "video rows in 0..<\(videos) (features.h5)",
                                found: "\(values[bad]) at triplet \(range.lowerBound + bad)")
            }
            columns.append(values)
        }
        let level: [Int8] = levels ? try root.dataset(DatasetPath.Triplets.negativeLevel).readRows(range) : []
        return TripletSet(anchor: columns[0], positive: columns[1], negative: columns[2], negativeLevel: level)
    }

    /// Writes the whole set into an open file (inside `Artifact.write`); levels default to 0.
    public func write(to file: HDF5File) throws {
        let writer = try TripletWriter(file: file)
        try writer.append(anchor: anchor[...], positive: positive[...], negative: negative[...],
                          negativeLevel: negativeLevel.isEmpty ? [Int8](repeating: 0, count: count)[...] : negativeLevel[...])
    }
}

/// Streams triplet blocks into a `gcml.triplets/1` file: extendable, chunked, zstd datasets
/// grown by `append`, so the file can hold any number of triplets, written one part at a time.
public final class TripletWriter {
    private let anchor: Dataset, positive: Dataset, negative: Dataset, level: Dataset
    public private(set) var written = 0

    public init(file: HDF5File) throws {
        anchor = try file.root.createDataset(DatasetPath.Triplets.anchor, type: .int32, shape: [0], extendable: true)
        positive = try file.root.createDataset(DatasetPath.Triplets.positive, type: .int32, shape: [0], extendable: true)
        negative = try file.root.createDataset(DatasetPath.Triplets.negative, type: .int32, shape: [0], extendable: true)
        level = try file.root.createDataset(DatasetPath.Triplets.negativeLevel, type: .int8, shape: [0], extendable: true)
    }

    /// Appends one part (the four columns have equal lengths).
    public func append(anchor a: ArraySlice<Int32>, positive p: ArraySlice<Int32>, negative n: ArraySlice<Int32>,
                       negativeLevel l: ArraySlice<Int8>) throws {
        precondition(a.count == p.count && a.count == n.count && a.count == l.count, "triplet columns of one length")
        try a.withUnsafeBufferPointer { try anchor.append($0) }
        try p.withUnsafeBufferPointer { try positive.append($0) }
        try n.withUnsafeBufferPointer { try negative.append($0) }
        try l.withUnsafeBufferPointer { try level.append($0) }
        written += a.count
    }
}
