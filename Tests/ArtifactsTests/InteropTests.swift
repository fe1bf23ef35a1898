import Artifacts
import Foundation
import Support
import TestSupport
import XCTest

/// Other tools must open our files and we theirs: h5py + hdf5plugin both ways, h5dump with our plugin.
final class InteropTests: FolderTestCase {
    /// Values with a closed form, so both sides can check them independently.
    private func value(_ row: Int, _ column: Int) -> Float { Float(row % 97) * 0.25 - Float(column % 13) }

    func testH5pyReadsOurZstdDatasetsWithIdenticalValues() throws {
        try Subprocess.requirePythonHDF5()
        let rows = 3000, columns = 64
        let file = try HDF5File.create(path("ours.h5"))
        let matrix = try file.root.createDataset("visual", type: .float32, shape: [0, columns], extendable: true,
                                                 compression: .zstd(level: 3, shuffle: false), chunkRows: 256)
        for start in stride(from: 0, to: rows, by: 700) {
            let block = (start..<min(rows, start + 700)).flatMap { r in (0..<columns).map { value(r, $0) } }
            try matrix.append(block)
        }
        try file.root.write("shuffled", (0..<5000).map { Int64($0 * 3) }, compression: .zstd(level: 9, shuffle: true))
        try file.root.write("video_id", strings: ["a", "動画"])
        try file.root.setAttribute("schema", .string("gcml.test/1"))
        try file.close()
        let script = """
        import h5py, hdf5plugin, numpy as np, sys
        f = h5py.File(sys.argv[1], 'r')
        v = f['visual']
        assert '32015' in v._filters or 32015 in v._filters, v._filters
        r = np.arange(\(rows))[:, None] % 97 * 0.25 - np.arange(\(columns))[None, :] % 13
        assert np.array_equal(v[...], r.astype(np.float32)), 'visual differs'
        assert np.array_equal(f['shuffled'][...], np.arange(5000) * 3)
        assert [s.decode() if isinstance(s, bytes) else s for s in f['video_id'][...]] == ['a', '動画']
        assert f.attrs['schema'] in ('gcml.test/1', b'gcml.test/1')
        print('ok')
        """
        let result = try Subprocess.shell("python3", ["-c", script, path("ours.h5")])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "ok")
    }

    func testWeReadH5pyZstdDatasets() throws {
        try Subprocess.requirePythonHDF5()
        let script = """
        import h5py, hdf5plugin, numpy as np, sys
        with h5py.File(sys.argv[1], 'w') as f:
            r = np.arange(2000)[:, None] % 97 * 0.25 - np.arange(32)[None, :] % 13
            f.create_dataset('x', data=r.astype(np.float32), chunks=(100, 32), **hdf5plugin.Zstd(clevel=5))
            f.create_dataset('ids', data=np.array(['v1', 'ü2'], dtype=h5py.string_dtype()))
            f.create_dataset('fixed', data=np.array([b'ab', b'c']))
            f.create_dataset('n', data=np.arange(10, dtype=np.int32), chunks=(4,), shuffle=True, **hdf5plugin.Zstd())
            f.attrs['schema'] = 'gcml.other/1'
        """
        let result = try Subprocess.shell("python3", ["-c", script, path("theirs.h5")])
        XCTAssertEqual(result.status, 0, result.stderr)
        let root = try HDF5File.open(path("theirs.h5")).root
        let x = try root.dataset("x")
        XCTAssertEqual(x.filters, [32015])
        XCTAssertEqual(x.shape, [2000, 32])
        let expected = (0..<2000).flatMap { r in (0..<32).map { value(r, $0) } }
        XCTAssertEqual(try x.read(as: Float.self), expected)
        XCTAssertEqual(try x.readRows(150..<151, as: Float.self), Array(expected[(150 * 32)..<(151 * 32)]))
        XCTAssertEqual(try root.readStrings("ids"), ["v1", "ü2"])
        XCTAssertEqual(try root.readStrings("fixed"), ["ab", "c"])
        XCTAssertEqual(try root.read("n", as: Int32.self), (0..<10).map { Int32($0) })
        XCTAssertEqual(try root.stringAttribute("schema"), "gcml.other/1")
    }

    func testH5dumpPrintsOurZstdDataWithThePlugin() throws {
        guard let plugins = ProcessInfo.processInfo.environment["GCML_PLUGIN_DIR"] else {
            throw XCTSkip("GCML_PLUGIN_DIR not set (make test builds the plugin and sets it)")
        }
        let file = try HDF5File.create(path("dump.h5"))
        try file.root.write("visual", (0..<40).map { Float($0) + 0.5 }, shape: [10, 4], compression: .zstd(level: 3, shuffle: false))
        try file.close()
        let result = try Subprocess.shell("h5dump", ["-p", "-d", "/visual", path("dump.h5")], environment: ["HDF5_PLUGIN_PATH": plugins])
        let out = result.stdout
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(out.contains("39.5"), out)
        XCTAssertTrue(out.contains("32015"), "h5dump -p shows the zstd filter id:\n\(out)")
    }
}
