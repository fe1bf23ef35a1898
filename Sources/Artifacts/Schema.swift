import Foundation

/// The artifact kinds of contract v1. `data-schema/<kind>.json` is the
/// machine-readable copy of `SchemaKind.spec` (a test keeps them equal).
public enum SchemaKind: String, CaseIterable, Sendable {
    case frames, pca, features, graph, tree, triplets, model, embeddings, truth
    case retrieval = "eval.retrieval"
    case annotation = "eval.annotation"

    /// The value of the root attribute `schema`, e.g. `gcml.graph/1`.
    public var identifier: String { "gcml.\(rawValue)/1" }

    public init?(identifier: String) {
        guard identifier.hasPrefix("gcml."), identifier.hasSuffix("/1") else { return nil }
        self.init(rawValue: String(identifier.dropFirst(5).dropLast(2)))
    }

    public var spec: SchemaSpec { SchemaCatalog.spec(for: self) }
}

/// One dataset of a schema. Shape entries are symbols shared across datasets
/// ("N", "N+1", "F", …; "*" is any size; a number is a fixed size), so the
/// validator checks relations such as "[N+1] offsets for [N] videos".
public struct DatasetSpec: Codable, Equatable, Sendable {
    public var path: String
    public var types: [ElementType]
    public var shape: [String]
    public var required: Bool
    /// Datasets with the same `together` tag are optional as a set: all or none.
    public var together: String?
    /// For CSR `indptr` datasets: the dataset it points into (first value 0, last value = its length).
    public var indexes: String?
    public var about: String

    public init(_ path: String, _ types: [ElementType], _ shape: [String], required: Bool = true,
                together: String? = nil, indexes: String? = nil, about: String) {
        self.path = path
        self.types = types
        self.shape = shape
        self.required = required
        self.together = together
        self.indexes = indexes
        self.about = about
    }
}

public struct SchemaSpec: Codable, Equatable, Sendable {
    public var schema: String
    public var about: String
    /// Datasets; a path containing `{l}` repeats for levels l = 1…L (tree).
    public var datasets: [DatasetSpec]
    /// Required root attributes beyond the provenance ones.
    public var rootAttributes: [String]
    /// Whether layer groups (`<name>/weight` [out,in] + `<name>/bias` [out]) are expected (model).
    public var layerGroups: Bool

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }
}

