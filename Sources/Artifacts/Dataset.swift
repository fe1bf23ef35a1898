import CHDF5
import Foundation
import GCMLShim
import Support

/// A dataset: its shape, element type and storage, and row-wise reads and writes.
/// "Rows" are slices along the first dimension; values are row-major.
public final class Dataset: HDF5Object {
    public let file: HDF5File
    public let path: String
    public let elementType: ElementType
    public private(set) var shape: [Int]
    /// True when the first dimension can grow (`append`).
    public let extendable: Bool
    public let chunkShape: [Int]?
    private let layout: H5D_layout_t
    /// Bytes of one element as stored in the file.
    private let storedElementBytes: Int
    /// Whether the declared size was found backed by stored data (`requireStoredData`).
    private var storedDataVerified = false
    /// HDF5 filter ids in pipeline order (32015 = zstd, 2 = shuffle, 1 = gzip).
    public let filters: [Int]
    /// Bytes stored on disk (after compression), as of now (0 once the file is closed).
    public var storageBytes: Int { file.isOpen ? Int(clamping: H5Dget_storage_size(id)) : 0 }  // a damaged layout may declare more than Int.max
    /// Held open for the object's life, so the chunk cache survives between calls: row-block
    /// reads and appends smaller than a chunk then decompress / compress each chunk once.
    /// (Closing after every call flushed the cache and recompressed a chunk per append.)
    private let id: hid_t

    init(file: HDF5File, path: String) throws {
        self.file = file
        self.path = path
        let access = H5Pcreate(gcml_h5p_dataset_access())
        defer { H5Pclose(access) }
        // Room for a few ~1 MiB chunks; fully read or written chunks are evicted first (streaming).
        H5Pset_chunk_cache(access, 521, 8 << 20, 1.0)
        let id = try HDF5Library.check(H5Dopen2(file.id, path, access), file: file.path, object: path, doing: "open dataset")
        self.id = id
        let type = H5Dget_type(id)
        defer { H5Tclose(type) }
        guard let element = ElementType.of(typeID: type) else {
            H5Dclose(id)
            throw GCMLError(file: file.path, object: path, expected: "float32, float64, int8, uint8, int32, int64 or string elements",
                            found: "another HDF5 type (class \(H5Tget_class(type).rawValue), \(H5Tget_size(type)) bytes)")
        }
        elementType = element
        let space = H5Dget_space(id)
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        var dims = [hsize_t](repeating: 0, count: max(rank, 1))
        var maxDims = dims
        H5Sget_simple_extent_dims(space, &dims, &maxDims)
        shape = rank == 0 ? [] : dims.prefix(rank).map { Int(clamping: $0) }  // a damaged file may declare 2^64 - 1
        extendable = rank > 0 && maxDims[0] == gcml_h5s_unlimited()
        let create = H5Dget_create_plist(id)
        defer { H5Pclose(create) }
        layout = H5Pget_layout(create)
        storedElementBytes = H5Tget_size(type)
        if layout == H5D_CHUNKED {
            var chunk = [hsize_t](repeating: 0, count: 32)   // H5S_MAX_RANK
            let chunkRank = Int(H5Pget_chunk(create, 32, &chunk))
            let dimensions = chunk.prefix(max(0, chunkRank)).map { Int(clamping: $0) }
            // A chunk is allocated (and decompressed) whole by any read touching it; a damaged layout
            // may declare a rank the dataspace lacks or chunks of gigabytes.
            let chunkBytes = Self.saturatingProduct(dimensions + [storedElementBytes])
            guard rank >= 1, chunkRank == rank, chunkBytes <= Int(GCML_MAX_CHUNK_BYTES) else {
                H5Dclose(id)
                throw GCMLError(file: file.path, object: path,
                                expected: "chunks of the dataset's rank \(rank) holding at most \(GCML_MAX_CHUNK_BYTES) bytes",
                                found: "a chunked layout of rank \(chunkRank), chunks \(dimensions) (\(chunkBytes == Int.max ? "more than 2^63" : String(chunkBytes)) bytes)")
            }
            chunkShape = dimensions
        } else {
            chunkShape = nil
        }
        var filterIDs: [Int] = []
        for index in 0..<max(0, H5Pget_nfilters(create)) {
            var flags: UInt32 = 0
            var count = 0
            var config: UInt32 = 0
            var name = [CChar](repeating: 0, count: 64)
            let filter = H5Pget_filter2(create, UInt32(index), &flags, &count, nil, name.count, &name, &config)
            filterIDs.append(Int(filter))
        }
        filters = filterIDs
    }

    deinit {
        // After the file's (strong) close the id is already closed.
        if file.isOpen { H5Dclose(id) }
    }

