import Artifacts
import Foundation
import TestSupport
import XCTest

/// Variable-length strings live in HDF5's global heap; libhdf5 1.10 follows a damaged heap
/// without checking and dies of SIGSEGV. Each test damages one field of a file written here
/// (found by walking the bytes as the HDF5 format specification lays them out, not by our
/// checker) and expects an error naming the file and the dataset or attribute, not a crash.
final class GlobalHeapTests: FolderTestCase {
    /// Lengths differ, so each row's stored element is found by its length alone.
    private let ids = ["alpha", "bravo-2", "charlie-three"]

    /// A file whose only heap objects are the three ids and, with `attribute`, one root string
    /// attribute "note" written after them (the highest object index).
    private func write(_ name: String, attribute: Bool = false) throws -> String {
        let file = try HDF5File.create(path(name))
        try file.root.write("video_id", strings: ids)
        if attribute { try file.root.setAttribute("note", .string("hello")) }
        try file.close()
        return path(name)
    }

    private struct Layout {
        var collection: Int          // file offset of "GCOL"
        var objects: [Int: Int]      // object index -> file offset of its object header
        var elements: [Int]          // file offsets of the dataset's stored elements, in row order
        var indices: [Int]           // the object index each row's element names
    }

    /// The collection (signature, version 1, 8-byte size), its objects (index u16, references
    /// u16, reserved u32, size u64, data padded to 8) and the dataset's elements (length u32,
    /// collection address u64, index u32), located in the raw bytes.
    private func layout(_ bytes: [UInt8]) throws -> Layout {
        func read(_ at: Int, _ width: Int) -> Int { (0..<width).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        let gcol = Array("GCOL".utf8)
        let collection = try XCTUnwrap((0..<(bytes.count - 4)).first { Array(bytes[$0..<($0 + 4)]) == gcol })
        let size = read(collection + 8, 8)
        var objects: [Int: Int] = [:]
        var at = collection + 16
        while at + 16 <= collection + size {
            let index = read(at, 2), objectSize = read(at + 8, 8)
            if index == 0 { break }
            objects[index] = at
            at += 16 + (objectSize + 7) / 8 * 8
        }
        var elements: [Int] = [], indices: [Int] = []
        for id in ids {
            let pattern = (0..<4).map { UInt8(truncatingIfNeeded: id.utf8.count >> (8 * $0)) }
                + (0..<8).map { UInt8(truncatingIfNeeded: collection >> (8 * $0)) }
            let element = try XCTUnwrap((0..<(bytes.count - 16)).first { Array(bytes[$0..<($0 + 12)]) == pattern }, "element of '\(id)'")
            elements.append(element)
            indices.append(read(element + 12, 4))
        }
        return Layout(collection: collection, objects: objects, elements: elements, indices: indices)
    }

    private func damage(_ path: String, _ change: (inout [UInt8], Layout) throws -> Void) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let found = try layout(bytes)
        try change(&bytes, found)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    private func put(_ value: UInt64, width: Int, at offset: Int, in bytes: inout [UInt8]) {
        for i in 0..<width { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }

    private func refusal(reading path: String) -> String {
        do {
            let file = try HDF5File.open(path)
            _ = try file.root.readStrings("video_id")
        } catch { return String(describing: error) }
        XCTFail("\(path): expected the strings to be refused")
        return ""
    }

    func testSoundStringsStillRead() throws {
        let path = try write("sound.h5", attribute: true)
        let file = try HDF5File.open(path)
        XCTAssertEqual(try file.root.readStrings("video_id"), ids)
        XCTAssertEqual(try file.root.dataset("video_id").readStrings(rows: 1..<3), Array(ids[1...]))
        XCTAssertEqual(try file.root.stringAttribute("note"), "hello")
    }

    func testAnObjectLargerThanItsCollectionIsRefused() throws {
        // The fuzzer's crash: an object declaring ~1 TB inside a 4 KiB collection.
        let path = try write("huge.h5")
        try damage(path) { bytes, layout in put(1 << 40, width: 8, at: try XCTUnwrap(layout.objects[layout.indices[1]]) + 8, in: &bytes) }
        let message = refusal(reading: path)
        XCTAssertTrue(message.contains("huge.h5") && message.contains("/video_id") && message.contains("1099511627776 bytes"), message)
    }

    func testAReferenceToAnObjectTheCollectionDoesNotHoldIsRefused() throws {
        let path = try write("index.h5")
        try damage(path) { bytes, layout in put(200, width: 4, at: layout.elements[1] + 12, in: &bytes) }
        let message = refusal(reading: path)
        XCTAssertTrue(message.contains("/video_id") && message.contains("element 1") && message.contains("object 200"), message)
    }

    func testALengthThatDisagreesWithTheObjectIsRefused() throws {
        let path = try write("length.h5")
        try damage(path) { bytes, layout in put(4000, width: 4, at: layout.elements[2], in: &bytes) }
        let message = refusal(reading: path)
        XCTAssertTrue(message.contains("/video_id") && message.contains("element 2 declares 4000 bytes")
                      && message.contains("holds 13"), message)
    }

    func testACollectionBeyondTheEndOfTheFileIsRefused() throws {
        let path = try write("address.h5")
        try damage(path) { bytes, layout in put(1 << 40, width: 8, at: layout.elements[0] + 4, in: &bytes) }
        let message = refusal(reading: path)
        XCTAssertTrue(message.contains("/video_id") && message.contains("beyond the end of the file"), message)
    }

    func testADamagedCollectionSignatureIsRefused() throws {
        let path = try write("signature.h5")
        try damage(path) { bytes, layout in bytes[layout.collection] = UInt8(ascii: "X") }
        let message = refusal(reading: path)
        XCTAssertTrue(message.contains("/video_id") && message.contains("GCOL"), message)
    }

    func testADamagedStringAttributeIsRefusedByName() throws {
        let path = try write("attribute.h5", attribute: true)
        try damage(path) { bytes, layout in
            put(1 << 40, width: 8, at: try XCTUnwrap(layout.objects[try XCTUnwrap(layout.objects.keys.max())]) + 8, in: &bytes)
        }
        let file = try HDF5File.open(path)
        XCTAssertThrowsError(try file.root.stringAttribute("note")) { error in
            let message = String(describing: error)
            XCTAssertTrue(message.contains("attribute.h5") && message.contains("attribute 'note'"), message)
        }
    }
}
