import Artifacts
import Foundation
import TestSupport
import XCTest

/// Structures libhdf5 1.10 follows without checking (a group's symbol-table B-tree, symbol
/// nodes and local heap; the superblock's driver information block) and declared sizes the file
/// cannot back. Each test damages one field of a file written here, found by walking the bytes as
/// the HDF5 format specification lays them out (signatures TREE, SNOD, HEAP; superblock v0
/// offsets), and expects an error naming the file and the group or dataset, not a crash or
/// gigabytes of memory.
final class StructureCheckTests: FolderTestCase {
    /// Old-style groups (the library's default format): the root holds "train" (a group with one
    /// dataset) and "video_id".
    private func write(_ name: String) throws -> String {
        let file = try HDF5File.create(path(name))
        try file.root.write("train/indptr", [Int64](0..<5))
        try file.root.write("video_id", strings: ["a", "b"])
        try file.close()
        return path(name)
    }

    private func offsets(of signature: String, in bytes: [UInt8]) -> [Int] {
        let pattern = Array(signature.utf8)
        return (0..<(bytes.count - pattern.count)).filter { Array(bytes[$0..<($0 + pattern.count)]) == pattern }
    }

    private func put(_ value: UInt64, width: Int, at offset: Int, in bytes: inout [UInt8]) {
        for i in 0..<width { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }

    private func damage(_ path: String, _ change: (inout [UInt8]) throws -> Void) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        try change(&bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Opens the file and lists and reads everything, as gcml-check and the stages do.
    private func refusal(_ path: String) -> String {
        do {
            let file = try HDF5File.open(path)
            for dataset in try file.root.datasetPaths() { _ = try file.root.dataset(dataset) }
        } catch { return String(describing: error) }
        XCTFail("\(path): expected the file to be refused")
        return ""
    }

    func testSoundGroupsStillOpen() throws {
        let file = try HDF5File.open(try write("sound.h5"))
        XCTAssertEqual(try file.root.datasetPaths(), ["/train/indptr", "/video_id"])
        XCTAssertEqual(try file.root.read("train/indptr", as: Int64.self), [0, 1, 2, 3, 4])
    }

    func testABTreeNodeNamingItselfIsRefused() throws {
        // The fuzzer's crash: the library recursed through a node that names itself until the
        // stack overflowed (SIGSEGV in H5G__stab_count). Node: "TREE", type, level, entries (u16),
        // two sibling addresses, then key 0 (8 bytes) and child 0 (8 bytes).
        let path = try write("cycle.h5")
        try damage(path) { bytes in
            let node = try XCTUnwrap(offsets(of: "TREE", in: bytes).first { bytes[$0 + 4] == 0 })
            bytes[node + 5] = 1
            put(UInt64(node), width: 8, at: node + 8 + 16 + 8, in: &bytes)
        }
        let message = refusal(path)
        XCTAssertTrue(message.contains("cycle.h5") && message.contains("B-tree node") && message.contains("naming itself"), message)
    }

    func testASymbolNodeDeclaringMoreEntriesThanItHoldsIsRefused() throws {
        let path = try write("entries.h5")
        try damage(path) { bytes in put(1000, width: 2, at: try XCTUnwrap(offsets(of: "SNOD", in: bytes).first) + 6, in: &bytes) }
        let message = refusal(path)
        XCTAssertTrue(message.contains("entries.h5") && message.contains("declaring 1000 entries"), message)
    }

    func testALocalHeapOutsideTheFileIsRefusedNamingTheGroup() throws {
        // "HEAP", version, 3 reserved, data size (8), free list offset (8), data address (8).
        let path = try write("heap.h5")
        try damage(path) { bytes in
            let heaps = offsets(of: "HEAP", in: bytes)
            XCTAssertEqual(heaps.count, 2)   // the root's and train's
            put(1 << 40, width: 8, at: heaps[1] + 24, in: &bytes)
        }
        let message = refusal(path)
        XCTAssertTrue(message.contains("heap.h5") && message.contains("group '/train'") && message.contains("local heap"), message)
    }

    func testADriverInformationBlockLargerThanTheFileIsRefusedBeforeOpening() throws {
        // Superblock v0 with 8-byte addresses: base, free space, end of file, then the driver
        // information block's address at byte 48. Pointing it at the superblock itself makes the
        // block declare 0x0a1a0a0d bytes (the signature's last four), far beyond this file.
        let path = try write("driver.h5")
        try damage(path) { bytes in
            XCTAssertEqual(bytes[8], 0)
            put(0, width: 8, at: 48, in: &bytes)
        }
        let message = refusal(path)
        XCTAssertTrue(message.contains("driver.h5") && message.contains("driver information block")
                      && message.contains("declares \(0x0a1a_0a0d) bytes"), message)
    }

    func testHighlyCompressibleDataStillReads() throws {
        // All-zero features compress to almost nothing; the declared size is bounded by the
        // stored chunks, not by their compressed bytes.
        let rows = 4096, columns = 256
        let file = try HDF5File.create(path("zeros.h5"))
        try file.root.write("features", [Float](repeating: 0, count: rows * columns), shape: [rows, columns],
                            compression: .defaultZstd)
        try file.close()
        let reopened = try HDF5File.open(path("zeros.h5"))
        let dataset = try reopened.root.dataset("features")
        XCTAssertLessThan(dataset.storageBytes * 100, rows * columns * 4)
        let values: [Float] = try dataset.read()
        XCTAssertEqual(values.count, rows * columns)
        XCTAssertTrue(values.allSatisfy { $0 == 0 })
    }

    func testAChunkedDatasetWithChunksNeverWrittenIsRefusedBeforeAllocating() throws {
        // 64 rows in chunks of 8: only the first chunk is written, so 7 of 8 are missing.
        let file = try HDF5File.create(path("sparse.h5"))
        let dataset = try file.root.createDataset("features", type: .float32, shape: [64, 4], compression: .defaultZstd, chunkRows: 8)
        try dataset.writeRows([Float](repeating: 1, count: 8 * 4), at: 0)
        try file.close()
        let reopened = try HDF5File.open(path("sparse.h5"))
        XCTAssertThrowsError(try reopened.root.read("features", as: Float.self)) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.contains("sparse.h5") && message.contains("/features") && message.contains("8 chunks")
                          && message.contains("1 stored chunks"), message)
        }
    }

    func testARank2StringDatasetIsRefusedNotOverrun() throws {
        // Reading it as rows selected 3 × 2 strings into room for 3 (the fuzzer's heap corruption).
        let file = try HDF5File.create(path("strings.h5"))
        try file.root.createDataset("video_id", type: .string, shape: [3, 2])
        try file.close()
        let reopened = try HDF5File.open(path("strings.h5"))
        XCTAssertThrowsError(try reopened.root.readStrings("video_id")) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.contains("strings.h5") && message.contains("/video_id") && message.contains("rank 2"), message)
        }
    }
}
