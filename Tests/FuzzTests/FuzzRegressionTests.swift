import Foundation
import FuzzTargets
import XCTest

/// Every input the fuzzer once crashed on (Tests/FuzzTests/Regressions/<target>/), and the
/// seed corpus, replayed through the same target bodies: each must return, not trap.
final class FuzzRegressionTests: XCTestCase {
    static let regressions = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Regressions")

    private func replay(_ target: String) throws -> Int {
        let folder = Self.regressions.appendingPathComponent(target)
        let files = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []
        for file in files where !file.lastPathComponent.hasPrefix(".") {
            let data = try Data(contentsOf: file)
            data.withUnsafeBytes { FuzzTargets.run(target, $0) }
        }
        return files.count
    }

    func testLineParserRegressionsReturn() throws { _ = try replay("lines") }
    func testTFRecordRegressionsReturn() throws { _ = try replay("tfrecord") }
    func testArtifactRegressionsReturn() throws { _ = try replay("artifact") }
}
