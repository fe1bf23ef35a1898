import Artifacts
import Contracts
import Foundation
import Support
import TestSupport
import XCTest

final class SchemaTests: FolderTestCase {
    /// A minimal valid graph on 3 videos (the contract's writer); `mutate` breaks it. The broken files
    /// below are written with raw HDF5 calls on purpose: no contract writer produces them.
    private func graphFile(_ name: String, mutate: (Group) throws -> Void = { _ in }) throws -> String {
        let file = try HDF5File.create(path(name))
        let root = file.root
        try root.setAttribute("schema", .string("gcml.graph/1"))
        try RelationalGraph(videoIDs: ["a", "b", "c"], train: CSRGraph(indptr: [0, 1, 2, 2], indices: [1, 0], weights: [1, 1]),
                            heldout: CSRGraph(nodes: 3), heldoutNodes: [2]).write(to: file)
        try mutate(root)
        try file.close()
        return path(name)
    }

    private func violation(_ file: String, as kind: SchemaKind = .graph) -> String {
        do { try SchemaValidator.validate(path: file, as: kind) } catch { return String(describing: error) }
        XCTFail("expected \(file) to violate \(kind.identifier)")
        return ""
    }

    func testValidGraphPasses() throws {
        XCTAssertNoThrow(try SchemaValidator.validate(path: try graphFile("ok.h5"), as: .graph))
    }

    func testWrongSchemaIsNamedAndExtraDatasetsAreAllowed() throws {
        let wrongSchema = violation(try graphFile("s.h5") { try $0.setAttribute("schema", .string("gcml.tree/1")) })
        XCTAssertTrue(wrongSchema.contains("expected 'gcml.graph/1', found 'gcml.tree/1'"), wrongSchema)
        // Contract v1 may be extended: an extra dataset is not a violation.
        XCTAssertNoThrow(try SchemaValidator.validate(path: try graphFile("extra.h5") { try $0.write("extra/x", [Int32(0)]) }, as: .graph))
    }

    func testEachViolationNamesTheDataset() throws {
        let noSchema = try HDF5File.create(path("none.h5"))
        try noSchema.root.write("video_id", strings: ["a"])
        try noSchema.close()
        XCTAssertTrue(violation(path("none.h5")).contains("found no schema attribute"))

        let wrongType = try HDF5File.create(path("wt.h5"))
        try wrongType.root.setAttribute("schema", .string("gcml.triplets/1"))
        for name in ["anchor", "positive", "negative"] { try wrongType.root.write(name, [Int32(0), 1]) }
        try wrongType.root.write("negative_level", [Float(0), 1])
        try wrongType.close()
        let typeMessage = violation(path("wt.h5"), as: .triplets)
        XCTAssertTrue(typeMessage.contains("/negative_level") && typeMessage.contains("expected int8, found float32"), typeMessage)

        let sizeMismatch = try HDF5File.create(path("sz.h5"))
        try sizeMismatch.root.setAttribute("schema", .string("gcml.triplets/1"))
        for name in ["anchor", "positive"] { try sizeMismatch.root.write(name, [Int32(0), 1]) }
        try sizeMismatch.root.write("negative", [Int32(0), 1, 2])
        try sizeMismatch.root.write("negative_level", [Int8(0), 1])
        try sizeMismatch.close()
        let sizeMessage = violation(path("sz.h5"), as: .triplets)
        XCTAssertTrue(sizeMessage.contains("/negative") && sizeMessage.contains("T = 2"), sizeMessage)

        let rank = try HDF5File.create(path("rank.h5"))
        try rank.root.setAttribute("schema", .string("gcml.embeddings/1"))
        try rank.root.write("video_id", strings: ["a", "b"])
        try rank.root.write("embedding", [Float](repeating: 0, count: 4))
        try rank.close()
        let rankMessage = violation(path("rank.h5"), as: .embeddings)
        XCTAssertTrue(rankMessage.contains("/embedding") && rankMessage.contains("rank 2") && rankMessage.contains("found rank 1"), rankMessage)
    }

