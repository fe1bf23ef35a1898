import Artifacts
import Support

/// Video labels from a features.h5 or frames.h5: `/video_id`, `/labels/indptr`,
/// `/labels/indices` with attribute `num_classes` on `/labels`, optional
/// `/label_names` and an optional `/split` (strings "train"/"test", or integers 0 = train, 1 = test).
public struct VideoLabels {
    public var path: String
    public var videoIDs: [String]
    public var classCount: Int
    public var indptr: [Int64]
    public var indices: [Int32]
    public var names: [String]?
    /// Whether each video is a test video, when the file has `/split`.
    public var isTest: [Bool]?

    public init(path: String, videoIDs: [String], classCount: Int, indptr: [Int64], indices: [Int32],
                names: [String]? = nil, isTest: [Bool]? = nil) {
        self.path = path
        self.videoIDs = videoIDs
        self.classCount = classCount
        self.indptr = indptr
        self.indices = indices
        self.names = names
        self.isTest = isTest
    }

    public var videoCount: Int { videoIDs.count }

    /// The true classes of video `row`.
    public func labels(_ row: Int) -> [Int32] { Array(indices[Int(indptr[row])..<Int(indptr[row + 1])]) }

    public static func read(_ path: String) throws -> VideoLabels {
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        let root = file.root
        let ids = try root.readStrings(DatasetPath.videoID)
        guard root.exists(DatasetPath.Labels.indptr), root.exists(DatasetPath.Labels.indices) else {
            throw GCMLError(file: path, object: DatasetPath.Labels.group,
                            expected: "\(DatasetPath.Labels.indptr) and \(DatasetPath.Labels.indices) (video labels)", found: "no labels")
        }
        let indptr: [Int64] = try root.read(DatasetPath.Labels.indptr)
        let indices: [Int32] = try root.read(DatasetPath.Labels.indices)
        let names = root.exists(DatasetPath.Labels.names) ? try root.readStrings(DatasetPath.Labels.names) : nil
        var classes = try root.group(DatasetPath.Labels.group).intAttribute(DatasetPath.Labels.numClassesAttribute).map(Int.init)
        if classes == nil, let names { classes = names.count }
        guard let classCount = classes, classCount > 0 else {
            throw GCMLError(file: path, object: "\(DatasetPath.Labels.group) attribute '\(DatasetPath.Labels.numClassesAttribute)'", expected: "a positive class count", found: classes.map(String.init) ?? "nothing")
        }
        guard indptr.count == ids.count + 1, indptr.first == 0, indptr.last == Int64(indices.count) else {
            throw GCMLError(file: path, object: DatasetPath.Labels.indptr, expected: "\(ids.count + 1) pointers from 0 to \(indices.count)",
                            found: "\(indptr.count) pointers from \(indptr.first ?? -1) to \(indptr.last ?? -1)")
        }
        if let row = (0..<ids.count).first(where: { indptr[$0] > indptr[$0 + 1] }) {
            throw GCMLError(file: path, object: DatasetPath.Labels.indptr, expected: "non-decreasing pointers", found: "a decrease at video \(row) ('\(ids[row])')")
        }
        if let bad = indices.firstIndex(where: { $0 < 0 || Int($0) >= classCount }) {
            throw GCMLError(file: path, object: DatasetPath.Labels.indices, expected: "classes in 0..<\(classCount)", found: "\(indices[bad]) at entry \(bad)")
        }
        var isTest: [Bool]? = nil
        if root.exists(DatasetPath.Labels.split) {
            let split = try root.dataset(DatasetPath.Labels.split)
            guard split.rows == ids.count, split.rank == 1 else {
                throw GCMLError(file: path, object: DatasetPath.Labels.split, expected: "[\(ids.count)] (one entry per video)", found: "shape \(split.shape)")
            }
            switch split.elementType {
            case .string:
                isTest = try split.readStrings().enumerated().map { row, value in
                    switch value {
                    case "train": return false
                    case "test": return true
                    default: throw GCMLError(file: path, object: DatasetPath.Labels.split, expected: "'train' or 'test'", found: "'\(value)' for video \(row)")
                    }
                }
            case .int8, .uint8, .int32, .int64:
                let values: [Int64] = try readIntegers(split)
                isTest = try values.enumerated().map { row, value in
                    guard value == 0 || value == 1 else {
                        throw GCMLError(file: path, object: DatasetPath.Labels.split, expected: "0 (train) or 1 (test)", found: "\(value) for video \(row)")
                    }
                    return value == 1
                }
            default:
                throw GCMLError(file: path, object: DatasetPath.Labels.split, expected: "strings or integers", found: "\(split.elementType)")
            }
        }
        return VideoLabels(path: path, videoIDs: ids, classCount: classCount, indptr: indptr, indices: indices, names: names, isTest: isTest)
    }

    private static func readIntegers(_ dataset: Dataset) throws -> [Int64] {
        switch dataset.elementType {
        case .int8: return try dataset.read(as: Int8.self).map(Int64.init)
        case .uint8: return try dataset.read(as: UInt8.self).map(Int64.init)
        case .int32: return try dataset.read(as: Int32.self).map(Int64.init)
        default: return try dataset.read(as: Int64.self)
        }
    }
}
