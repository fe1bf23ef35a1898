import Artifacts

extension ArtifactWriter {
    /// `DistributedArtifact.write` with this writer: every rank of `communicator` writes its
    /// rows (`layout`), joined into one artifact by rank 0; a plain `write` without a launcher.
    @discardableResult
    public func write<R>(_ path: String, schema: SchemaKind, inputs: [String] = [], layout: PartLayout, communicator: Communicator,
                         body: (HDF5File) throws -> R) throws -> R {
        try DistributedArtifact.write(path, schema: schema, inputs: inputs, layout: layout, communicator: communicator, writer: self, body: body)
    }
}
