import Foundation
import Contracts
import Support

/// Which tree level a smart negative comes from: one level, or a level drawn
/// per triplet with these weights (levels 1, 2, … in order).
public enum LevelChoice: Equatable, Sendable {
    case level(Int)
    case mix([Double])

    /// "w1,w2,…": non-negative weights of levels 1, 2, … (nil when not such a list).
    public init?(weights text: String) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let values = parts.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count == parts.count, !values.isEmpty, values.allSatisfy({ $0 >= 0 && $0.isFinite }),
              values.reduce(0, +) > 0 else { return nil }
        self = .mix(values)
    }

    /// The weight of each of the tree's `levels` levels.
    public func weights(levels: Int) throws -> [Double] {
        switch self {
        case .mix(let values):
            guard values.count <= levels else {
                throw GCMLError(parameter: "levelMix", expected: "up to \(levels) weights (the tree has \(levels) levels)",
                                found: "\(values.count)")
            }
            return values
        case .level(let chosen):
            guard (1...levels).contains(chosen) else {
                throw GCMLError(parameter: "level", expected: "a level in 1…\(levels) (the tree has \(levels))", found: "\(chosen)")
            }
            return (1...levels).map { $0 == chosen ? 1 : 0 }
        }
    }
}

/// The graph and tree a sampler draws from, read and checked against each other.
public struct TripletInputs {
    public let train: CSRGraph
    public let tree: ClusterTree?
    public let levelWeights: [Double]
    /// The files read (for provenance).
    public let paths: [String]

    /// Reads the train graph and, when given, the tree; a tree must describe the same videos.
    public static func read(graph: String, tree: String?, levels: LevelChoice) throws -> TripletInputs {
        let train = try RelationalGraph.readTrain(graph)
        if let row = train.firstUnsortedRow() {
            throw GCMLError(file: graph, object: "/train/indices", expected: "columns strictly increasing within each row", found: "row \(row) unsorted")
        }
        guard let tree else { return TripletInputs(train: train, tree: nil, levelWeights: [1], paths: [graph]) }
        let clusters = try ClusterTree.read(tree)
        guard clusters.nodeCount == train.nodeCount else {
            throw GCMLError(file: tree, object: "/level_1/assignment", expected: "\(train.nodeCount) videos (as in \(graph))",
                            found: "\(clusters.nodeCount)")
        }
        guard (1...Int(Int8.max)).contains(clusters.levels.count) else {
            throw GCMLError(file: tree, expected: "1 to \(Int8.max) levels", found: "\(clusters.levels.count)")
        }
        return TripletInputs(train: train, tree: clusters, levelWeights: try levels.weights(levels: clusters.levels.count),
                             paths: [graph, tree])
    }
}
