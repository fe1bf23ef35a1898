import CHDF5
import Foundation
import GCMLShim
import Support

/// An open HDF5 file. The only door to the HDF5 C API for the rest of gcml.
public final class HDF5File {
    public let path: String
    let id: hid_t
    public let writable: Bool
    /// False after `close()`; closing (strong degree) also closed every object id in the file.
    private(set) var isOpen = true

    public enum Mode { case readOnly, readWrite }

    private init(path: String, id: hid_t, writable: Bool) {
        self.path = path
        self.id = id
        self.writable = writable
    }

    /// Opens an existing file. Errors name the path and say what is wrong (missing, not HDF5).
    public static func open(_ path: String, mode: Mode = .readOnly) throws -> HDF5File {
        try HDF5Library.ensureReady()
        guard FileManager.default.fileExists(atPath: path) else {
            throw GCMLError("\(path): no such file")
        }
        if H5Fis_hdf5(path) <= 0 {
            _ = HDF5Library.takeErrorStack()
            throw GCMLError(file: path, expected: "an HDF5 file", found: "a file that is not HDF5")
        }
        let access = H5Pcreate(gcml_h5p_file_access())
        defer { H5Pclose(access) }
        H5Pset_fclose_degree(access, H5F_CLOSE_STRONG)
        let flags = mode == .readOnly ? gcml_h5f_acc_rdonly() : gcml_h5f_acc_rdwr()
        // libhdf5 1.10 follows some structures without checking them (crashes, gigabytes for a
        // small file): those are checked from the raw bytes first (GCMLShim/structure_check.c).
        try HDF5Library.checkStructure(file: path, object: nil, expected: "an intact superblock", doing: "check the superblock") {
            gcml_h5_check_superblock(path, $0, $1)
        }
        let id = try HDF5Library.check(H5Fopen(path, flags, access), file: path, object: "/", doing: "open")
        // Skipped when this process has the file open already: checked then, or being written
        // (its groups may not be on disk yet).
        if H5Fget_obj_count(id, UInt32(H5F_OBJ_FILE)) <= 1 {
            do {
                try HDF5Library.checkStructure(file: path, object: nil, expected: "intact group symbol tables", doing: "check the groups") {
                    gcml_h5_check_groups(id, $0, $1)
                }
            } catch {
                H5Fclose(id)
                throw error
            }
        }
        return HDF5File(path: path, id: id, writable: mode == .readWrite)
    }

    /// Whether `path` is an HDF5 file (false when missing or of another format).
    public static func isHDF5(_ path: String) -> Bool {
        guard (try? HDF5Library.ensureReady()) != nil else { return false }
        let answer = H5Fis_hdf5(path)
        if answer <= 0 { _ = HDF5Library.takeErrorStack() }
        return answer > 0
    }

    /// Creates (truncates) a file. Stages use `Artifact.write`, which does this on a temporary name.
    public static func create(_ path: String) throws -> HDF5File {
        try HDF5Library.ensureReady()
        let access = H5Pcreate(gcml_h5p_file_access())
        defer { H5Pclose(access) }
        H5Pset_fclose_degree(access, H5F_CLOSE_STRONG)
        let id = try HDF5Library.check(H5Fcreate(path, gcml_h5f_acc_trunc(), gcml_h5p_default(), access),
                                       file: path, object: "/", doing: "create")
        return HDF5File(path: path, id: id, writable: true)
    }

    /// The root group.
    public var root: Group { Group(file: self, path: "/") }

    /// Flushes and closes the file and every object still open in it.
    public func close() throws {
        guard isOpen else { return }
        isOpen = false
        try HDF5Library.check(H5Fclose(id), file: path, object: "/", doing: "close")
    }

    deinit { if isOpen { H5Fclose(id) } }
}