    public func withObjectID<R>(_ body: (hid_t) throws -> R) throws -> R {
        guard file.isOpen else {
            throw GCMLError(file: file.path, object: path, expected: "an open file", found: "the file already closed")
        }
        return try body(id)
    }

    public var rank: Int { shape.count }
    public var rows: Int { shape.first ?? 1 }
    /// Elements per row (product of the trailing dimensions).
    public var rowWidth: Int { Self.saturatingProduct(shape.dropFirst()) }
    public var count: Int { Self.saturatingProduct(shape) }

    /// A damaged file may declare dimensions whose product overflows Int: saturate, so the
    /// size checks refuse the read instead of the multiplication trapping.
    private static func saturatingProduct<Dimensions: Collection>(_ dimensions: Dimensions) -> Int where Dimensions.Element == Int {
        if dimensions.contains(0) { return 0 }
        var product = 1
        for dimension in dimensions {
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            if overflow { return Int.max }
            product = next
        }
        return product
    }
    public var isCompressed: Bool { filters.contains(Int(GCML_ZSTD_FILTER_ID)) || filters.contains(1) }

    private func requireType(_ wanted: ElementType, doing: String) throws {
        guard wanted == elementType else {
            throw GCMLError(file: file.path, object: path, expected: "\(wanted) elements to \(doing)", found: "\(elementType)")
        }
    }

    private func requireRows(_ range: Range<Int>) throws {
        guard range.lowerBound >= 0, range.upperBound <= rows else {
            throw GCMLError(file: file.path, object: path, expected: "rows within 0..<\(rows)", found: "rows \(range)")
        }
    }

    /// Memory a whole-range read may take; declared shapes beyond it are refused before allocating.
    public static var allocationLimit: Int = {
        if let text = ProcessInfo.processInfo.environment["GCML_MEMORY_LIMIT_BYTES"], let value = Int(text), value > 0 { return value }
        return Int(clamping: ProcessInfo.processInfo.physicalMemory)
    }()

    /// Refuses, before anything is allocated, a read whose declared size exceeds the memory
    /// limit or for which the file holds no data at all (a declared but never written dataset).
    private func requireAllocatable(rows range: Range<Int>, elementBytes: Int) throws {
        let (values, overflow1) = range.count.multipliedReportingOverflow(by: max(1, rowWidth))
        let (bytes, overflow2) = values.multipliedReportingOverflow(by: elementBytes)
        if overflow1 || overflow2 || bytes > Self.allocationLimit {
            throw GCMLError(file: file.path, object: path,
                            expected: "a size that fits in memory (at most \(Self.allocationLimit) bytes)",
                            found: "shape \(shape): \(overflow1 || overflow2 ? "more than 2^63" : String(bytes)) bytes for rows \(range)")
        }
        if values > 0 && storageBytes == 0 {
            throw GCMLError(file: file.path, object: path, expected: "stored data for its shape \(shape)",
                            found: "no data in the file (declared but never written)")
        }
        try requireStoredData()
    }

    /// A small damaged file may declare gigabytes: bound the declared size by what the file
    /// can hold before a read allocates it. Contiguous data is stored whole, inside the file;
    /// chunked data needs an allocated chunk for every chunk of the extent (compressed chunks
    /// may be tiny on disk, so their stored size is not compared: all-zero data still reads).
    private func requireStoredData() throws {
        // Data of a file being written may not be on disk yet; a file only read does not change,
        // so once is enough (counting chunks walks the whole chunk index).
        guard !file.writable, !storedDataVerified else { return }
        let declared = Self.saturatingProduct(shape + [storedElementBytes])
        guard declared > 0 else { return }
        switch layout {
        case H5D_CONTIGUOUS:
            let offset = try withObjectID { H5Dget_offset($0) }
            let fileBytes = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? Int.max
            guard offset != haddr_t.max, storageBytes >= declared, offset <= haddr_t(fileBytes),
                  haddr_t(fileBytes) - offset >= haddr_t(declared) else {
                throw GCMLError(file: file.path, object: path,
                                expected: "its shape \(shape) stored whole inside the file (\(declared == Int.max ? "more than 2^63" : String(declared)) bytes)",
                                found: "\(storageBytes) bytes stored at offset \(offset == haddr_t.max ? "none" : String(offset)) of a \(fileBytes)-byte file")
            }
        case H5D_CHUNKED:
            guard let chunkShape else { return }
            var allocated: hsize_t = 0
            try withObjectID { id in
                let space = H5Dget_space(id)
                defer { H5Sclose(space) }
                try HDF5Library.check(H5Dget_num_chunks(id, space, &allocated), file: file.path, object: path, doing: "count chunks")
            }
            let needed = Self.saturatingProduct(zip(shape, chunkShape).map { extent, chunk in
                extent / max(1, chunk) + (extent % max(1, chunk) == 0 ? 0 : 1)
            })
            guard UInt64(allocated) >= UInt64(needed) else {
                throw GCMLError(file: file.path, object: path,
                                expected: "a stored chunk for each of the \(needed == Int.max ? "more than 2^63" : String(needed)) chunks of its shape \(shape) (chunks \(chunkShape))",
                                found: "\(allocated) stored chunks")
            }
        default:
            return
        }
        storedDataVerified = true
    }

