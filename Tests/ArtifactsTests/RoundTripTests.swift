import Artifacts
import Foundation
import Support
import TestSupport
import XCTest

final class RoundTripTests: FolderTestCase {

    func testEveryElementTypeRoundTrips() throws {
        let path = folder + "/types.h5"
        let file = try HDF5File.create(path)
        try file.root.write("f32", [Float(1.5), -2, .infinity], shape: [3])
        try file.root.write("f64", [Double.pi, -1e300], shape: [2])
        try file.root.write("i8", [Int8.min, 0, Int8.max])
        try file.root.write("u8", [UInt8(0), 128, 255])
        try file.root.write("i32", [Int32.min, 7, Int32.max])
        try file.root.write("i64", [Int64.min, 7, Int64.max])
        try file.root.write("nested/matrix", (0..<12).map { Float($0) }, shape: [4, 3])
        try file.root.write("strings", strings: ["plain", "Borůvka", "日本語の動画", ""])
        try file.root.write("empty", [Float](), shape: [0, 5])
        try file.close()

        let reopened = try HDF5File.open(path)
        XCTAssertEqual(try reopened.root.read("f32", as: Float.self), [1.5, -2, .infinity])
        XCTAssertEqual(try reopened.root.read("f64", as: Double.self), [Double.pi, -1e300])
        XCTAssertEqual(try reopened.root.read("i8", as: Int8.self), [Int8.min, 0, Int8.max])
        XCTAssertEqual(try reopened.root.read("u8", as: UInt8.self), [0, 128, 255])
        XCTAssertEqual(try reopened.root.read("i32", as: Int32.self), [Int32.min, 7, Int32.max])
        XCTAssertEqual(try reopened.root.read("i64", as: Int64.self), [Int64.min, 7, Int64.max])
        let matrix = try reopened.root.dataset("/nested/matrix")
        XCTAssertEqual(matrix.shape, [4, 3])
        XCTAssertEqual(try matrix.readRows(1..<3, as: Float.self), [3, 4, 5, 6, 7, 8])
        XCTAssertEqual(try reopened.root.readStrings("strings"), ["plain", "Borůvka", "日本語の動画", ""])
        let empty = try reopened.root.dataset("empty")
        XCTAssertEqual(empty.shape, [0, 5])
        XCTAssertEqual(try empty.read(as: Float.self), [])
    }
}