/// Attribute values of contract v1: scalars, arrays and strings (JSON is a string).
public enum AttributeValue: Equatable, Sendable {
    case string(String)
    case int(Int64)
    case double(Double)
    case ints([Int64])
    case doubles([Double])
    case strings([String])

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var doubleValue: Double? {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        case .doubles(let a) where a.count == 1: return a[0]
        case .ints(let a) where a.count == 1: return Double(a[0])
        default: return nil
        }
    }
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d == d.rounded(): return Int64(d)
        case .ints(let a) where a.count == 1: return a[0]
        default: return nil
        }
    }
    public var description: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .ints(let a): return "[" + a.map(String.init).joined(separator: ", ") + "]"
        case .doubles(let a): return "[" + a.map { String($0) }.joined(separator: ", ") + "]"
        case .strings(let a): return "[" + a.joined(separator: ", ") + "]"
        }
    }
}

/// Something in a file that carries attributes (a group or a dataset).
public protocol HDF5Object: AnyObject {
    var file: HDF5File { get }
    var path: String { get }
    func withObjectID<R>(_ body: (hid_t) throws -> R) throws -> R
}

extension HDF5Object {
    public func setAttribute(_ name: String, _ value: AttributeValue) throws {
        try withObjectID { object in
            if H5Aexists(object, name) > 0 { H5Adelete(object, name) }
            let what = "attribute '\(name)'"
            switch value {
            case .string(let s):
                let type = ElementType.makeStringType()
                defer { H5Tclose(type) }
                let space = H5Screate(H5S_SCALAR)
                defer { H5Sclose(space) }
                let attr = try HDF5Library.check(H5Acreate2(object, name, type, space, gcml_h5p_default(), gcml_h5p_default()),
                                                 file: file.path, object: path, doing: "create \(what)")
                defer { H5Aclose(attr) }
                try s.withCString { cstr in
                    var pointer: UnsafePointer<CChar>? = cstr
                    try HDF5Library.check(H5Awrite(attr, type, &pointer), file: file.path, object: path, doing: "write \(what)")
                }
            case .strings(let strings):
                let type = ElementType.makeStringType()
                defer { H5Tclose(type) }
                var dims = [hsize_t(strings.count)]
                let space = H5Screate_simple(1, &dims, nil)
                defer { H5Sclose(space) }
                let attr = try HDF5Library.check(H5Acreate2(object, name, type, space, gcml_h5p_default(), gcml_h5p_default()),
                                                 file: file.path, object: path, doing: "create \(what)")
                defer { H5Aclose(attr) }
                let cstrings = strings.map { strdup($0) }
                defer { cstrings.forEach { free($0) } }
                var pointers = cstrings.map { UnsafePointer<CChar>($0) }
                try HDF5Library.check(H5Awrite(attr, type, &pointers), file: file.path, object: path, doing: "write \(what)")
            case .int(let v): try writeNumeric(object, name, [v], scalar: true, type: .int64)
            case .double(let v): try writeNumeric(object, name, [v], scalar: true, type: .float64)
            case .ints(let v): try writeNumeric(object, name, v, scalar: false, type: .int64)
            case .doubles(let v): try writeNumeric(object, name, v, scalar: false, type: .float64)
            }
        }
    }