    /// Selects rows `range` of the file space and makes a matching memory space.
    private func withRowSelection<R>(_ id: hid_t, _ range: Range<Int>, _ body: (_ memory: hid_t, _ fileSpace: hid_t) throws -> R) throws -> R {
        guard rank >= 1 else {
            throw GCMLError(file: file.path, object: path, expected: "a dataset with rows (rank 1 or more)", found: "a scalar")
        }
        let fileSpace = H5Dget_space(id)
        defer { H5Sclose(fileSpace) }
        var start = [hsize_t](repeating: 0, count: rank)
        var count = shape.map { hsize_t($0) }
        start[0] = hsize_t(range.lowerBound)
        count[0] = hsize_t(range.count)
        try HDF5Library.check(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &start, nil, &count, nil),
                              file: file.path, object: path, doing: "select rows \(range)")
        let memory = H5Screate_simple(Int32(rank), &count, nil)
        defer { H5Sclose(memory) }
        return try body(memory, fileSpace)
    }

    /// Reads the whole dataset.
    public func read<T: HDF5Scalar>(as: T.Type = T.self) throws -> [T] {
        if rank == 0 {
            try requireType(T.elementType, doing: "read")
            var value = [T](unsafeUninitializedCapacity: 1) { _, n in n = 1 }
            try withObjectID { id in
                try value.withUnsafeMutableBufferPointer { buffer in
                    try HDF5Library.check(H5Dread(id, T.elementType.memoryType, gcml_h5s_all(), gcml_h5s_all(), gcml_h5p_default(), buffer.baseAddress),
                                          file: file.path, object: path, doing: "read")
                }
            }
            return value
        }
        return try readRows(0..<rows)
    }

    /// Reads rows `range` (row-major, `range.count * rowWidth` values).
    public func readRows<T: HDF5Scalar>(_ range: Range<Int>, as: T.Type = T.self) throws -> [T] {
        try requireRows(range)
        try requireAllocatable(rows: range, elementBytes: MemoryLayout<T>.stride)
        let n = range.count * rowWidth
        var result = [T](unsafeUninitializedCapacity: n) { _, initialized in initialized = n }
        try result.withUnsafeMutableBufferPointer { try readRows(range, into: $0) }
        return result
    }

    /// Reads rows `range` into caller-owned memory (for streaming without allocation).
    public func readRows<T: HDF5Scalar>(_ range: Range<Int>, into buffer: UnsafeMutableBufferPointer<T>) throws {
        try requireType(T.elementType, doing: "read")
        try requireRows(range)
        guard buffer.count >= range.count * rowWidth else {
            throw GCMLError(file: file.path, object: path, expected: "a buffer of \(range.count * rowWidth) values", found: "\(buffer.count)")
        }
        if range.isEmpty { return }
        try withObjectID { id in
            try withRowSelection(id, range) { memory, fileSpace in
                try HDF5Library.check(H5Dread(id, T.elementType.memoryType, memory, fileSpace, gcml_h5p_default(), buffer.baseAddress),
                                      file: file.path, object: path, doing: "read rows \(range)")
            }
        }
    }

    /// Writes rows starting at `row` (the dataset must already hold them; see `append`).
    public func writeRows<T: HDF5Scalar>(_ values: [T], at row: Int) throws {
        try values.withUnsafeBufferPointer { try writeRows($0, at: row) }
    }

    public func writeRows<T: HDF5Scalar>(_ values: UnsafeBufferPointer<T>, at row: Int) throws {
        try requireType(T.elementType, doing: "write")
        guard rowWidth > 0 ? values.count % rowWidth == 0 : values.isEmpty else {
            throw GCMLError(file: file.path, object: path, expected: "a multiple of \(rowWidth) values", found: "\(values.count)")
        }
        let count = rowWidth > 0 ? values.count / rowWidth : 0
        try requireRows(row..<(row + count))
        if count == 0 { return }
        try withObjectID { id in
            try withRowSelection(id, row..<(row + count)) { memory, fileSpace in
                try HDF5Library.check(H5Dwrite(id, T.elementType.memoryType, memory, fileSpace, gcml_h5p_default(), values.baseAddress),
                                      file: file.path, object: path, doing: "write rows \(row)..<\(row + count)")
            }
        }
    }

    /// Grows the first dimension and writes `values` (whole rows) at the end.
    public func append<T: HDF5Scalar>(_ values: [T]) throws {
        try values.withUnsafeBufferPointer { try append($0) }
    }

    public func append<T: HDF5Scalar>(_ values: UnsafeBufferPointer<T>) throws {
        try requireType(T.elementType, doing: "append")
        let start = try grow(byValues: values.count)
        try writeRows(values, at: start)
    }

    /// Appends strings to an extendable string dataset.
    public func append(strings: [String]) throws {
        try requireType(.string, doing: "append")
        let start = try grow(byValues: strings.count)
        try writeStrings(strings, at: start)
    }

    private func grow(byValues count: Int) throws -> Int {
        guard extendable else {
            throw GCMLError(file: file.path, object: path, expected: "an extendable dataset to append to", found: "a fixed-size dataset")
        }
        guard rowWidth > 0, count % rowWidth == 0 else {
            throw GCMLError(file: file.path, object: path, expected: "whole rows of \(rowWidth) values", found: "\(count) values")
        }
        let start = rows
        var newShape = shape.map { hsize_t($0) }
        newShape[0] = hsize_t(start + count / rowWidth)
        try withObjectID { id in
            try HDF5Library.check(H5Dset_extent(id, &newShape), file: file.path, object: path, doing: "extend to \(newShape[0]) rows")
        }
        shape[0] = Int(newShape[0])
        return start
    }

    /// Writes strings at `row` (rank-1 string dataset).
    public func writeStrings(_ strings: [String], at row: Int) throws {
        try requireType(.string, doing: "write strings")
        try requireRows(row..<(row + strings.count))
        let cstrings = strings.map { strdup($0) }
        defer { cstrings.forEach { free($0) } }
        var pointers = cstrings.map { UnsafePointer<CChar>($0) }
        let type = ElementType.makeStringType()
        defer { H5Tclose(type) }
        try withObjectID { id in
            try withRowSelection(id, row..<(row + strings.count)) { memory, fileSpace in
                try HDF5Library.check(H5Dwrite(id, type, memory, fileSpace, gcml_h5p_default(), &pointers),
                                      file: file.path, object: path, doing: "write strings")
            }
        }
    }

    /// Reads a string dataset (variable-length or fixed-length, as h5py may write either).
    public func readStrings(rows range: Range<Int>? = nil) throws -> [String] {
        try requireType(.string, doing: "read strings")
        // One string per row: a damaged rank-2 string dataset would select rows × columns
        // elements into a buffer of `rows` (heap corruption, found by the fuzzer).
        guard rank == 1 else {
            throw GCMLError(file: file.path, object: path, expected: "a rank-1 string dataset", found: "rank \(rank), shape \(shape)")
        }
        let range = range ?? 0..<rows
        try requireRows(range)
        if range.isEmpty { return [] }
        try requireAllocatable(rows: range, elementBytes: MemoryLayout<String>.stride)
        return try withObjectID { id in
            let fileType = H5Dget_type(id)
            defer { H5Tclose(fileType) }
            return try withRowSelection(id, range) { memory, fileSpace in
                if H5Tis_variable_str(fileType) > 0 {
                    try HDF5Library.checkStringReferences(in: file, object: path) {
                        gcml_h5_check_vlen_strings(id, memory, fileSpace, $0, $1)
                    }
                    let type = ElementType.makeStringType()
                    defer { H5Tclose(type) }
                    var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: range.count)
                    try HDF5Library.check(H5Dread(id, type, memory, fileSpace, gcml_h5p_default(), &pointers),
                                          file: file.path, object: path, doing: "read strings")
                    defer { gcml_h5_free_vlen_strings(type, memory, &pointers) }
                    return try pointers.enumerated().map { row, pointer in
                        guard let pointer else { return "" }
                        guard let text = String(validatingCString: pointer) else {
                            throw GCMLError(file: file.path, object: path, expected: "UTF-8 strings",
                                            found: "invalid UTF-8 at row \(range.lowerBound + row)")
                        }
                        return text
                    }
                }
                let size = H5Tget_size(fileType)
                // Read with the file's own string type: no padding conversion can truncate.
                let type = H5Tcopy(fileType)
                defer { H5Tclose(type) }
                var bytes = [UInt8](repeating: 0, count: size * range.count)
                try HDF5Library.check(H5Dread(id, type, memory, fileSpace, gcml_h5p_default(), &bytes),
                                      file: file.path, object: path, doing: "read strings")
                return (0..<range.count).map { decodeFixedString(bytes[$0 * size..<($0 + 1) * size]) }
            }
        }
    }
}
