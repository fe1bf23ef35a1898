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

/// Every dataset path of contract v1, written once, here, beside the catalog that describes
/// them. Readers and writers (the Contracts module), the catalog and the validator use these
/// names; nothing else spells a dataset path.
public enum DatasetPath {
    /// Row i is video i in every per-video dataset.
    public static let videoID = "/video_id"
    public static let visual = "/visual"
    public static let audio = "/audio"
    /// The modalities in file order (frames, features, pca).
    public static let modalities = ["visual", "audio"]

    public enum Labels {
        public static let group = "/labels"
        public static let indptr = "/labels/indptr"
        public static let indices = "/labels/indices"
        /// Attribute on `group`.
        public static let numClassesAttribute = "num_classes"
        public static let names = "/label_names"
        /// Optional train/test split of the videos ("train"/"test", or 0 = train, 1 = test).
        public static let split = "/split"
    }

    public enum Frames {
        public static let offsets = "/frame_offsets"
        /// Attributes of uint8 /visual and /audio.
        public static let quantizeMinAttribute = "quantize_min"
        public static let quantizeMaxAttribute = "quantize_max"
    }

    public enum Features {
        public static let frameCount = "/frame_count"
    }

    /// Members of a CSR group (graph /train and /heldout).
    public enum CSR {
        public static let indptr = "indptr"
        public static let indices = "indices"
        public static let weights = "weights"
    }

    public enum Graph {
        public static let train = "/train"
        public static let heldout = "/heldout"
        public static let heldoutNodes = "/heldout_nodes"
    }

    public enum Tree {
        /// Level groups `/level_1` … `/level_L`; `{l}` is the level in the catalog.
        public static let levelPrefix = "level_"
        public static let levelTemplate = "/level_{l}"
        public static func level(_ level: Int) -> String { "/\(levelPrefix)\(level)" }
        public static let assignment = "assignment"
        public static let size = "size"
        public static let parent = "parent"
    }

    public enum Triplets {
        public static let anchor = "/anchor"
        public static let positive = "/positive"
        public static let negative = "/negative"
        public static let negativeLevel = "/negative_level"
    }

    public enum PCA {
        /// Members of each modality group (`/visual`, `/audio`).
        public static let mean = "mean"
        public static let components = "components"
        public static let explainedVariance = "explained_variance"
    }

    public enum Model {
        public static let historyStep = "/history/step"
        public static let historyLoss = "/history/loss"
        public static let historyValidationStep = "/history/validation_step"
        public static let historyValidationMAP = "/history/validation_map"
        public static let historyValidationMAPFullCorpus = "/history/validation_map_full_corpus"
        public static let historyPresampledNegativeChosen = "/history/presampled_negative_chosen"
        public static let historyActiveFraction = "/history/active_fraction"
        public static let historyAnchorNegativeDistance = "/history/anchor_negative_distance"
    }

    public enum Embeddings {
        public static let embedding = "/embedding"
    }

    public enum Truth {
        public static let genre = "/genre"
        public static let subgenre = "/subgenre"
        public static let topic = "/topic"
    }

    public enum Retrieval {
        public static let query = "/query"
        public static let candidatesIndptr = "/candidates/indptr"
        public static let candidatesIndex = "/candidates/index"
        public static let candidatesScore = "/candidates/score"
        public static let candidatesRelevance = "/candidates/relevance"
        public static let ap = "/ap"
        public static let ndcg = "/ndcg"
    }

    public enum Annotation {
        public static let testRows = "/test_rows"
        public static let topClass = "/top_k/class"
        public static let topScore = "/top_k/score"
        public static let predictions = "/predictions"
        public static let trainLoss = "/train_loss"
    }
}

