import Artifacts
import Support

/// The whole contract of an artifact, beyond its schema: what the readers of this layer
/// check when a stage opens the file (graph symmetry and order, tree consistency), for
/// tools that validate files without using them (gcml-check).
public enum ContractCheck {
    public static func validate(_ path: String, as kind: SchemaKind) throws {
        switch kind {
        case .graph: _ = try RelationalGraph.read(path)
        case .tree: _ = try ClusterTree.read(path)
        default: break
        }
    }
}
