import Foundation
import Support

/// Writing and opening gcml artifacts: the atomic write, the provenance stamp
/// and the schema check happen here, once, for every stage.
public enum Artifact {
    /// The gcml version stamped into `created_by`.
    public static let version = "0.1.0"

    /// Writes one artifact atomically (a publication of one output): `body` fills a
    /// temporary file in the same folder; only when it, the provenance stamp and the
    /// checks succeed is it renamed onto `path`. On any error the temporary is removed
    /// and the old `path` is untouched. Stages with several outputs use `Publication`.
    /// - Parameters:
    ///   - createdBy: the writing program (a stage passes its command name).
    ///   - parameters: the options used (a JSON object), or a command whose options are read by reflection.
    ///   - inputs: input paths; each is fingerprinted.
    ///   - ranks: how many ranks computed the content (root attribute `ranks`; 1 for a plain run).
    public static func write(_ path: String, schema: SchemaKind, createdBy: String, parameters: Any = [String: Any](),
                             inputs: [String] = [], ranks: Int = 1, body: (HDF5File) throws -> Void) throws {
        let publication = try Publication(stage: createdBy, outputs: [("output", path)], ranks: ranks)
        defer { publication.close() }
        try publication.write(path, schema: schema, parameters: parameters, inputs: inputs, body: body)
        try publication.commit()
    }

    /// Opens an artifact and validates it against `schema` (datasets, types, ranks, shape
    /// relations). With `siblings: .check`, a file whose run also wrote other outputs is
    /// refused when one of them now holds another run's data (see `RunRecord`).
    public static func open(_ path: String, as schema: SchemaKind, siblings: SiblingCheck = .check) throws -> HDF5File {
        let file = try HDF5File.open(path)
        try SchemaValidator.validate(file, as: schema)
        if siblings == .check { try RunRecord.checkSiblings(of: file, path: path) }
        return file
    }

    public enum SiblingCheck { case check, ignore }
}

/// Provenance stamps: time, options, and cheap fingerprints of inputs.
public enum Provenance {
    public static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let fixed = ProcessInfo.processInfo.environment["GCML_CREATED_AT"] { return fixed }
        return formatter.string(from: Date())
    }

    /// Size, modification time and a hash of the first and last 64 KiB: cheap enough
    /// for multi-GB inputs, and changes whenever a stage rewrites a file.
    public static func fingerprint(_ path: String) -> [String: Any] {
        var result: [String: Any] = ["path": path]
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = attributes[.size] as? NSNumber else {
            result["missing"] = true
            return result
        }
        result["size"] = size.int64Value
        if let modified = attributes[.modificationDate] as? Date {
            result["modified"] = ISO8601DateFormatter().string(from: modified)
        }
        if let handle = FileHandle(forReadingAtPath: path) {
            defer { try? handle.close() }
            var bytes = (try? handle.read(upToCount: 65536)) ?? Data()
            if size.int64Value > 65536 {
                try? handle.seek(toOffset: UInt64(max(65536, size.int64Value - 65536)))
                bytes += (try? handle.readToEnd()) ?? Data()
            }
            result["hash"] = String(StableHash.hash(bytes), radix: 16)
        }
        return result
    }

    /// One id per stage run, stamped into all its outputs. Fixed by GCML_RUN_ID, or derived
    /// from GCML_CREATED_AT when that is fixed (so byte-identical reruns stay possible).
    public static func runID(stage: String) -> String {
        let environment = ProcessInfo.processInfo.environment
        if let fixed = environment["GCML_RUN_ID"], !fixed.isEmpty { return fixed }
        if let fixed = environment["GCML_CREATED_AT"] {
            return String(StableHash.hash(fixed + "\u{0}" + stage), radix: 16)
        }
        return UUID().uuidString.lowercased()
    }

    /// The inputs among `paths` whose file differs (size or content hash) from the one
    /// recorded in `file`'s provenance (`inputs`), with what differs; unrecorded paths are skipped.
    public static func changedInputs(in file: HDF5File, paths: [String]) throws -> [(path: String, change: String)] {
        let recorded = (try file.root.stringAttribute("inputs")).flatMap { text in
            (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [[String: Any]]
        } ?? []
        var changes: [(path: String, change: String)] = []
        for path in paths {
            guard let entry = recorded.first(where: { ($0["path"] as? String) == path }) else { continue }
            let fresh = fingerprint(path)
            for field in ["size", "hash"] where JSON.string(entry[field] ?? NSNull()) != JSON.string(fresh[field] ?? NSNull()) {
                changes.append((path, "\(field) was \(JSON.string(entry[field] ?? NSNull())), now \(JSON.string(fresh[field] ?? NSNull()))"))
                break
            }
        }
        return changes
    }

    public static func fingerprints(_ paths: [String]) -> [[String: Any]] { paths.map(fingerprint) }

    /// Options as JSON: a dictionary as is, or the stored properties of a command
    /// (swift-argument-parser property wrappers are unwrapped by reflection).
    public static func parameters(of value: Any) -> [String: Any] {
        if let dictionary = value as? [String: Any] { return dictionary }
        var result: [String: Any] = [:]
        for child in Mirror(reflecting: value).children {
            guard var label = child.label else { continue }
            if label.hasPrefix("_") { label.removeFirst() }
            if let plain = jsonValue(unwrapWrapper(child.value)) { result[label] = plain }
        }
        result["argv"] = CommandLine.arguments
        return result
    }

    /// Option<T>/Flag<T> store `_parsedValue` as an enum whose `value` case holds T.
    private static func unwrapWrapper(_ value: Any) -> Any {
        let mirror = Mirror(reflecting: value)
        if let parsed = mirror.children.first(where: { $0.label == "_parsedValue" })?.value {
            let inner = Mirror(reflecting: parsed)
            if let held = inner.children.first(where: { $0.label == "value" })?.value { return held }
            return NSNull()
        }
        return value
    }

    private static func jsonValue(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return NSNull() }
            return jsonValue(wrapped)
        }
        switch value {
        case is NSNull: return value
        case let v as Bool: return v
        case let v as Int: return v
        case let v as Int32: return Int(v)
        case let v as Int64: return v
        case let v as UInt64: return v
        case let v as Double: return v.isFinite ? v : String(v)
        case let v as Float: return v.isFinite ? Double(v) : String(v)
        case let v as String: return v
        case let v as [Any]: return v.compactMap(jsonValue)
        default:
            if mirror.displayStyle == .struct || mirror.displayStyle == .class { return nil }
            return String(describing: value)
        }
    }
}
