import Foundation
import GCMLShim
import Support

/// The outputs of one stage run, published together.
///
/// Opened before any work: it refuses an output that is also an input and two
/// outputs on one path, creates the output folders, takes an advisory lock per
/// output (a second run writing the same output fails at once, naming the holder),
/// removes temporaries that dead runs left in those folders, and arms the
/// SIGINT/SIGTERM/SIGHUP cleanup. `write` and `writeData` fill temporaries and
/// check them; `commit()` renames every prepared temporary with those signals held,
/// so an interrupt never splits the set. Every HDF5 output carries the run's
/// `run_id` and `run_outputs` (its siblings), which `Artifact.open` checks.
///
/// A distributed caller drives the same steps: prepare (write) on the writing
/// rank, agree across ranks, then `commit()` or `abandon()`.
public final class Publication {
    public let stage: String
    /// The options stamped into every output (`parameters`), unless `write` is given others.
    public let parameters: [String: Any]
    public let runID: String
    /// How many ranks computed the outputs (root attribute `ranks` on every HDF5 output; 1 for a plain run).
    public let ranks: Int
    /// Output paths as given, in declaration order (absent optional outputs dropped).
    public let outputs: [String]
    private let canonicalOutputs: [String]
    private var prepared: [(temporary: TemporaryFile, path: String)] = []
    private var locks: [OutputLock] = []

