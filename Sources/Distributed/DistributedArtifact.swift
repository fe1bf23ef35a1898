import Artifacts
import Foundation
import Support

/// Writing one artifact from several ranks, all or nothing, on top of `Publication`.
///
/// Every rank writes its rows, in rank order, into a part file beside the output
/// (hidden, named after the job); when every part is complete, rank 0 joins them into
/// one ordinary artifact (`ArtifactParts.join`: rows concatenated, nothing linked) through
/// its writer: prepared in rank 0's publication (stamped `ranks` = N, validated) and
/// published by the caller's `commit()`/`publish()` once every rank has agreed. A rank that
/// fails prints its error with its rank and ends the job (the launcher stops the others),
/// so nothing is renamed and the previous file at the path stays as it was. Without a
/// launcher this is `writer.write` itself.
public enum DistributedArtifact {
    /// Writes `path` from every rank of `communicator`. `writer` is each rank's; only rank 0's
    /// writes the joined file (only rank 0 holds the run's publication). `body` fills this
    /// rank's part (or, in a plain run, the whole file) and returns a value; datasets not
    /// in `layout` must be written alike by every rank (rank 0's copy is kept).
    @discardableResult
    public static func write<R>(_ path: String, schema: SchemaKind, inputs: [String] = [], layout: PartLayout,
                                communicator: Communicator, writer: ArtifactWriter,
                                body: (HDF5File) throws -> R) throws -> R {
        guard communicator.isLaunched else {
            var result: R?
            try writer.write(path, schema: schema, inputs: inputs) { result = try body($0) }
            guard let result else { throw GCMLError("\(path): nothing was written") }
            return result
        }
        let parts = partPaths(path, communicator: communicator)
        let mine = parts[communicator.rank]
        defer { try? FileManager.default.removeItem(atPath: mine) }
        let result: R
        do {
            try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                                                    withIntermediateDirectories: true)
            let file = try HDF5File.create(mine)
            do {
                result = try body(file)
                try file.close()
            } catch {
                try? file.close()
                throw error
            }
        } catch {
            // The job ends here: remove every rank's part (an open part disappears when its writer is killed).
            for part in parts { try? FileManager.default.removeItem(atPath: part) }
            communicator.fail(writer.createdBy, error)
        }
        // Every part is complete once every rank is past this point (a failed rank has ended the job).
        communicator.barrier()
        var joinError: Error?
        if communicator.isRoot {
            do {
                try writer.write(path, schema: schema, inputs: inputs, ranks: communicator.size) { file in
                    try ArtifactParts.join(parts, layout: layout, into: file)
                }
            } catch {
                joinError = error
            }
        }
        // The parts are read until rank 0 is done; then each rank removes its own (the defer).
        let failed = communicator.failedRanks(joinError == nil)
        if let joinError { throw joinError }
        if !failed.isEmpty { throw GCMLError("\(path): rank 0 could not join the ranks' parts; nothing was published") }
        return result
    }

    /// One hidden part per rank beside `path`, named after a token rank 0 draws for this job.
    static func partPaths(_ path: String, communicator: Communicator) -> [String] {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let token = communicator.broadcast(string: communicator.isRoot ? String(UInt64.random(in: 0...UInt64.max), radix: 36) : "")
        return (0..<communicator.size).map { "\(folder)/.\(url.lastPathComponent).part-\(token)-\($0)-of-\(communicator.size)" }
    }
}
