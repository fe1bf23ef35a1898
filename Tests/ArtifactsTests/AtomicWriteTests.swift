import Artifacts
import Contracts
import Foundation
import Support
import TestSupport
import XCTest

final class AtomicWriteTests: FolderTestCase {
    struct Injected: Error {}

    /// Triplets written dataset by dataset with raw calls, so that a failure can be injected half-way.
    private func writeTriplets(_ path: String, count: Int, fail: Bool = false) throws {
        try Artifact.write(path, schema: .triplets, createdBy: "test", parameters: ["count": count], inputs: []) { file in
            let anchors = try file.root.createDataset(DatasetPath.Triplets.anchor, type: .int32, shape: [0], extendable: true)
            try anchors.append((0..<count).map { Int32($0) })
            if fail { throw Injected() }
            try file.root.write(DatasetPath.Triplets.positive, [Int32](repeating: 1, count: count))
            try file.root.write(DatasetPath.Triplets.negative, [Int32](repeating: 2, count: count))
            try file.root.write(DatasetPath.Triplets.negativeLevel, [Int8](repeating: 0, count: count))
        }
    }

    private func folderContents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: folder).sorted() }

    func testFailedWriteLeavesPreviousFileByteIdenticalAndNoTemporary() throws {
        let target = path("triplets.h5")
        try writeTriplets(target, count: 5)
        let before = try Data(contentsOf: URL(fileURLWithPath: target))
        XCTAssertThrowsError(try writeTriplets(target, count: 9, fail: true)) { XCTAssertTrue($0 is Injected) }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: target)), before)
        XCTAssertEqual(try folderContents(), ["triplets.h5"])
    }

    func testOutputViolatingItsSchemaIsNotPublished() throws {
        let target = path("bad.h5")
        XCTAssertThrowsError(try Artifact.write(target, schema: .triplets, createdBy: "test") { file in
            try file.root.write("anchor", [Int32(0)])
        }) { XCTAssertTrue(String(describing: $0).contains("/positive"), "\($0)") }
        XCTAssertEqual(try folderContents(), [])
    }

    func testProvenanceIsStamped() throws {
        struct Options { var levels = 3; var linkage = "max"; var threshold: Double? = nil }
        let input = path("input.txt")
        try Data("abc".utf8).write(to: URL(fileURLWithPath: input))
        let target = path("t.h5")
        try Artifact.write(target, schema: .triplets, createdBy: "sample-triplets", parameters: Options(), inputs: [input]) { file in
            try TripletSet(anchor: [0], positive: [0], negative: [0], negativeLevel: [0]).write(to: file)
        }
        let root = try Artifact.open(target, as: .triplets).root
        XCTAssertEqual(try root.stringAttribute("schema"), "gcml.triplets/1")
        XCTAssertTrue(try root.stringAttribute("created_by")?.hasPrefix("sample-triplets (gcml ") ?? false)
        XCTAssertNotNil(try root.stringAttribute("created_at"))
        XCTAssertEqual(try root.intAttribute("ranks"), 1, "a plain run is written by one rank")
        let parameters = try XCTUnwrap(try root.jsonAttribute("parameters"))
        XCTAssertEqual(parameters["levels"] as? Int, 3)
        XCTAssertEqual(parameters["linkage"] as? String, "max")
        XCTAssertTrue(parameters["threshold"] is NSNull)
        let inputs = try XCTUnwrap(JSON.array(try root.stringAttribute("inputs") ?? ""))
        XCTAssertEqual(inputs.first?["path"] as? String, input)
        XCTAssertEqual(inputs.first?["size"] as? Int, 3)
        XCTAssertNotNil(inputs.first?["hash"])
    }
}

extension JSON {
    static func array(_ text: String) -> [[String: Any]]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [[String: Any]]
    }
}

final class ReproducibleBytesTests: FolderTestCase {
    func testSameContentGivesByteIdenticalFiles() throws {
        setenv("GCML_CREATED_AT", "2026-01-01T00:00:00Z", 1)
        defer { unsetenv("GCML_CREATED_AT") }
        func write(_ name: String) throws -> Data {
            try Artifact.write(path(name), schema: .embeddings, createdBy: "test", parameters: ["seed": 1]) { file in
                try file.root.write(DatasetPath.videoID, strings: ["a", "b"])
                try file.root.write(DatasetPath.Embeddings.embedding, [Float(1), 0, 0, 1], shape: [2, 2])
                try file.root.write("extra/group/values", [Int32(1)])
            }
            return try Data(contentsOf: URL(fileURLWithPath: path(name)))
        }
        let first = try write("one.h5")
        Thread.sleep(forTimeInterval: 1.1)
        XCTAssertEqual(first, try write("two.h5"))
    }
}
