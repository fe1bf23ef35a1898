import Foundation
import Support

/// Checks a file against its contract v1 schema: the `schema` attribute,
/// provenance on our own files, required datasets, element types, ranks,
/// shape relations and CSR pointers. Errors name file, dataset, expected, found.
public enum SchemaValidator {
    /// Required on files our stages write. `ranks` is written on every new file but not required:
    /// files written before it existed stay readable (they were written by one process).
    public static let provenanceAttributes = ["created_by", "created_at", "parameters", "inputs"]

    public static func validate(path: String, as kind: SchemaKind, displayName: String? = nil) throws {
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        try validate(file, as: kind, displayName: displayName)
    }

    /// Reads the declared schema of a file (nil when the file declares none).
    public static func declaredKind(_ file: HDF5File) throws -> SchemaKind? {
        guard let identifier = try file.root.stringAttribute("schema") else { return nil }
        guard let kind = SchemaKind(identifier: identifier) else {
            throw GCMLError(file: file.path, object: "root attribute 'schema'", expected: "one of " +
                            SchemaKind.allCases.map(\.identifier).joined(separator: ", "), found: "'\(identifier)'")
        }
        return kind
    }

    public static func validate(_ file: HDF5File, as kind: SchemaKind, displayName: String? = nil) throws {
        let name = displayName ?? file.path
        let root = file.root
        let spec = kind.spec
        if let declared = try root.stringAttribute("schema") {
            guard declared == kind.identifier else {
                throw GCMLError(file: name, object: "root attribute 'schema'", expected: "'\(kind.identifier)'", found: "'\(declared)'")
            }
        } else if kind != .frames {
            throw GCMLError(file: name, object: "root attribute 'schema'", expected: "'\(kind.identifier)'", found: "no schema attribute")
        }
        if let createdBy = try root.stringAttribute("created_by"), createdBy.contains("(gcml ") {
            for attribute in provenanceAttributes where !root.hasAttribute(attribute) {
                throw GCMLError(file: name, object: "root attribute '\(attribute)'", expected: "provenance written by gcml stages", found: "nothing")
            }
        }
        for attribute in spec.rootAttributes where !root.hasAttribute(attribute) {
            throw GCMLError(file: name, object: "root attribute '\(attribute)'", expected: "present", found: "nothing")
        }

        var sizes: [String: (size: Int, path: String)] = [:]
        var specs: [(DatasetSpec, String, [String])] = []   // (spec, concrete path, concrete shape symbols)
        if spec.datasets.contains(where: { $0.path.contains("{l}") }) {
            let levels = try levelCount(root, name: name)
            for dataset in spec.datasets {
                for level in 1...levels {
                    var concrete = dataset
                    concrete.path = dataset.path.replacingOccurrences(of: "{l}", with: String(level))
                    if dataset.path.hasSuffix("/" + DatasetPath.Tree.parent) { concrete.required = level < levels }
                    specs.append((concrete, concrete.path, dataset.shape.map { $0.replacingOccurrences(of: "{l}", with: String(level)) }))
                }
            }
        } else {
            specs = spec.datasets.map { ($0, $0.path, $0.shape) }
        }

        // Optional sets are all-or-none.
        var presentByTag: [String: [String]] = [:], missingByTag: [String: [String]] = [:]
        for (dataset, path, _) in specs {
            guard let tag = dataset.together else { continue }
            if root.exists(path) { presentByTag[tag, default: []].append(path) } else { missingByTag[tag, default: []].append(path) }
        }
        for (tag, present) in presentByTag {
            let required = specs.contains { $0.0.together == tag && $0.0.required }
            if let missing = missingByTag[tag], !missing.isEmpty, !present.isEmpty || required {
                throw GCMLError(file: name, object: missing[0], expected: "present together with \(present.joined(separator: ", "))", found: "nothing")
            }
        }

        for (dataset, path, shape) in specs {
            guard root.exists(path) else {
                if dataset.required && (dataset.together == nil || presentByTag[dataset.together!] == nil) {
                    throw GCMLError(file: name, object: path, expected: "a dataset (\(dataset.about))", found: "nothing (missing)")
                }
                continue
            }
            let found = try root.dataset(path)
            guard dataset.types.contains(found.elementType) else {
                throw GCMLError(file: name, object: path, expected: dataset.types.map(\.rawValue).joined(separator: " or "),
                                found: found.elementType.rawValue)
            }
            guard found.rank == shape.count else {
                throw GCMLError(file: name, object: path, expected: "rank \(shape.count) [\(shape.joined(separator: ","))]",
                                found: "rank \(found.rank) \(found.shape)")
            }
            try checkDeclaredSize(found, file: name)
            for (symbol, size) in zip(shape, found.shape) {
                try bind(symbol, size: size, sizes: &sizes, file: name, path: path, shape: found.shape)
            }
            if path == DatasetPath.videoID { try checkUnique(found, file: name) }
            if let target = dataset.indexes, root.exists(target) {
                try checkPointers(found, into: try root.dataset(target), file: name)
            }
        }
        if kind == .frames { try checkQuantisation(root, name: name) }
        if kind == .frames || kind == .features { try checkLabels(root, name: name) }
        if spec.layerGroups { try checkLayers(root, name: name) }
    }

