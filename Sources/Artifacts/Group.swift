import CHDF5
import GCMLShim
import Support

/// A group in a file, addressed by its absolute path. Paths given to its methods
/// may be relative ("train/indptr") or absolute ("/train/indptr").
public final class Group: HDF5Object {
    public let file: HDF5File
    public let path: String

    init(file: HDF5File, path: String) {
        self.file = file
        self.path = path
    }

    public func withObjectID<R>(_ body: (hid_t) throws -> R) throws -> R {
        let id = try HDF5Library.check(H5Gopen2(file.id, path, gcml_h5p_default()), file: file.path, object: path, doing: "open group")
        defer { H5Gclose(id) }
        return try body(id)
    }

    func resolve(_ name: String) -> String {
        if name.hasPrefix("/") { return name }
        return path == "/" ? "/" + name : path + "/" + name
    }

    /// Whether an object (group or dataset) exists at `name`, checking each link on the way.
    public func exists(_ name: String) -> Bool {
        let full = resolve(name)
        var prefix = ""
        for part in full.split(separator: "/") {
            prefix += "/" + part
            if H5Lexists(file.id, prefix, gcml_h5p_default()) <= 0 {
                _ = HDF5Library.takeErrorStack()
                return false
            }
        }
        return true
    }

    public func isGroup(_ name: String) -> Bool {
        guard exists(name) else { return false }
        var info = H5O_info_t()
        guard H5Oget_info_by_name2(file.id, resolve(name), &info, UInt32(H5O_INFO_BASIC), gcml_h5p_default()) >= 0 else {
            _ = HDF5Library.takeErrorStack()
            return false
        }
        return info.type == H5O_TYPE_GROUP
    }

    /// Opens an existing group.
    public func group(_ name: String) throws -> Group {
        guard isGroup(name) else {
            throw GCMLError(file: file.path, object: resolve(name), expected: "a group", found: exists(name) ? "a dataset" : "nothing")
        }
        return Group(file: file, path: resolve(name))
    }

    /// Creates a group and any missing parents; returns the existing one if present.
    @discardableResult
    public func createGroup(_ name: String) throws -> Group {
        let full = resolve(name)
        var prefix = ""
        for part in full.split(separator: "/") {
            prefix += "/" + part
            if !exists(prefix) {
                let create = H5Pcreate(gcml_h5p_group_create())
                defer { H5Pclose(create) }
                H5Pset_obj_track_times(create, false)   // no timestamps: same inputs, same bytes
                let id = try HDF5Library.check(H5Gcreate2(file.id, prefix, gcml_h5p_default(), create, gcml_h5p_default()),
                                               file: file.path, object: prefix, doing: "create group")
                H5Gclose(id)
            }
        }
        return Group(file: file, path: full)
    }

