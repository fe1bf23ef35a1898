import Artifacts
import Support

/// The truth artifact (`gcml.truth/1`): the latent genre, subgenre and topic of every video of
/// a synthetic corpus. Generators may add extras (popularity, style directions) beside these.
public struct LatentTruth: Equatable, Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        case topic, subgenre, genre

        public var path: String {
            switch self {
            case .topic: return DatasetPath.Truth.topic
            case .subgenre: return DatasetPath.Truth.subgenre
            case .genre: return DatasetPath.Truth.genre
            }
        }
    }

    public var genre: [Int32]
    public var subgenre: [Int32]
    public var topic: [Int32]

    public init(genre: [Int32], subgenre: [Int32], topic: [Int32]) {
        precondition(genre.count == topic.count && subgenre.count == topic.count)
        self.genre = genre
        self.subgenre = subgenre
        self.topic = topic
    }

    public func partition(_ kind: Kind) -> [Int32] {
        switch kind {
        case .topic: return topic
        case .subgenre: return subgenre
        case .genre: return genre
        }
    }

    /// Opens and validates a `gcml.truth/1` file and reads the three partitions.
    public static func read(_ path: String) throws -> LatentTruth {
        let file = try Artifact.open(path, as: .truth)
        defer { try? file.close() }
        let root = file.root
        return LatentTruth(genre: try root.read(Kind.genre.path), subgenre: try root.read(Kind.subgenre.path), topic: try root.read(Kind.topic.path))
    }

    /// Writes the ids (appended in blocks of `idBlock`, so ids of a huge corpus are never all
    /// in memory) and the three partitions into an open file (inside `Artifact.write`).
    public func write(to file: HDF5File, videoCount: Int, videoID: (Int) -> String, idBlock: Int = 65536) throws {
        let root = file.root
        let ids = try root.createDataset(DatasetPath.videoID, type: .string, shape: [0], extendable: true, compression: .none, chunkRows: idBlock)
        for first in stride(from: 0, to: videoCount, by: idBlock) {
            try ids.append(strings: (first..<min(videoCount, first + idBlock)).map(videoID))
        }
        try root.write(Kind.genre.path, genre)
        try root.write(Kind.subgenre.path, subgenre)
        try root.write(Kind.topic.path, topic)
    }
}
