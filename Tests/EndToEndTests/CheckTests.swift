import Artifacts
import Foundation
import TestSupport
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

    /// Every damaged file the artifact fuzz target found (Tests/FuzzTests/Regressions/artifact/,
    /// also replayed in-process by FuzzTests) is refused by gcml-check: exit 1, a message naming
    /// the file, no crash, and a peak resident memory far below what the damage declared (some
    /// of these made the check take 2.5–24 GB before their declared sizes were bounded).
    func testDamagedFilesTheFuzzerFoundAreRefusedInBoundedMemory() throws {
        let time = "/usr/bin/time"   // installed by scripts/install-deps.sh
        guard FileManager.default.isExecutableFile(atPath: time) else { throw XCTSkip("\(time) is not installed") }
        let folder = Executables.repository + "/Tests/FuzzTests/Regressions/artifact"
        let inputs = try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }.sorted()
        XCTAssertGreaterThanOrEqual(inputs.count, 13)
        for input in inputs {
            let path = folder + "/" + input
            let result = try Subprocess.run(URL(fileURLWithPath: time),
                                            ["-f", "gcml-peak-kb %M", Executables.folder.appendingPathComponent("gcml-check").path, path],
                                            environment: ["GCML_QUIET": "1"])
            XCTAssertEqual(result.status, 1, "\(input): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(path), "\(input): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("Fatal error") || result.stderr.contains("Backtrace") || result.stderr.contains("signal"),
                           "\(input): \(result.stderr)")
            let peak = result.stderr.components(separatedBy: "\n").last { $0.hasPrefix("gcml-peak-kb ") }
                .flatMap { Int($0.dropFirst("gcml-peak-kb ".count)) }
            XCTAssertLessThan(try XCTUnwrap(peak, "\(input): no peak memory in \(result.stderr)"), 512 * 1024, input)
        }
    }
}