    /// - Parameters:
    ///   - outputs: (name for messages, e.g. the option "--out"; path or nil when not asked for).
    ///   - inputs: the same for inputs; an output may not be any of them.
    ///   - ranks: how many ranks computed the outputs, stamped as `ranks`.
    public init(stage: String, parameters: [String: Any] = [:], outputs: [(String, String?)], inputs: [(String, String?)] = [],
                ranks: Int = 1) throws {
        self.stage = stage
        self.ranks = ranks
        self.parameters = parameters
        let named = outputs.compactMap { entry in entry.1.map { (name: entry.0, path: $0) } }
        self.outputs = named.map(\.path)
        canonicalOutputs = named.map { FileIdentity.canonical($0.path) }
        runID = Provenance.runID(stage: stage)

        try Self.refuseOverlaps(outputs: outputs, inputs: inputs)
        TemporaryFile.armSignalCleanup()
        for (output, canonical) in zip(named, canonicalOutputs) {
            let folder = (canonical as NSString).deletingLastPathComponent
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw GCMLError("\(output.name) \(output.path): could not create the folder \(folder): \(FileIdentity.reason(error))")
            }
            locks.append(try OutputLock(output: canonical, shownAs: output.path, option: output.name))
            TemporaryFile.removeStale(of: canonical)
        }
    }

    /// Refuses, before any work, an output that is also an input, two outputs on one
    /// path, and an output path that is a folder. Names come from the caller (option names).
    public static func refuseOverlaps(outputs: [(String, String?)], inputs: [(String, String?)]) throws {
        let named = outputs.compactMap { entry in entry.1.map { (name: entry.0, path: $0) } }
        for (i, output) in named.enumerated() {
            guard !output.path.isEmpty else { throw GCMLError("\(output.name): expected a file path, found an empty string") }
            for j in 0..<i where FileIdentity.same(named[j].path, output.path) {
                throw GCMLError("\(named[j].name) and \(output.name) name the same file \(output.path): one would overwrite the other")
            }
            for (inputName, inputPath) in inputs {
                guard let path = inputPath, FileIdentity.same(path, output.path) else { continue }
                throw GCMLError("\(output.name) \(output.path) is also the input \(inputName): writing it would replace what is being read")
            }
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: output.path, isDirectory: &isFolder), isFolder.boolValue {
                throw GCMLError("\(output.name) \(output.path): expected a file path, found a folder")
            }
        }
    }

    deinit {
        abandon()
        for lock in locks { lock.release() }
    }

    /// Writes an HDF5 artifact to a temporary beside `path`, stamps provenance and the
    /// run, and validates it (schema and finite values). Published by `commit()`.
    public func write(_ path: String, schema: SchemaKind, parameters: Any? = nil, inputs: [String] = [],
                      ranks: Int? = nil, body: (HDF5File) throws -> Void) throws {
        let parameters = parameters ?? self.parameters
        let temporary = try prepareTemporary(for: path)
        let file = try HDF5File.create(temporary.path)
        do {
            try body(file)
            let root = file.root
            try root.setAttribute("schema", .string(schema.identifier))
            try root.setAttribute("created_by", .string("\(stage) (gcml \(Artifact.version))"))
            try root.setAttribute("created_at", .string(Provenance.timestamp()))
            try root.setAttribute("parameters", json: Provenance.parameters(of: parameters))
            try root.setAttribute("inputs", json: Provenance.fingerprints(inputs))
            try root.setAttribute(RunRecord.idAttribute, .string(runID))
            if outputs.count > 1 { try root.setAttribute(RunRecord.outputsAttribute, json: RunRecord.siblings(of: path, in: outputs)) }
            try root.setAttribute("ranks", .int(Int64(ranks ?? self.ranks)))
            try file.close()
        } catch {
            try? file.close()
            temporary.remove()
            throw error
        }
        do {
            try SchemaValidator.validate(path: temporary.path, as: schema, displayName: path)
            try FiniteValues.check(path: temporary.path, displayName: path)
        } catch {
            temporary.remove()
            throw error
        }
        prepared.append((temporary, path))
    }

    /// A writer that prepares its files in this publication (for libraries handed an `ArtifactWriter`).
    public var writer: ArtifactWriter { ArtifactWriter(createdBy: stage, parameters: parameters, publication: self) }

    /// Writes bytes (a `--json` summary, a text table) to a temporary beside `path`; published by `commit()`.
    public func writeData(_ path: String, _ data: Data) throws {
        let temporary = try prepareTemporary(for: path)
        do {
            try data.write(to: URL(fileURLWithPath: temporary.path))
        } catch {
            temporary.remove()
            throw GCMLError("\(path): could not write: \(FileIdentity.reason(error))")
        }
        prepared.append((temporary, path))
    }

    /// Pretty JSON with the run id added (key `run_id`), as `writeData`.
    public func writeJSON(_ path: String, _ object: [String: Any]) throws {
        var object = object
        object[RunRecord.idAttribute] = runID
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        try writeData(path, data)
    }

    /// A registered temporary beside `path` for a caller that streams the output itself;
    /// hand it back with `adopt` when complete.
    public func temporary(for path: String) throws -> TemporaryFile { try prepareTemporary(for: path) }

    /// Marks a temporary from `temporary(for:)` as complete, to be published by `commit()`.
    public func adopt(_ temporary: TemporaryFile, as path: String) { prepared.append((temporary, path)) }

    /// Renames every prepared temporary onto its output, with SIGINT/SIGTERM/SIGHUP held
    /// until all are in place. Outputs not prepared keep their previous content.
    public func commit() throws {
        gcml_defer_signals(1)
        defer { gcml_defer_signals(0) }
        let batch = prepared
        prepared.removeAll()
        for (index, item) in batch.enumerated() {
            guard rename(item.temporary.path, item.path) == 0 else {
                let reason = String(cString: strerror(errno))
                for rest in batch[index...] { rest.temporary.remove() }
                throw GCMLError("\(item.path): could not move the finished file into place: \(reason)")
            }
            item.temporary.published()
        }
    }

    /// Removes every prepared temporary; outputs keep their previous content.
    public func abandon() {
        for item in prepared { item.temporary.remove() }
        prepared.removeAll()
    }

    /// Ends the run: removes unpublished temporaries and releases the output locks.
    public func close() {
        abandon()
        for lock in locks { lock.release() }
        locks.removeAll()
    }

    private func prepareTemporary(for path: String) throws -> TemporaryFile {
        let canonical = FileIdentity.canonical(path)
        guard canonicalOutputs.contains(canonical) else {
            throw GCMLError("\(path): not an output declared by \(stage) (declared: \(outputs.joined(separator: ", ")))")
        }
        prepared.removeAll { item in
            guard FileIdentity.canonical(item.path) == canonical else { return false }
            item.temporary.remove()
            return true
        }
        return try TemporaryFile(beside: canonical, shownAs: path)
    }
}

