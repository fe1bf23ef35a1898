import Foundation
import Support

/// A readable description of an artifact: schema, datasets (shape, type,
/// chunking, compression ratio) and provenance. `gcml-check` prints it.
public enum ArtifactSummary {
    public static func describe(_ file: HDF5File) throws -> String {
        let root = file.root
        var lines: [String] = []
        lines.append("\(file.path)")
        lines.append("  schema:     \(try root.stringAttribute("schema") ?? "(none declared)")")
        for attribute in ["created_by", "created_at"] {
            if let value = try root.stringAttribute(attribute) { lines.append("  \(attribute.padding(toLength: 11, withPad: " ", startingAt: 0)) \(value)") }
        }
        if let parameters = try root.stringAttribute("parameters") { lines.append("  parameters: \(parameters)") }
        if let inputs = try root.jsonArrayAttribute("inputs") {
            for input in inputs {
                let path = input["path"] as? String ?? "?"
                let size = (input["size"] as? NSNumber).map { " (\($0) bytes, hash \(input["hash"] as? String ?? "-"))" } ?? " (missing)"
                lines.append("  input:      \(path)\(size)")
            }
        }
        let skip = Set(["schema", "created_by", "created_at", "parameters", "inputs"])
        for name in try root.attributeNames() where !skip.contains(name) {
            if let value = try root.attribute(name) { lines.append("  @\(name) = \(value.description)") }
        }
        lines.append("  datasets:")
        for path in try root.datasetPaths() {
            let dataset = try root.dataset(path)
            let raw = dataset.count * dataset.elementType.byteSize
            var storage = dataset.chunkShape.map { "chunks \($0)" } ?? "contiguous"
            if dataset.filters.contains(32015) { storage += ", zstd" }
            if dataset.filters.contains(2) { storage += "+shuffle" }
            if dataset.filters.contains(1) { storage += ", gzip" }
            if dataset.isCompressed, dataset.storageBytes > 0, dataset.elementType != .string {
                storage += String(format: ", ratio %.2f", Double(raw) / Double(dataset.storageBytes))
            }
            lines.append("    \(path.padding(toLength: 28, withPad: " ", startingAt: 0)) \(dataset.elementType.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(dataset.shape)  \(storage)")
        }
        return lines.joined(separator: "\n")
    }
}

extension HDF5Object {
    func jsonArrayAttribute(_ name: String) throws -> [[String: Any]]? {
        guard let text = try stringAttribute(name), let data = text.data(using: .utf8) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]]
    }
}
