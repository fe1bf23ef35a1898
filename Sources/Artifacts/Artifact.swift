import Foundation
import Support

/// Writing and opening gcml artifacts: the atomic write, the provenance stamp
/// and the schema check happen here, once, for every stage.
public enum Artifact {
    /// The gcml version stamped into `created_by`.
    public static let version = "0.1.0"

    /// Writes an artifact atomically: `body` fills a temporary file in the same
    /// folder; only when it and the provenance stamp succeed is it renamed onto
    /// `path`. On any error the temporary is removed and the old `path` is untouched.
    /// - Parameters:
    ///   - createdBy: the writing program (a stage passes its command name).
    ///   - parameters: the options used (a JSON object), or a command whose options are read by reflection.
    ///   - inputs: input paths; each is fingerprinted.
    ///   - ranks: how many ranks computed the content (root attribute `ranks`; 1 for a plain run).
    public static func write(_ path: String, schema: SchemaKind, createdBy: String, parameters: Any = [String: Any](),
                             inputs: [String] = [], ranks: Int = 1, body: (HDF5File) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let temporary = folder + "/." + url.lastPathComponent + ".tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        var renamed = false
        defer { if !renamed { try? FileManager.default.removeItem(atPath: temporary) } }
        let file = try HDF5File.create(temporary)
        do {
            try body(file)
            let root = file.root
            try root.setAttribute("schema", .string(schema.identifier))
            try root.setAttribute("created_by", .string("\(createdBy) (gcml \(version))"))
            try root.setAttribute("created_at", .string(Provenance.timestamp()))
            try root.setAttribute("parameters", json: Provenance.parameters(of: parameters))
            try root.setAttribute("inputs", json: Provenance.fingerprints(inputs))
            try root.setAttribute("ranks", .int(Int64(ranks)))
            try file.close()
        } catch {
            try? file.close()
            throw error
        }
        try SchemaValidator.validate(path: temporary, as: schema, displayName: path)
        guard rename(temporary, path) == 0 else {
            throw GCMLError("\(path): could not move the finished file into place: \(String(cString: strerror(errno)))")
        }
        renamed = true
    }

    /// Opens an artifact and validates it against `schema` (datasets, types, ranks, shape relations).
    public static func open(_ path: String, as schema: SchemaKind) throws -> HDF5File {
        let file = try HDF5File.open(path)
        try SchemaValidator.validate(file, as: schema)
        return file
    }
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
