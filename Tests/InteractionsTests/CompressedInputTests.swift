import Contracts
import Foundation
import Graphs
import Interactions
import Support
import XCTest

final class CompressedInputTests: XCTestCase {
    /// Compresses `path` with a CLI (`gzip -k`, `zstd -q`) and returns the new file.
    private func compress(_ path: String, with tool: String, arguments: [String], suffix: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments + [path]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "\(tool) failed")
        return path + suffix
    }

    private func sessionText(lines: Int) -> (String, [String]) {
        var random = SeededGenerator(seed: 4)
        let ids = (0..<500).map { "vid\($0)" }
        let text = (0..<lines).map { "s\($0 / 9)\t\(ids[random.below(ids.count)])\n" }.joined()
        return (text, ids)
    }

    func testGzipAndZstdSessionsEqualThePlainFile() throws {
        // Large enough to span several decoder and line buffers.
        let (text, ids) = sessionText(lines: 400_000)
        let folder = try GraphFixtures.folder()
        let plain = folder + "/sessions.tsv"
        try GraphFixtures.write(text, to: plain)
        let gz = try compress(plain, with: "gzip", arguments: ["-k", "-f"], suffix: ".gz")
        let zst = try compress(plain, with: "zstd", arguments: ["-q", "-f"], suffix: ".zst")
        let index = try VideoIndex(ids: ids)
        let reference = try Interactions.countSessions(path: plain, index: index, window: 4)
        XCTAssertEqual(try TextInput(path: plain).compression, .none)
        for (path, kind) in [(gz, TextInput.Compression.gzip), (zst, .zstd)] {
            XCTAssertEqual(try TextInput(path: path).compression, kind)
            let other = try Interactions.countSessions(path: path, index: index, window: 4)
            XCTAssertEqual(other.report, reference.report, path)
            XCTAssertEqual(UndirectedEdges.from(other.pairs, nodes: ids.count, weighting: .count),
                           UndirectedEdges.from(reference.pairs, nodes: ids.count, weighting: .count), path)
        }
        XCTAssertEqual(reference.report.lines, 400_000)
    }

    func testConcatenatedGzipMembersAreReadWhole() throws {
        let folder = try GraphFixtures.folder()
        try GraphFixtures.write("a\tb\t1\n", to: folder + "/one.tsv")
        try GraphFixtures.write("b\tc\t2\n", to: folder + "/two.tsv")
        let one = try compress(folder + "/one.tsv", with: "gzip", arguments: ["-f"], suffix: ".gz")
        let two = try compress(folder + "/two.tsv", with: "gzip", arguments: ["-f"], suffix: ".gz")
        let both = folder + "/both.tsv.gz"
        try (try Data(contentsOf: URL(fileURLWithPath: one)) + Data(contentsOf: URL(fileURLWithPath: two))).write(to: URL(fileURLWithPath: both))
        let counted = try Interactions.countPairs(path: both, index: try VideoIndex(ids: ["a", "b", "c"]))
        XCTAssertEqual(UndirectedEdges.from(counted.pairs, nodes: 3, weighting: .count).weight, [1, 2])
    }

    func testTruncatedCompressedInputIsAnError() throws {
        let (text, _) = sessionText(lines: 50_000)
        for (tool, args, suffix) in [("gzip", ["-k", "-f"], ".gz"), ("zstd", ["-q", "-f"], ".zst")] {
            let folder = try GraphFixtures.folder()
            try GraphFixtures.write(text, to: folder + "/s.tsv")
            let packed = try compress(folder + "/s.tsv", with: tool, arguments: args, suffix: suffix)
            let data = try Data(contentsOf: URL(fileURLWithPath: packed))
            try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: packed))
            XCTAssertThrowsError(try TextInput(path: packed).forEachLine { _, _ in }, tool)
        }
    }

    func testMissingFileIsAnErrorNamingIt() {
        XCTAssertThrowsError(try TextInput(path: "/nonexistent/sessions.tsv")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/sessions.tsv"))
        }
    }
}
