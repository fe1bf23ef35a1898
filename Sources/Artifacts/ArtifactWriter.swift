import Support

/// The program that writes artifacts, as a value a library can be handed: every
/// file it writes is stamped with the program's name and options, and its
/// progress lines carry the same name. Stages make one from their command.
public struct ArtifactWriter {
    public let createdBy: String
    public let parameters: [String: Any]

    public init(createdBy: String, parameters: [String: Any] = [:]) {
        self.createdBy = createdBy
        self.parameters = parameters
    }

    public var progress: ProgressReporter { ProgressReporter(createdBy) }

    /// `Artifact.write` with this program's stamp; `ranks` is how many ranks computed the content.
    public func write(_ path: String, schema: SchemaKind, inputs: [String] = [], ranks: Int = 1, body: (HDF5File) throws -> Void) throws {
        try Artifact.write(path, schema: schema, createdBy: createdBy, parameters: parameters, inputs: inputs, ranks: ranks, body: body)
    }
}