    private func writeNumeric<T>(_ object: hid_t, _ name: String, _ values: [T], scalar: Bool, type: ElementType) throws {
        var dims = [hsize_t(values.count)]
        let space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil)
        defer { H5Sclose(space) }
        let attr = try HDF5Library.check(H5Acreate2(object, name, type.fileType, space, gcml_h5p_default(), gcml_h5p_default()),
                                         file: file.path, object: path, doing: "create attribute '\(name)'")
        defer { H5Aclose(attr) }
        try values.withUnsafeBufferPointer { buffer in
            try HDF5Library.check(H5Awrite(attr, type.memoryType, buffer.baseAddress), file: file.path, object: path,
                                  doing: "write attribute '\(name)'")
        }
    }

    public func setAttribute(_ name: String, json value: Any) throws {
        try setAttribute(name, .string(JSON.string(value)))
    }

    public func hasAttribute(_ name: String) -> Bool {
        (try? withObjectID { H5Aexists($0, name) > 0 }) ?? false
    }

    public func attributeNames() throws -> [String] {
        try withObjectID { object in
            var info = H5O_info_t()
            try HDF5Library.check(H5Oget_info2(object, &info, UInt32(H5O_INFO_NUM_ATTRS)), file: file.path, object: path, doing: "inspect")
            return HDF5Library.names(count: info.num_attrs) { index, buffer, size in
                H5Aget_name_by_idx(object, ".", H5_INDEX_NAME, H5_ITER_INC, index, buffer, size, gcml_h5p_default())
            }
        }
    }

    /// Reads an attribute; nil when absent. Numbers come back as int/double, string arrays as strings.
    public func attribute(_ name: String) throws -> AttributeValue? {
        try withObjectID { object -> AttributeValue? in
            guard H5Aexists(object, name) > 0 else { return nil }
            let attr = try HDF5Library.check(H5Aopen(object, name, gcml_h5p_default()), file: file.path, object: path,
                                             doing: "open attribute '\(name)'")
            defer { H5Aclose(attr) }
            let type = H5Aget_type(attr)
            defer { H5Tclose(type) }
            let space = H5Aget_space(attr)
            defer { H5Sclose(space) }
            let count = Int(H5Sget_simple_extent_npoints(space))
            let isScalar = H5Sget_simple_extent_type(space) == H5S_SCALAR
            let what = "read attribute '\(name)'"
            switch H5Tget_class(type) {
            case H5T_STRING:
                let strings = try readStrings(attr: attr, name: name, fileType: type, space: space, count: count, what: what)
                return isScalar || strings.count == 1 && isScalar ? .string(strings.first ?? "") :
                    (count == 1 ? .string(strings[0]) : .strings(strings))
            case H5T_INTEGER:
                var values = [Int64](repeating: 0, count: count)
                try HDF5Library.check(H5Aread(attr, gcml_h5t_native_int64(), &values), file: file.path, object: path, doing: what)
                return isScalar ? .int(values[0]) : .ints(values)
            case H5T_FLOAT:
                var values = [Double](repeating: 0, count: count)
                try HDF5Library.check(H5Aread(attr, gcml_h5t_native_double(), &values), file: file.path, object: path, doing: what)
                return isScalar ? .double(values[0]) : .doubles(values)
            default:
                throw GCMLError(file: file.path, object: "\(path) attribute '\(name)'", expected: "a string or number",
                                found: "an unsupported HDF5 type class")
            }
        }
    }

    private func readStrings(attr: hid_t, name: String, fileType: hid_t, space: hid_t, count: Int, what: String) throws -> [String] {
        if H5Tis_variable_str(fileType) > 0 {
            try HDF5Library.checkStringReferences(in: file, object: "\(path) attribute '\(name)'") {
                gcml_h5_check_vlen_string_attribute(attr, $0, $1)
            }
            let memType = ElementType.makeStringType()
            defer { H5Tclose(memType) }
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            try HDF5Library.check(H5Aread(attr, memType, &pointers), file: file.path, object: path, doing: what)
            defer { pointers.forEach { free($0) } }
            return pointers.map { $0.map { String(cString: $0) } ?? "" }
        }
        let size = H5Tget_size(fileType)
        var bytes = [UInt8](repeating: 0, count: size * count)
        let memType = H5Tcopy(fileType)
        defer { H5Tclose(memType) }
        try HDF5Library.check(H5Aread(attr, memType, &bytes), file: file.path, object: path, doing: what)
        return (0..<count).map { decodeFixedString(bytes[$0 * size..<($0 + 1) * size]) }
    }

    public func stringAttribute(_ name: String) throws -> String? { try attribute(name)?.stringValue }
    public func doubleAttribute(_ name: String) throws -> Double? { try attribute(name)?.doubleValue }
    public func intAttribute(_ name: String) throws -> Int64? { try attribute(name)?.intValue }
    public func jsonAttribute(_ name: String) throws -> [String: Any]? {
        guard let text = try stringAttribute(name) else { return nil }
        return JSON.object(text)
    }
}

func decodeFixedString(_ bytes: ArraySlice<UInt8>) -> String {
    let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
    return String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
}