    func testMissingRequiredDatasetIsNamed() throws {
        let file = try HDF5File.create(path("noedges.h5"))
        try file.root.setAttribute("schema", .string("gcml.graph/1"))
        try file.root.write("video_id", strings: ["a", "b"])
        try file.close()
        let message = violation(path("noedges.h5"))
        XCTAssertTrue(message.contains("/train/indptr") && message.contains("missing"), message)
    }

    func testInconsistentNAndPointersAndDuplicateIds() throws {
        // indptr of the wrong length for N = 3 videos.
        let n = try HDF5File.create(path("n.h5"))
        try n.root.setAttribute("schema", .string("gcml.embeddings/1"))
        try n.root.write("video_id", strings: ["a", "b", "c"])
        try n.root.write("embedding", [Float](repeating: 0, count: 4), shape: [2, 2])
        try n.close()
        let nMessage = violation(path("n.h5"), as: .embeddings)
        XCTAssertTrue(nMessage.contains("/embedding") && nMessage.contains("N = 3"), nMessage)

        let pointers = try HDF5File.create(path("p.h5"))
        try pointers.root.setAttribute("schema", .string("gcml.retrieval/1".replacingOccurrences(of: "retrieval", with: "eval.retrieval")))
        for attribute in ["map", "ndcg_at_k", "k"] { try pointers.root.setAttribute(attribute, .double(0)) }
        try pointers.root.write("query", [Int32(0)])
        try pointers.root.write("candidates/indptr", [Int64(0), 5])
        try pointers.root.write("candidates/index", [Int32(1), 2])
        try pointers.root.write("candidates/score", [Float(1), 0])
        try pointers.root.write("candidates/relevance", [Float(1), 0])
        try pointers.root.write("ap", [Double(1)])
        try pointers.root.write("ndcg", [Double(1)])
        try pointers.close()
        let pointerMessage = violation(path("p.h5"), as: .retrieval)
        XCTAssertTrue(pointerMessage.contains("/candidates/indptr") && pointerMessage.contains("from 0 to 5"), pointerMessage)

        let duplicate = violation(try graphFile("d.h5") { root in
            try root.dataset("video_id").writeStrings(["a", "a", "c"], at: 0)
        })
        XCTAssertTrue(duplicate.contains("/video_id") && duplicate.contains("'a' again at row 1"), duplicate)
    }

    func testFramesWithoutSchemaAreAcceptedButQuantisedFramesNeedTheirRange() throws {
        let file = try HDF5File.create(path("frames.h5"))
        try file.root.write("video_id", strings: ["a"])
        try file.root.write("frame_offsets", [Int64(0), 2])
        try file.root.write("visual", [UInt8](repeating: 0, count: 8), shape: [2, 4])
        try file.close()
        let message = violation(path("frames.h5"), as: .frames)
        XCTAssertTrue(message.contains("/visual attribute 'quantize_min'"), message)
        let fixed = try HDF5File.open(path("frames.h5"), mode: .readWrite)
        try fixed.root.dataset("visual").setAttribute("quantize_min", .double(-2))
        try fixed.root.dataset("visual").setAttribute("quantize_max", .double(2))
        try fixed.close()
        XCTAssertNoThrow(try SchemaValidator.validate(path: path("frames.h5"), as: .frames))
    }

    func testTreeLevelsAreDiscoveredAndParentsRequiredBelowTheTop() throws {
        let file = try HDF5File.create(path("tree.h5"))
        try file.root.setAttribute("schema", .string("gcml.tree/1"))
        try file.root.write("level_1/assignment", [Int32(0), 0, 1])
        try file.root.write("level_1/size", [Int64(2), 1])
        try file.root.write("level_2/assignment", [Int32(0), 0, 0])
        try file.root.write("level_2/size", [Int64(3)])
        try file.close()
        let message = violation(path("tree.h5"), as: .tree)
        XCTAssertTrue(message.contains("/level_1/parent"), message)
    }

    func testDataSchemaFilesEqualTheContractInCode() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for kind in SchemaKind.allCases {
            let file = repository.appendingPathComponent("data-schema/\(kind.rawValue).json")
            let committed = try String(contentsOf: file, encoding: .utf8)
            XCTAssertEqual(committed, try kind.spec.json(), "data-schema/\(kind.rawValue).json is out of date: run `make schemas`")
        }
    }
}
