import Artifacts
import Foundation
import XCTest

final class CheckTests: XCTestCase {
    func testCheckSummarisesValidFilesAndRejectsInvalidOnes() throws {
        let folder = try Executables.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let good = folder + "/triplets.h5", bad = folder + "/bad.h5"
        try Artifact.write(good, schema: .triplets, createdBy: "test", parameters: ["count": 3]) { file in
            for name in ["anchor", "positive", "negative"] { try file.root.write(name, [Int32(0), 1, 2]) }
            try file.root.write(DatasetPath.Triplets.negativeLevel, [Int8(1), 0, 2])
            try file.root.setAttribute("fallbacks", .int(4))
        }
        let file = try HDF5File.create(bad)
        try file.root.setAttribute("schema", .string("gcml.triplets/1"))
        try file.root.write(DatasetPath.Triplets.anchor, [Int32(0)])
        try file.close()

        let ok = try Executables.succeed("gcml-check", [good])
        XCTAssertTrue(ok.stdout.contains("gcml.triplets/1"))
        XCTAssertTrue(ok.stdout.contains("/negative_level") && ok.stdout.contains("int8") && ok.stdout.contains("[3]"), ok.stdout)
        XCTAssertTrue(ok.stdout.contains("created_by") && ok.stdout.contains("\"count\":3"), ok.stdout)

        let failed = try Executables.run("gcml-check", [good, bad])
        XCTAssertEqual(failed.status, 1)
        XCTAssertTrue(failed.stderr.contains("bad.h5") && failed.stderr.contains("/positive"), failed.stderr)

        let attribute = try Executables.succeed("gcml-check", ["--print-attribute", "fallbacks", good])
        XCTAssertEqual(attribute.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "4")
    }
}