/// The contract v1 definitions (see docs/architecture.md and data-schema/README.md).
enum SchemaCatalog {
    static func spec(for kind: SchemaKind) -> SchemaSpec {
        let videoIDs = DatasetSpec(DatasetPath.videoID, [.string], ["N"], about: "video ids, unique; row i is video i everywhere")
        let labels = [
            DatasetSpec(DatasetPath.Labels.indptr, [.int64], ["N+1"], required: false, together: "labels", indexes: DatasetPath.Labels.indices,
                        about: "CSR row pointers of each video's labels"),
            DatasetSpec(DatasetPath.Labels.indices, [.int32], ["L"], required: false, together: "labels", about: "class ids (attribute num_classes on /labels)"),
            DatasetSpec(DatasetPath.Labels.names, [.string], ["C"], required: false, about: "class names"),
            DatasetSpec(DatasetPath.Labels.split, [.string, .int8, .uint8, .int32, .int64], ["N"], required: false,
                        about: "train/test split of the videos: \"train\"/\"test\", or 0 = train, 1 = test (annotation evaluation)"),
        ]
        func csr(_ group: String, _ about: String) -> [DatasetSpec] {
            [DatasetSpec("\(group)/\(DatasetPath.CSR.indptr)", [.int64], ["N+1"], indexes: "\(group)/\(DatasetPath.CSR.indices)", about: "CSR row pointers (\(about))"),
             DatasetSpec("\(group)/\(DatasetPath.CSR.indices)", [.int32], ["E_\(group.dropFirst())"], about: "column (video row) of each edge, sorted within a row"),
             DatasetSpec("\(group)/\(DatasetPath.CSR.weights)", [.float32], ["E_\(group.dropFirst())"], about: "edge weight")]
        }
        switch kind {
        case .frames:
            return SchemaSpec(schema: kind.identifier, about: "frame-level visual and audio features of videos", datasets: [
                videoIDs,
                DatasetSpec(DatasetPath.Frames.offsets, [.int64], ["N+1"], indexes: DatasetPath.visual, about: "frames of video i are rows frame_offsets[i]..<frame_offsets[i+1]"),
                DatasetSpec(DatasetPath.visual, [.float32, .uint8], ["F", "Dv"], about: "visual frame features; uint8 carries quantize_min/quantize_max attributes"),
                DatasetSpec(DatasetPath.audio, [.float32, .uint8], ["F", "Da"], required: false, about: "audio frame features, same rows as /visual"),
            ] + labels, rootAttributes: [], layerGroups: false)
        case .pca:
            var datasets: [DatasetSpec] = []
            for (m, req) in zip(DatasetPath.modalities, [true, false]) {
                let d = "D_\(m)", k = "k_\(m)"
                datasets += [
                    DatasetSpec("/\(m)/\(DatasetPath.PCA.mean)", [.float32, .float64], [d], required: req, together: m, about: "mean of the input frames"),
                    DatasetSpec("/\(m)/\(DatasetPath.PCA.components)", [.float32, .float64], [k, d], required: req, together: m, about: "orthonormal rows, by decreasing variance"),
                    DatasetSpec("/\(m)/\(DatasetPath.PCA.explainedVariance)", [.float32, .float64], [k], required: req, together: m, about: "variance along each component"),
                ]
            }
            return SchemaSpec(schema: kind.identifier, about: "a fitted PCA model per modality", datasets: datasets, rootAttributes: [], layerGroups: false)
        case .features:
            return SchemaSpec(schema: kind.identifier, about: "one PCA'd, frame-averaged vector per video and modality", datasets: [
                videoIDs,
                DatasetSpec(DatasetPath.visual, [.float32], ["N", "Kv"], about: "average of the video's frames, projected by PCA"),
                DatasetSpec(DatasetPath.audio, [.float32], ["N", "Ka"], required: false, about: "same for audio (absent when dropped)"),
                DatasetSpec(DatasetPath.Features.frameCount, [.int32], ["N"], about: "frames averaged per video"),
            ] + labels, rootAttributes: [], layerGroups: false)
        case .graph:
            return SchemaSpec(schema: kind.identifier, about: "the relational graph: train edges and held-out evaluation edges", datasets:
                [videoIDs] + csr(DatasetPath.Graph.train, "symmetric, no self loops") + csr(DatasetPath.Graph.heldout, "evaluation edges, never in /train") + [
                DatasetSpec(DatasetPath.Graph.heldoutNodes, [.int32], ["M"], about: "cold-start query videos: no /train edges at all"),
            ], rootAttributes: [], layerGroups: false)
        case .tree:
            return SchemaSpec(schema: kind.identifier, about: "hierarchy of clusters, level 1 (finest) to L", datasets: [
                DatasetSpec("\(DatasetPath.Tree.levelTemplate)/\(DatasetPath.Tree.assignment)", [.int32], ["N"], about: "cluster of each video at level l"),
                DatasetSpec("\(DatasetPath.Tree.levelTemplate)/\(DatasetPath.Tree.size)", [.int64], ["C_{l}"], about: "videos per cluster"),
                DatasetSpec("\(DatasetPath.Tree.levelTemplate)/\(DatasetPath.Tree.parent)", [.int32], ["C_{l}"], required: false, about: "cluster at level l+1 (all levels but the last)"),
            ], rootAttributes: [], layerGroups: false)
        case .triplets:
            return SchemaSpec(schema: kind.identifier, about: "training triplets (video rows)", datasets: [
                DatasetSpec(DatasetPath.Triplets.anchor, [.int32], ["T"], about: "anchor video"),
                DatasetSpec(DatasetPath.Triplets.positive, [.int32], ["T"], about: "a train neighbour of the anchor"),
                DatasetSpec(DatasetPath.Triplets.negative, [.int32], ["T"], about: "negative video"),
                DatasetSpec(DatasetPath.Triplets.negativeLevel, [.int8], ["T"], about: "tree level of the sibling cluster used; 0 = uniform random"),
            ], rootAttributes: [], layerGroups: false)
        case .model:
            return SchemaSpec(schema: kind.identifier, about: "embedding model weights, optimiser state and training history", datasets: [
                DatasetSpec(DatasetPath.Model.historyStep, [.int64], ["S"], about: "training step of each logged loss"),
                DatasetSpec(DatasetPath.Model.historyLoss, [.float64, .float32], ["S"], about: "training loss"),
                DatasetSpec(DatasetPath.Model.historyPresampledNegativeChosen, [.float64, .float32], ["S"], required: false, together: "mining",
                            about: "triplet training: share of triplets (0-1) whose own pre-sampled negative in-batch mining kept, per logged window"),
                DatasetSpec(DatasetPath.Model.historyActiveFraction, [.float64, .float32], ["S"], required: false, together: "mining",
                            about: "triplet training: share of triplets (0-1) with a non-zero hinge loss, per logged window"),
                DatasetSpec(DatasetPath.Model.historyAnchorNegativeDistance, [.float64, .float32], ["S"], required: false, together: "mining",
                            about: "triplet training: mean Euclidean distance (0-2) between anchor and chosen negative embeddings, per logged window"),
                DatasetSpec(DatasetPath.Model.historyValidationStep, [.int64], ["V"], required: false, together: "validation",
                            about: "training step of each validation"),
                DatasetSpec(DatasetPath.Model.historyValidationMAP, [.float64, .float32], ["V"], required: false, together: "validation",
                            about: "held-out retrieval MAP among sampled candidates (held-out neighbours + random videos)"),
                DatasetSpec(DatasetPath.Model.historyValidationMAPFullCorpus, [.float64, .float32], ["V"], required: false,
                            about: "held-out retrieval MAP of the same queries ranked against the whole corpus"),
            ], rootAttributes: [], layerGroups: true)
        case .embeddings:
            return SchemaSpec(schema: kind.identifier, about: "unit-norm embedding of every video", datasets: [
                videoIDs,
                DatasetSpec(DatasetPath.Embeddings.embedding, [.float32], ["N", "E"], about: "unit rows"),
            ], rootAttributes: [], layerGroups: false)
        case .truth:
            return SchemaSpec(schema: kind.identifier, about: "latent truth of a synthetic corpus", datasets: [
                videoIDs,
                DatasetSpec(DatasetPath.Truth.genre, [.int32], ["N"], about: "latent genre of each video"),
                DatasetSpec(DatasetPath.Truth.subgenre, [.int32], ["N"], about: "latent subgenre (global id)"),
                DatasetSpec(DatasetPath.Truth.topic, [.int32], ["N"], about: "latent leaf topic (global id)"),
            ], rootAttributes: [], layerGroups: false)
        case .retrieval:
            return SchemaSpec(schema: kind.identifier, about: "related-video retrieval evaluation", datasets: [
                DatasetSpec(DatasetPath.Retrieval.query, [.int32], ["Q"], about: "query video rows"),
                DatasetSpec(DatasetPath.Retrieval.candidatesIndptr, [.int64], ["Q+1"], indexes: DatasetPath.Retrieval.candidatesIndex, about: "CSR row pointers of each query's ranked candidates"),
                DatasetSpec(DatasetPath.Retrieval.candidatesIndex, [.int32], ["R"], about: "candidate video, best first"),
                DatasetSpec(DatasetPath.Retrieval.candidatesScore, [.float32], ["R"], about: "cosine similarity"),
                DatasetSpec(DatasetPath.Retrieval.candidatesRelevance, [.float32], ["R"], about: "held-out edge weight to the query (0 = not relevant)"),
                DatasetSpec(DatasetPath.Retrieval.ap, [.float64], ["Q"], about: "average precision per query"),
                DatasetSpec(DatasetPath.Retrieval.ndcg, [.float64], ["Q"], about: "NDCG@k per query"),
            ], rootAttributes: ["map", "ndcg_at_k", "k"], layerGroups: false)
        case .annotation:
            return SchemaSpec(schema: kind.identifier, about: "video annotation evaluation", datasets: [
                DatasetSpec(DatasetPath.Annotation.testRows, [.int32], ["M"], about: "test videos"),
                DatasetSpec(DatasetPath.Annotation.topClass, [.int32], ["M", "K"], about: "top-K predicted classes, best first"),
                DatasetSpec(DatasetPath.Annotation.topScore, [.float32], ["M", "K"], about: "their sigmoid scores"),
                DatasetSpec(DatasetPath.Annotation.predictions, [.float32], ["M", "C"], required: false, about: "all scores (when asked for)"),
            ], rootAttributes: ["gap", "map", "hit_at_1", "hit_at_5", "perr"], layerGroups: false)
        }
    }
}
