import Artifacts
import Foundation
import Support
import TestSupport
import XCTest

final class ErrorTests: FolderTestCase {
    private func message(_ body: () throws -> Void) -> String {
        do { try body() } catch { return String(describing: error) }
        XCTFail("expected an error")
        return ""
    }

    func testMissingFileAndNonHDF5FileAreNamed() throws {
        XCTAssertTrue(message { _ = try HDF5File.open(path("nope.h5")) }.contains("nope.h5: no such file"))
        FileManager.default.createFile(atPath: path("text.h5"), contents: Data("hello".utf8))
        let text = message { _ = try HDF5File.open(path("text.h5")) }
        XCTAssertTrue(text.contains("text.h5") && text.contains("expected an HDF5 file"), text)
    }

    func testDatasetErrorsNameTheDatasetExpectedAndFound() throws {
        let file = try HDF5File.create(path("e.h5"))
        try file.root.write("train/indptr", [Int64(0), 1])
        try file.root.write("fixed", [Float(1), 2])

        let missing = message { _ = try file.root.dataset("train/indices") }
        XCTAssertTrue(missing.contains("/train/indices") && missing.contains("missing"), missing)
        let group = message { _ = try file.root.dataset("train") }
        XCTAssertTrue(group.contains("/train") && group.contains("found a group"), group)
        let wrongType = message { _ = try file.root.read("train/indptr", as: Float.self) }
        XCTAssertTrue(wrongType.contains("/train/indptr") && wrongType.contains("expected float32") && wrongType.contains("found int64"), wrongType)
        let outOfRange = message { _ = try file.root.dataset("fixed").readRows(1..<5, as: Float.self) }
        XCTAssertTrue(outOfRange.contains("/fixed") && outOfRange.contains("0..<2"), outOfRange)
        let notExtendable = message { try file.root.dataset("fixed").append([Float(3)]) }
        XCTAssertTrue(notExtendable.contains("/fixed") && notExtendable.contains("extendable"), notExtendable)
        let wrongCount = message { try file.root.write("shape", [Float(1)], shape: [2, 2]) }
        XCTAssertTrue(wrongCount.contains("/shape") && wrongCount.contains("4 values"), wrongCount)
    }

    func testHDF5PrintsNothingOnItsOwn() throws {
        // HDF5's automatic error printing is off: the failure surfaces only as our error.
        let file = try HDF5File.create(path("quiet.h5"))
        XCTAssertFalse(file.root.exists("a/b/c"))
        XCTAssertThrowsError(try file.root.group("a"))
    }
}