/// The contract v1 definitions (see ../shared/design.md and data-schema/README.md).
enum SchemaCatalog {
    static func spec(for kind: SchemaKind) -> SchemaSpec {
        let videoIDs = DatasetSpec("/video_id", [.string], ["N"], about: "video ids, unique; row i is video i everywhere")
        let labels = [
            DatasetSpec("/labels/indptr", [.int64], ["N+1"], required: false, together: "labels", indexes: "/labels/indices",
                        about: "CSR row pointers of each video's labels"),
            DatasetSpec("/labels/indices", [.int32], ["L"], required: false, together: "labels", about: "class ids (attribute num_classes on /labels)"),
            DatasetSpec("/label_names", [.string], ["C"], required: false, about: "class names"),
        ]
        func csr(_ group: String, _ about: String) -> [DatasetSpec] {
            [DatasetSpec("/\(group)/indptr", [.int64], ["N+1"], indexes: "/\(group)/indices", about: "CSR row pointers (\(about))"),
             DatasetSpec("/\(group)/indices", [.int32], ["E_\(group)"], about: "column (video row) of each edge, sorted within a row"),
             DatasetSpec("/\(group)/weights", [.float32], ["E_\(group)"], about: "edge weight")]
        }
        switch kind {
        case .frames:
            return SchemaSpec(schema: kind.identifier, about: "frame-level visual and audio features of videos", datasets: [
                videoIDs,
                DatasetSpec("/frame_offsets", [.int64], ["N+1"], indexes: "/visual", about: "frames of video i are rows frame_offsets[i]..<frame_offsets[i+1]"),
                DatasetSpec("/visual", [.float32, .uint8], ["F", "Dv"], about: "visual frame features; uint8 carries quantize_min/quantize_max attributes"),
                DatasetSpec("/audio", [.float32, .uint8], ["F", "Da"], required: false, about: "audio frame features, same rows as /visual"),
            ] + labels, rootAttributes: [], layerGroups: false)
        case .pca:
            var datasets: [DatasetSpec] = []
            for (m, req) in [("visual", true), ("audio", false)] {
                let d = "D_\(m)", k = "k_\(m)"
                datasets += [
                    DatasetSpec("/\(m)/mean", [.float32, .float64], [d], required: req, together: m, about: "mean of the input frames"),
                    DatasetSpec("/\(m)/components", [.float32, .float64], [k, d], required: req, together: m, about: "orthonormal rows, by decreasing variance"),
                    DatasetSpec("/\(m)/explained_variance", [.float32, .float64], [k], required: req, together: m, about: "variance along each component"),
                ]
            }
            return SchemaSpec(schema: kind.identifier, about: "a fitted PCA model per modality", datasets: datasets, rootAttributes: [], layerGroups: false)
        case .features:
            return SchemaSpec(schema: kind.identifier, about: "one PCA'd, frame-averaged vector per video and modality", datasets: [
                videoIDs,
                DatasetSpec("/visual", [.float32], ["N", "Kv"], about: "average of the video's frames, projected by PCA"),
                DatasetSpec("/audio", [.float32], ["N", "Ka"], required: false, about: "same for audio (absent when dropped)"),
                DatasetSpec("/frame_count", [.int32], ["N"], about: "frames averaged per video"),
            ] + labels, rootAttributes: [], layerGroups: false)
        case .graph:
            return SchemaSpec(schema: kind.identifier, about: "the relational graph: train edges and held-out evaluation edges", datasets:
                [videoIDs] + csr("train", "symmetric, no self loops") + csr("heldout", "evaluation edges, never in /train") + [
                DatasetSpec("/heldout_nodes", [.int32], ["M"], about: "cold-start query videos: no /train edges at all"),
            ], rootAttributes: [], layerGroups: false)
        case .tree:
            return SchemaSpec(schema: kind.identifier, about: "hierarchy of clusters, level 1 (finest) to L", datasets: [
                DatasetSpec("/level_{l}/assignment", [.int32], ["N"], about: "cluster of each video at level l"),
                DatasetSpec("/level_{l}/size", [.int64], ["C_{l}"], about: "videos per cluster"),
                DatasetSpec("/level_{l}/parent", [.int32], ["C_{l}"], required: false, about: "cluster at level l+1 (all levels but the last)"),
            ], rootAttributes: [], layerGroups: false)
        case .triplets:
            return SchemaSpec(schema: kind.identifier, about: "training triplets (video rows)", datasets: [
                DatasetSpec("/anchor", [.int32], ["T"], about: "anchor video"),
                DatasetSpec("/positive", [.int32], ["T"], about: "a train neighbour of the anchor"),
                DatasetSpec("/negative", [.int32], ["T"], about: "negative video"),
                DatasetSpec("/negative_level", [.int8], ["T"], about: "tree level of the sibling cluster used; 0 = uniform random"),
            ], rootAttributes: [], layerGroups: false)
        case .model:
            return SchemaSpec(schema: kind.identifier, about: "embedding model weights, optimiser state and training history", datasets: [
                DatasetSpec("/history/step", [.int64], ["S"], about: "training step of each logged loss"),
                DatasetSpec("/history/loss", [.float64, .float32], ["S"], about: "training loss"),
                DatasetSpec("/history/presampled_negative_chosen", [.float64, .float32], ["S"], required: false, together: "mining",
                            about: "triplet training: share of triplets (0-1) whose own pre-sampled negative in-batch mining kept, per logged window"),
                DatasetSpec("/history/active_fraction", [.float64, .float32], ["S"], required: false, together: "mining",
                            about: "triplet training: share of triplets (0-1) with a non-zero hinge loss, per logged window"),
                DatasetSpec("/history/anchor_negative_distance", [.float64, .float32], ["S"], required: false, together: "mining",
                            about: "triplet training: mean Euclidean distance (0-2) between anchor and chosen negative embeddings, per logged window"),
                DatasetSpec("/history/validation_step", [.int64], ["V"], required: false, together: "validation", about: "training step of each validation"),
                DatasetSpec("/history/validation_map", [.float64, .float32], ["V"], required: false, together: "validation",
                            about: "held-out retrieval MAP among sampled candidates (held-out neighbours + random videos)"),
                DatasetSpec("/history/validation_map_full_corpus", [.float64, .float32], ["V"], required: false,
                            about: "held-out retrieval MAP of the same queries ranked against the whole corpus"),
            ], rootAttributes: [], layerGroups: true)
        case .embeddings:
            return SchemaSpec(schema: kind.identifier, about: "unit-norm embedding of every video", datasets: [
                videoIDs,
                DatasetSpec("/embedding", [.float32], ["N", "E"], about: "unit rows"),
            ], rootAttributes: [], layerGroups: false)
        case .truth:
            return SchemaSpec(schema: kind.identifier, about: "latent truth of a synthetic corpus (gcml-synth)", datasets: [
                videoIDs,
                DatasetSpec("/genre", [.int32], ["N"], about: "latent genre of each video"),
                DatasetSpec("/subgenre", [.int32], ["N"], about: "latent subgenre (global id)"),
                DatasetSpec("/topic", [.int32], ["N"], about: "latent leaf topic (global id)"),
            ], rootAttributes: [], layerGroups: false)
        case .retrieval:
            return SchemaSpec(schema: kind.identifier, about: "related-video retrieval evaluation", datasets: [
                DatasetSpec("/query", [.int32], ["Q"], about: "query video rows"),
                DatasetSpec("/candidates/indptr", [.int64], ["Q+1"], indexes: "/candidates/index", about: "CSR row pointers of each query's ranked candidates"),
                DatasetSpec("/candidates/index", [.int32], ["R"], about: "candidate video, best first"),
                DatasetSpec("/candidates/score", [.float32], ["R"], about: "cosine similarity"),
                DatasetSpec("/candidates/relevance", [.float32], ["R"], about: "held-out edge weight to the query (0 = not relevant)"),
                DatasetSpec("/ap", [.float64], ["Q"], about: "average precision per query"),
                DatasetSpec("/ndcg", [.float64], ["Q"], about: "NDCG@k per query"),
            ], rootAttributes: ["map", "ndcg_at_k", "k"], layerGroups: false)
        case .annotation:
            return SchemaSpec(schema: kind.identifier, about: "video annotation evaluation", datasets: [
                DatasetSpec("/test_rows", [.int32], ["M"], about: "test videos"),
                DatasetSpec("/top_k/class", [.int32], ["M", "K"], about: "top-K predicted classes, best first"),
                DatasetSpec("/top_k/score", [.float32], ["M", "K"], about: "their sigmoid scores"),
                DatasetSpec("/predictions", [.float32], ["M", "C"], required: false, about: "all scores (--save-predictions)"),
            ], rootAttributes: ["gap", "map", "hit_at_1", "hit_at_5", "perr"], layerGroups: false)
        }
    }
}
