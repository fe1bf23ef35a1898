import CHDF5
import GCMLShim
import Support

/// Process-wide HDF5 set-up: silence HDF5's own error printing (errors reach
/// users as `GCMLError`s naming file and object, built by `check`) and register
/// the zstd filter (id 32015).
enum HDF5Library {
    /// Names of `count` indexed links or attributes, in HDF5's two-call pattern: `name(index, nil, 0)`
    /// gives the length, then `name(index, buffer, size)` the characters. Unreadable entries are skipped.
    static func names(count: hsize_t, _ name: (hsize_t, UnsafeMutablePointer<CChar>?, Int) -> Int) -> [String] {
        var names: [String] = []
        for index in 0..<count {
            let length = name(index, nil, 0)
            guard length >= 0 else { continue }
            var buffer = [CChar](repeating: 0, count: length + 1)
            _ = name(index, &buffer, buffer.count)
            names.append(String(cString: buffer))
        }
        return names
    }

    static let ready: Bool = {
        H5open()
        gcml_h5_silence_errors()
        return gcml_register_zstd_filter() >= 0
    }()

    static func ensureReady() throws {
        if !ready { throw GCMLError("HDF5: could not register the zstd filter (id 32015): \(takeErrorStack())") }
    }

    /// HDF5's error stack as text, cleared afterwards.
    static func takeErrorStack() -> String {
        var buffer = [CChar](repeating: 0, count: 2048)
        buffer.withUnsafeMutableBufferPointer { gcml_h5_take_error_stack($0.baseAddress, $0.count) }
        return String(cString: buffer)
    }

    /// Throws an error naming file, object and what was being done when `status` is negative.
    @discardableResult
    static func check<T: BinaryInteger>(_ status: T, file: String, object: String, doing: String) throws -> T {
        if status < 0 {
            let stack = takeErrorStack()
            throw GCMLError("\(file): \(object): \(doing) failed" + (stack.isEmpty ? "" : " (HDF5: \(stack))"))
        }
        return status
    }

    /// Refuses variable-length strings whose global heap references are damaged, before a
    /// read follows them: libhdf5 1.10 would copy from wherever a damaged heap points and
    /// crash. `inspect` is one of the shim's checks (0 sound, 1 damaged, < 0 HDF5 error).
    /// Files this process opened for writing hold heap data not yet on disk and are not checked.
    static func checkStringReferences(in file: HDF5File, object: String,
                                      _ inspect: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws {
        guard !file.writable else { return }
        try checkStructure(file: file.path, object: object, expected: "variable-length strings whose global heap is intact",
                           doing: "check the variable-length strings", inspect)
    }

    /// Runs one of the shim's raw structure checks (0 sound, 1 damaged with the reason, -1 HDF5
    /// error) and turns a damaged structure into an error naming the file and the object.
    static func checkStructure(file: String, object: String?, expected: String, doing: String,
                               _ inspect: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws {
        var why = [CChar](repeating: 0, count: 512)
        let status = why.withUnsafeMutableBufferPointer { inspect($0.baseAddress!, $0.count) }
        if status == 1 {
            throw GCMLError(file: file, object: object, expected: expected, found: String(cString: why))
        }
        try check(status, file: file, object: object ?? "/", doing: doing)
    }
}

/// Element types of datasets and attributes in contract v1.
public enum ElementType: String, Sendable, CaseIterable, Codable {
    case float32, float64, int8, uint8, int32, int64, string

    var memoryType: hid_t {
        switch self {
        case .float32: return gcml_h5t_native_float()
        case .float64: return gcml_h5t_native_double()
        case .int8: return gcml_h5t_native_int8()
        case .uint8: return gcml_h5t_native_uint8()
        case .int32: return gcml_h5t_native_int32()
        case .int64: return gcml_h5t_native_int64()
        case .string: return gcml_h5t_c_s1()
        }
    }

    var fileType: hid_t {
        switch self {
        case .float32: return gcml_h5t_ieee_f32le()
        case .float64: return gcml_h5t_ieee_f64le()
        case .int8: return gcml_h5t_std_i8le()
        case .uint8: return gcml_h5t_std_u8le()
        case .int32: return gcml_h5t_std_i32le()
        case .int64: return gcml_h5t_std_i64le()
        case .string: return gcml_h5t_c_s1()
        }
    }

    public var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        case .int8, .uint8: return 1
        case .string: return MemoryLayout<UnsafePointer<CChar>>.size
        }
    }

    /// The element type of an HDF5 type id (nil for types outside contract v1).
    static func of(typeID: hid_t) -> ElementType? {
        switch H5Tget_class(typeID) {
        case H5T_FLOAT:
            return H5Tget_size(typeID) == 4 ? .float32 : (H5Tget_size(typeID) == 8 ? .float64 : nil)
        case H5T_INTEGER:
            let signed = H5Tget_sign(typeID) == H5T_SGN_2
            switch (H5Tget_size(typeID), signed) {
            case (1, true): return .int8
            case (1, false): return .uint8
            case (4, true): return .int32
            case (8, true): return .int64
            default: return nil
            }
        case H5T_STRING: return .string
        default: return nil
        }
    }

    /// A variable-length UTF-8 string type (what h5py reads as `str`). Caller closes it.
    static func makeStringType() -> hid_t {
        let type = H5Tcopy(gcml_h5t_c_s1())
        H5Tset_size(type, gcml_h5t_variable())
        H5Tset_cset(type, H5T_CSET_UTF8)
        return type
    }
}

/// Swift scalar types that map onto an HDF5 element type.
public protocol HDF5Scalar: Sendable { static var elementType: ElementType { get } }
extension Float: HDF5Scalar { public static var elementType: ElementType { .float32 } }
extension Double: HDF5Scalar { public static var elementType: ElementType { .float64 } }
extension Int8: HDF5Scalar { public static var elementType: ElementType { .int8 } }
extension UInt8: HDF5Scalar { public static var elementType: ElementType { .uint8 } }
extension Int32: HDF5Scalar { public static var elementType: ElementType { .int32 } }
extension Int64: HDF5Scalar { public static var elementType: ElementType { .int64 } }

/// How a dataset is stored on disk.
public enum Compression: Sendable, Equatable {
    /// Contiguous when small, zstd level 3 in ~1 MiB chunks when over `Compression.threshold` bytes
    /// (and always chunked + zstd when extendable).
    case automatic
    case none
    case zstd(level: Int, shuffle: Bool)

    public static let threshold = 4 << 20
    public static let defaultZstd = Compression.zstd(level: 3, shuffle: false)
}