    private static func bind(_ symbol: String, size: Int, sizes: inout [String: (size: Int, path: String)], file: String, path: String, shape: [Int]) throws {
        if symbol == "*" { return }
        if let fixed = Int(symbol) {
            guard fixed == size else { throw GCMLError(file: file, object: path, expected: "size \(fixed)", found: "shape \(shape)") }
            return
        }
        var base = symbol, offset = 0
        if let plus = symbol.firstIndex(of: "+") {
            base = String(symbol[..<plus])
            offset = Int(symbol[symbol.index(after: plus)...]) ?? 0
        }
        let value = size - offset
        if let known = sizes[base] {
            guard known.size == value else {
                throw GCMLError(file: file, object: "\(path) (or \(known.path))",
                                expected: "\(symbol) = \(known.size + offset) (\(base) = \(known.size) as in \(known.path))",
                                found: "shape \(shape)")
            }
        } else {
            guard value >= 0 else { throw GCMLError(file: file, object: path, expected: "\(symbol) with \(base) >= 0", found: "shape \(shape)") }
            sizes[base] = (value, path)
        }
    }

    /// A declared shape must be backed by stored data, and one row must fit many times in
    /// memory (stages stream blocks of rows): checked before any reader allocates for it.
    private static func checkDeclaredSize(_ dataset: Dataset, file: String) throws {
        guard dataset.count > 0 else { return }
        if dataset.storageBytes == 0 {
            throw GCMLError(file: file, object: dataset.path, expected: "stored data for its shape \(dataset.shape)",
                            found: "no data in the file (declared but never written)")
        }
        let (rowBytes, overflow) = dataset.rowWidth.multipliedReportingOverflow(by: max(1, dataset.elementType.byteSize))
        if overflow || rowBytes > Dataset.allocationLimit / 64 {
            throw GCMLError(file: file, object: dataset.path, expected: "rows of at most \(Dataset.allocationLimit / 64) bytes (1/64 of the memory limit)",
                            found: "shape \(dataset.shape): \(overflow ? "more than 2^63" : String(rowBytes)) bytes per row")
        }
    }

    private static func checkPointers(_ pointers: Dataset, into target: Dataset, file: String) throws {
        guard pointers.rows > 0 else { return }
        let first: [Int64] = try pointers.readRows(0..<1)
        let last: [Int64] = try pointers.readRows((pointers.rows - 1)..<pointers.rows)
        guard first[0] == 0, last[0] == Int64(target.rows) else {
            throw GCMLError(file: file, object: pointers.path, expected: "pointers from 0 to \(target.rows) (rows of \(target.path))",
                            found: "from \(first[0]) to \(last[0])")
        }
    }

    private static func checkUnique(_ ids: Dataset, file: String) throws {
        var seen = Set<String>()
        for (row, id) in try ids.readStrings().enumerated() {
            if id.isEmpty { throw GCMLError(file: file, object: ids.path, expected: "non-empty video ids", found: "an empty id at row \(row)") }
            if !seen.insert(id).inserted {
                throw GCMLError(file: file, object: ids.path, expected: "unique video ids", found: "'\(id)' again at row \(row)")
            }
        }
    }

    private static func levelCount(_ root: Group, name: String) throws -> Int {
        let levels = try root.childNames().compactMap { $0.hasPrefix(DatasetPath.Tree.levelPrefix) ? Int($0.dropFirst(DatasetPath.Tree.levelPrefix.count)) : nil }.sorted()
        guard !levels.isEmpty, levels == Array(1...levels.count) else {
            throw GCMLError(file: name, object: "/level_*", expected: "groups level_1 … level_L", found: levels.isEmpty ? "none" : "levels \(levels)")
        }
        return levels.count
    }

    /// `num_classes` is a class count an int32 label can reach, and every label is below it.
    private static func checkLabels(_ root: Group, name: String) throws {
        guard root.exists("labels/indices") else { return }
        let group = try root.group("labels")
        guard let classes = try group.intAttribute("num_classes") else { return }
        guard classes >= 1 && classes <= Int64(Int32.max) else {
            throw GCMLError(file: name, object: "/labels attribute 'num_classes'", expected: "a class count in 1…\(Int32.max)", found: "\(classes)")
        }
        let indices: [Int32] = try root.read("labels/indices")
        if let bad = indices.firstIndex(where: { $0 < 0 || Int64($0) >= classes }) {
            throw GCMLError(file: name, object: "/labels/indices", expected: "classes in 0..<\(classes) (num_classes)",
                            found: "\(indices[bad]) at entry \(bad)")
        }
    }

    private static func checkQuantisation(_ root: Group, name: String) throws {
        for modality in DatasetPath.modalities where root.exists(modality) {
            let dataset = try root.dataset(modality)
            if dataset.elementType == .uint8 {
                for attribute in [DatasetPath.Frames.quantizeMinAttribute, DatasetPath.Frames.quantizeMaxAttribute] where try dataset.doubleAttribute(attribute) == nil {
                    throw GCMLError(file: name, object: "/\(modality) attribute '\(attribute)'",
                                    expected: "a number (uint8 features are dequantised with it)", found: "nothing")
                }
            }
        }
    }

    private static func checkLayers(_ root: Group, name: String) throws {
        let weights = try root.datasetPaths().filter { $0.hasSuffix("/weight") }
        guard !weights.isEmpty else {
            throw GCMLError(file: name, object: "layer groups", expected: "at least one <layer>/weight", found: "none")
        }
        for path in weights {
            let weight = try root.dataset(path)
            let biasPath = String(path.dropLast("weight".count)) + "bias"
            let bias = try root.dataset(biasPath)
            guard weight.elementType == .float32, weight.rank == 2 else {
                throw GCMLError(file: name, object: path, expected: "float32 [out,in]", found: "\(weight.elementType) \(weight.shape)")
            }
            guard bias.elementType == .float32, bias.shape == [weight.shape[0]] else {
                throw GCMLError(file: name, object: biasPath, expected: "float32 [\(weight.shape[0])]", found: "\(bias.elementType) \(bias.shape)")
            }
        }
    }
}
