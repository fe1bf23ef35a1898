import Artifacts

extension ArtifactWriter {
    /// `DistributedArtifact.write` with this program's stamp: every rank of `communicator` writes its
    /// rows (`layout`), joined into one artifact; a plain `write` without a launcher.
    public func write(_ path: String, schema: SchemaKind, inputs: [String] = [], layout: PartLayout, communicator: Communicator,
                      body: (HDF5File) throws -> Void) throws {
        try DistributedArtifact.write(path, schema: schema, createdBy: createdBy, parameters: parameters, inputs: inputs, layout: layout,
                                      communicator: communicator, body: body)
    }
}