/// A file this run must not leave behind: removed on `remove()`, on deinit unless
/// published, and by the signal handler. Named `.<name>.tmp-<pid>-<random>` beside its
/// output (same file system, so the rename is atomic), or `gcml-scratch-<pid>-...` in TMPDIR.
public final class TemporaryFile {
    public let path: String
    private var slot: Int32 = -1
    private var done = false

    init(path: String) throws {
        self.path = path
        slot = gcml_cleanup_register(path)
        guard slot >= 0 else { throw GCMLError("\(path): too many temporary files open at once in this process") }
    }

    convenience init(beside output: String, shownAs: String) throws {
        let url = URL(fileURLWithPath: output)
        try self.init(path: url.deletingLastPathComponent().path + "/." + url.lastPathComponent
                      + ".tmp-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 36))")
    }

    /// A scratch file in TMPDIR (removed like a temporary; never published).
    public static func scratch(suffix: String) throws -> TemporaryFile {
        armSignalCleanup()
        let folder = scratchFolder
        removeStaleScratch(in: folder)
        return try TemporaryFile(path: folder + "/" + scratchPrefix + "\(getpid())-\(UUID().uuidString)" + suffix)
    }

    deinit { if !done { remove() } }

    public func remove() {
        guard !done else { return }
        done = true
        unlink(path)
        gcml_cleanup_unregister(slot)
    }

    func published() {
        done = true
        gcml_cleanup_unregister(slot)
    }

    static func armSignalCleanup() { gcml_install_cleanup_handlers() }

    static let scratchPrefix = "gcml-scratch-"
    static var scratchFolder: String {
        var folder = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        if folder.isEmpty { folder = "/tmp" }
        while folder.count > 1 && folder.hasSuffix("/") { folder.removeLast() }
        return folder
    }

    /// Removes what runs that no longer exist left beside `output`: its own temporaries
    /// whatever their pid (the caller holds the output's lock, so no live run writes them),
    /// and any other `.name.tmp-<pid>-...` in the folder whose pid runs no more.
    static func removeStale(of output: String) {
        let url = URL(fileURLWithPath: output)
        let folder = url.deletingLastPathComponent().path
        let own = "." + url.lastPathComponent + ".tmp-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix(".") {
            if name.hasPrefix(own) {
                unlink(folder + "/" + name)
            } else if let range = name.range(of: ".tmp-"), let pid = leadingPID(name[range.upperBound...]),
                      gcml_process_is_running(pid) == 0 {
                unlink(folder + "/" + name)
            }
        }
    }

    static func removeStaleScratch(in folder: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix(scratchPrefix) {
            if let pid = leadingPID(name.dropFirst(scratchPrefix.count)), gcml_process_is_running(pid) == 0 {
                unlink(folder + "/" + name)
            }
        }
    }

    private static func leadingPID(_ text: Substring) -> Int? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, text.dropFirst(digits.count).first == "-" else { return nil }
        return Int(digits)
    }
}

/// An advisory lock (flock) on `.<name>.lock` beside an output, held for the whole run.
/// The lock file is removed on release; a run that finds the lock file replaced after
/// taking the lock (its holder released and removed it meanwhile) takes it again.
final class OutputLock {
    private var descriptor: Int32 = -1
    private let path: String
    private var slot: Int32 = -1

