import Support

/// The program that writes artifacts, as a value a library can be handed: every
/// file it writes is stamped with the program's name and options, and its
/// progress lines carry the same name. Stages make one from their command.
/// A writer of a `Publication` prepares its files there (published together by
/// the publication's `commit()`); a plain writer publishes each file at once.
public struct ArtifactWriter {
    public let createdBy: String
    public let parameters: [String: Any]
    public let publication: Publication?

    public init(createdBy: String, parameters: [String: Any] = [:], publication: Publication? = nil) {
        self.createdBy = createdBy
        self.parameters = parameters
        self.publication = publication
    }

    public var progress: ProgressReporter { ProgressReporter(createdBy) }

    /// Publishes what this writer's publication has prepared so far (a checkpoint); a plain
    /// writer has already published every file.
    public func publish() throws { try publication?.commit() }

    /// `Artifact.write` with this program's stamp (or prepared in the publication); `ranks` is
    /// how many ranks computed the content (default: the publication's, or 1).
    public func write(_ path: String, schema: SchemaKind, inputs: [String] = [], ranks: Int? = nil, body: (HDF5File) throws -> Void) throws {
        if let publication {
            try publication.write(path, schema: schema, parameters: parameters, inputs: inputs, ranks: ranks, body: body)
            return
        }
        try Artifact.write(path, schema: schema, createdBy: createdBy, parameters: parameters, inputs: inputs, ranks: ranks ?? 1, body: body)
    }
}