    /// Names of the direct children, sorted. (The library counts and looks up links by walking the
    /// group's symbol table unchecked; `HDF5File.open` has checked every group's table first.)
    public func childNames() throws -> [String] {
        try withObjectID { group in
            var info = H5G_info_t()
            try HDF5Library.check(H5Gget_info(group, &info), file: file.path, object: path, doing: "list")
            return HDF5Library.names(count: info.nlinks) { index, buffer, size in
                H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, index, buffer, size, gcml_h5p_default())
            }.sorted()
        }
    }

    /// Every dataset below this group, as absolute paths, depth first and sorted. A group
    /// reached again through another link is listed under its first path only (links may
    /// form cycles in a damaged file).
    public func datasetPaths() throws -> [String] {
        var listed = Set<haddr_t>()
        return try datasetPaths(skipping: &listed)
    }

    private func datasetPaths(skipping listed: inout Set<haddr_t>) throws -> [String] {
        let address = try withObjectID { group -> haddr_t in
            var info = H5O_info_t()
            try HDF5Library.check(H5Oget_info2(group, &info, UInt32(H5O_INFO_BASIC)), file: file.path, object: path, doing: "inspect")
            return info.addr
        }
        guard listed.insert(address).inserted else { return [] }
        var result: [String] = []
        for name in try childNames() {
            let child = resolve(name)
            if isGroup(child) { result += try Group(file: file, path: child).datasetPaths(skipping: &listed) } else { result.append(child) }
        }
        return result
    }

    /// Opens an existing dataset; the error names the file and the dataset path.
    public func dataset(_ name: String) throws -> Dataset {
        let full = resolve(name)
        guard exists(full), !isGroup(full) else {
            throw GCMLError(file: file.path, object: full, expected: "a dataset", found: exists(full) ? "a group" : "nothing (missing)")
        }
        return try Dataset(file: file, path: full)
    }

    /// Creates a dataset of `type` and `shape`. With `extendable`, the first
    /// dimension can grow by `append`. Chunking and zstd follow `compression`.
    @discardableResult
    public func createDataset(_ name: String, type: ElementType, shape: [Int], extendable: Bool = false,
                              compression: Compression = .automatic, chunkRows: Int? = nil) throws -> Dataset {
        let full = resolve(name)
        if let slash = full.lastIndex(of: "/"), slash != full.startIndex {
            try createGroup(String(full[..<slash]))
        }
        precondition(!shape.isEmpty, "datasets have rank >= 1")
        var dims = shape.map { hsize_t($0) }
        var maxDims = dims
        if extendable { maxDims[0] = gcml_h5s_unlimited() }
        let space = H5Screate_simple(Int32(dims.count), &dims, &maxDims)
        defer { H5Sclose(space) }

        let rowElements = shape.dropFirst().reduce(1, *)
        let rowBytes = max(1, rowElements * type.byteSize)
        let totalBytes = shape.reduce(1, *) * type.byteSize
        let resolved: Compression
        switch compression {
        case _ where type == .string: resolved = .none   // HDF5 cannot filter variable-length strings
        case .automatic: resolved = (extendable || totalBytes > Compression.threshold) ? .defaultZstd : .none
        default: resolved = compression
        }
        let chunked = extendable || resolved != .none
        let create = H5Pcreate(gcml_h5p_dataset_create())
        defer { H5Pclose(create) }
        H5Pset_obj_track_times(create, false)   // no timestamps: same inputs, same bytes
        if chunked {
            // ~1 MiB chunks: large enough for zstd and sequential reads, small enough for row-range reads.
            let rows = max(1, chunkRows ?? max(1, (1 << 20) / rowBytes))
            var chunk = dims
            chunk[0] = hsize_t(extendable ? rows : min(rows, max(1, shape[0])))
            for i in 1..<chunk.count { chunk[i] = max(1, chunk[i]) }
            try HDF5Library.check(H5Pset_chunk(create, Int32(chunk.count), &chunk), file: file.path, object: full, doing: "set chunking")
            if case .zstd(let level, let shuffle) = resolved {
                if shuffle { H5Pset_shuffle(create) }
                var values: [UInt32] = [UInt32(max(1, level))]
                try HDF5Library.check(H5Pset_filter(create, H5Z_filter_t(GCML_ZSTD_FILTER_ID), UInt32(H5Z_FLAG_MANDATORY), 1, &values),
                                      file: file.path, object: full, doing: "set zstd filter")
            }
        }
        let fileType = type == .string ? ElementType.makeStringType() : type.fileType
        defer { if type == .string { H5Tclose(fileType) } }
        let id = try HDF5Library.check(H5Dcreate2(file.id, full, fileType, space, gcml_h5p_default(), create, gcml_h5p_default()),
                                       file: file.path, object: full, doing: "create dataset")
        H5Dclose(id)
        return try Dataset(file: file, path: full)
    }

    /// Writes a whole numeric dataset in one call. `shape` defaults to [values.count].
    @discardableResult
    public func write<T: HDF5Scalar>(_ name: String, _ values: [T], shape: [Int]? = nil,
                                     compression: Compression = .automatic) throws -> Dataset {
        let shape = shape ?? [values.count]
        guard shape.reduce(1, *) == values.count else {
            throw GCMLError(file: file.path, object: resolve(name), expected: "\(shape.reduce(1, *)) values for shape \(shape)",
                            found: "\(values.count)")
        }
        let dataset = try createDataset(name, type: T.elementType, shape: shape, compression: compression)
        if !values.isEmpty { try dataset.writeRows(values, at: 0) }
        return dataset
    }

    /// Writes a dataset of variable-length UTF-8 strings.
    @discardableResult
    public func write(_ name: String, strings: [String], compression: Compression = .automatic) throws -> Dataset {
        let dataset = try createDataset(name, type: .string, shape: [strings.count], compression: compression == .automatic ? .none : compression)
        if !strings.isEmpty { try dataset.writeStrings(strings, at: 0) }
        return dataset
    }

    /// Reads a whole numeric dataset.
    public func read<T: HDF5Scalar>(_ name: String, as: T.Type = T.self) throws -> [T] { try dataset(name).read() }

    /// Reads a whole string dataset.
    public func readStrings(_ name: String) throws -> [String] { try dataset(name).readStrings() }
}
