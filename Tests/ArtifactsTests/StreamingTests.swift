import Artifacts
import Support
import TestSupport
import XCTest

final class StreamingTests: FolderTestCase {
    func testAppendsCrossingChunkBoundariesReadBackByRowRange() throws {
        let file = try HDF5File.create(path("append.h5"))
        let dataset = try file.root.createDataset("blocks/x", type: .float32, shape: [0, 3], extendable: true,
                                                  compression: .zstd(level: 5, shuffle: true), chunkRows: 4)
        var expected: [Float] = []
        for (block, rows) in [3, 7, 1, 9].enumerated() {
            let values = (0..<(rows * 3)).map { Float(block * 1000 + $0) }
            try dataset.append(values)
            expected += values
        }
        XCTAssertEqual(dataset.shape, [20, 3])
        try file.close()

        let reopened = try HDF5File.open(path("append.h5"))
        let x = try reopened.root.dataset("blocks/x")
        XCTAssertEqual(x.shape, [20, 3])
        XCTAssertTrue(x.extendable)
        XCTAssertEqual(x.chunkShape, [4, 3])
        XCTAssertEqual(x.filters, [2, 32015], "shuffle then zstd")
        XCTAssertEqual(try x.read(as: Float.self), expected)
        XCTAssertEqual(try x.readRows(5..<13, as: Float.self), Array(expected[15..<39]))
        var buffer = [Float](repeating: -1, count: 6)
        try buffer.withUnsafeMutableBufferPointer { try x.readRows(18..<20, into: $0) }
        XCTAssertEqual(buffer, Array(expected[54..<60]))
        XCTAssertEqual(try x.readRows(7..<7, as: Float.self), [])
    }

    /// Datasets stay open between calls (their chunk cache holds partly written chunks): interleaved
    /// small appends to several datasets, read back before and after the file closes, agree.
    func testInterleavedSmallAppendsAreFlushedWhenTheFileCloses() throws {
        let file = try HDF5File.create(path("interleaved.h5"))
        let a = try file.root.createDataset("a", type: .int32, shape: [0], extendable: true, chunkRows: 1000)
        let b = try file.root.createDataset("b", type: .int8, shape: [0], extendable: true, chunkRows: 1000)
        var expectedA: [Int32] = [], expectedB: [Int8] = []
        for block in 0..<25 {
            let values = (0..<97).map { Int32(block * 97 + $0) }
            try a.append(values)
            try b.append(values.map { Int8(truncatingIfNeeded: $0) })
            expectedA += values
            expectedB += values.map { Int8(truncatingIfNeeded: $0) }
        }
        XCTAssertEqual(try file.root.dataset("a").read(as: Int32.self), expectedA, "a second handle sees the cached chunks")
        try file.close()
        XCTAssertThrowsError(try a.append([Int32(1)]), "a handle outliving its file") { error in
            XCTAssertTrue("\(error)".contains("interleaved.h5") && "\(error)".contains("closed"), "\(error)")
        }
        let reopened = try HDF5File.open(path("interleaved.h5"))
        XCTAssertEqual(try reopened.root.dataset("a").read(as: Int32.self), expectedA)
        XCTAssertEqual(try reopened.root.dataset("b").read(as: Int8.self), expectedB)
    }

    func testLargeDatasetsAreChunkedAndCompressedAutomatically() throws {
        let file = try HDF5File.create(path("auto.h5"))
        let rows = 2048, columns = 1024   // 8 MiB of float32: over the threshold
        let values = (0..<(rows * columns)).map { Float(($0 % columns) & 7) }
        try file.root.write("big", values, shape: [rows, columns])
        try file.root.write("small", [Float](repeating: 1, count: 16))
        let big = try file.root.dataset("big"), small = try file.root.dataset("small")
        XCTAssertNotNil(big.chunkShape)
        XCTAssertEqual(big.filters, [32015])
        XCTAssertNil(small.chunkShape)
        XCTAssertEqual(small.filters, [])
        try file.close()
        let reopened = try HDF5File.open(path("auto.h5"))
        let read = try reopened.root.dataset("big")
        XCTAssertLessThan(read.storageBytes, rows * columns * 4 / 10, "repetitive data compresses")
        XCTAssertEqual(try read.read(as: Float.self), values)
    }

    func testAppendsOfStringsAndIntegers() throws {
        let file = try HDF5File.create(path("strings.h5"))
        let ids = try file.root.createDataset("video_id", type: .string, shape: [0], extendable: true)
        let counts = try file.root.createDataset("count", type: .int64, shape: [0], extendable: true, chunkRows: 2)
        try ids.append(strings: ["a", "ü"])
        try ids.append(strings: ["動画"])
        try counts.append([Int64(1), 2, 3])
        try counts.append([Int64(4)])
        try file.close()
        let reopened = try HDF5File.open(path("strings.h5"))
        XCTAssertEqual(try reopened.root.readStrings("video_id"), ["a", "ü", "動画"])
        XCTAssertEqual(try reopened.root.dataset("video_id").readStrings(rows: 1..<3), ["ü", "動画"])
        XCTAssertEqual(try reopened.root.read("count", as: Int64.self), [1, 2, 3, 4])
    }

    func testAttributesOfEveryKind() throws {
        let file = try HDF5File.create(path("attributes.h5"))
        let group = try file.root.createGroup("labels")
        try group.setAttribute("num_classes", .int(3862))
        try file.root.setAttribute("map", .double(0.625))
        try file.root.setAttribute("name", .string("Borůvka – 動画"))
        try file.root.setAttribute("sizes", .ints([1, 2, 3]))
        try file.root.setAttribute("weights", .doubles([0.5, -1]))
        try file.root.setAttribute("names", .strings(["a", "b"]))
        try file.root.setAttribute("parameters", json: ["k": 60, "mode": "all"])
        let dataset = try file.root.write("visual", [UInt8](repeating: 0, count: 4))
        try dataset.setAttribute("quantize_min", .double(-2))
        try file.root.setAttribute("map", .double(0.75))  // overwrite
        try file.close()

        let root = try HDF5File.open(path("attributes.h5")).root
        XCTAssertEqual(try root.group("labels").intAttribute("num_classes"), 3862)
        XCTAssertEqual(try root.doubleAttribute("map"), 0.75)
        XCTAssertEqual(try root.stringAttribute("name"), "Borůvka – 動画")
        XCTAssertEqual(try root.attribute("sizes"), .ints([1, 2, 3]))
        XCTAssertEqual(try root.attribute("weights"), .doubles([0.5, -1]))
        XCTAssertEqual(try root.attribute("names"), .strings(["a", "b"]))
        XCTAssertEqual(try root.jsonAttribute("parameters")?["k"] as? Int, 60)
        XCTAssertEqual(try root.dataset("visual").doubleAttribute("quantize_min"), -2)
        XCTAssertNil(try root.attribute("absent"))
        XCTAssertEqual(Set(try root.attributeNames()), ["map", "name", "sizes", "weights", "names", "parameters"])
    }
}