    init(output: String, shownAs: String, option: String) throws {
        let url = URL(fileURLWithPath: output)
        path = url.deletingLastPathComponent().path + "/." + url.lastPathComponent + ".lock"
        for _ in 0..<100 {
            var error: Int32 = 0
            let fd = gcml_lock_exclusive(path, &error)
            if fd == -2 {
                let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                throw GCMLError("\(option) \(shownAs): another run\(holder.isEmpty ? "" : " (pid \(holder))") is writing this output "
                                + "(lock \(path)); wait for it to finish or stop it")
            }
            guard fd >= 0 else {
                throw GCMLError("\(option) \(shownAs): could not create the lock file \(path): \(String(cString: strerror(error)))")
            }
            var held = stat(), current = stat()
            if fstat(fd, &held) == 0, stat(path, &current) == 0, held.st_ino == current.st_ino, held.st_dev == current.st_dev {
                descriptor = fd
                let pid = Array("\(getpid())\n".utf8)
                _ = ftruncate(fd, 0)
                _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
                slot = gcml_cleanup_register(path)
                return
            }
            close(fd)
        }
        throw GCMLError("\(option) \(shownAs): could not take the lock \(path) (it keeps being replaced)")
    }

    func release() {
        guard descriptor >= 0 else { return }
        unlink(path)
        close(descriptor)
        descriptor = -1
        gcml_cleanup_unregister(slot)
    }

    deinit { release() }
}

/// Paths compared as the same file: the same canonical path, or the same inode.
enum FileIdentity {
    /// Absolute, standardized, with the folder's symlinks resolved (the file may not exist yet).
    static func canonical(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let folder = url.deletingLastPathComponent().resolvingSymlinksInPath()
        return folder.appendingPathComponent(url.lastPathComponent).path
    }

    static func same(_ a: String, _ b: String) -> Bool {
        if canonical(a) == canonical(b) { return true }
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    static func reason(_ error: Error) -> String {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        if let code = underlying?.code, underlying?.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(code))) }
        return error.localizedDescription
    }
}

/// The run stamp of an artifact: `run_id` (one per stage run) and `run_outputs` (the
/// paths of every output of that run, relative to this file's folder when beside it).
public enum RunRecord {
    public static let idAttribute = "run_id"
    public static let outputsAttribute = "run_outputs"

    static func siblings(of path: String, in outputs: [String]) -> [String] {
        let folder = URL(fileURLWithPath: FileIdentity.canonical(path)).deletingLastPathComponent().path
        return outputs.map { output in
            let canonical = FileIdentity.canonical(output)
            let url = URL(fileURLWithPath: canonical)
            return url.deletingLastPathComponent().path == folder ? url.lastPathComponent : canonical
        }
    }

    /// Refuses a file whose sibling outputs (written by the same run) now hold another
    /// run's data: e.g. a new features.h5 beside an old pca.h5. Siblings that are absent,
    /// not HDF5 or carry no run id are not judged.
    public static func checkSiblings(of file: HDF5File, path: String) throws {
        guard let id = try file.root.stringAttribute(idAttribute),
              let text = try file.root.stringAttribute(outputsAttribute),
              let data = text.data(using: .utf8),
              let siblings = (try? JSONSerialization.jsonObject(with: data)) as? [String] else { return }
        let folder = URL(fileURLWithPath: FileIdentity.canonical(path)).deletingLastPathComponent().path
        for sibling in siblings {
            let siblingPath = sibling.hasPrefix("/") ? sibling : folder + "/" + sibling
            guard !FileIdentity.same(siblingPath, path), FileManager.default.fileExists(atPath: siblingPath),
                  HDF5File.isHDF5(siblingPath), let other = try? HDF5File.open(siblingPath) else { continue }
            defer { try? other.close() }
            guard let otherID = try? other.root.stringAttribute(idAttribute) else { continue }
            if otherID != id {
                throw GCMLError(file: path, object: "root attribute '\(idAttribute)'",
                                expected: "the run that also wrote \(siblingPath) (run \(otherID))",
                                found: "run \(id): the two files come from different runs; rerun the stage that writes both")
            }
        }
    }
}
