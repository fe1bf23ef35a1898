import XCTest

/// Every stage's --help names the schemas it reads and writes (a user reads them there first).
final class HelpTests: XCTestCase {
    static let schemas: [(stage: String, reads: [String], writes: [String])] = [
        ("gcml-synth", [], ["gcml.frames/1", "gcml.features/1", "gcml.truth/1"]),
        ("gcml-import", [], ["gcml.frames/1", "gcml.features/1"]),
        ("extract-pca", ["gcml.frames/1", "gcml.pca/1"], ["gcml.features/1", "gcml.pca/1"]),
        ("build-graph", ["gcml.features/1"], ["gcml.graph/1"]),
        ("affinity-tree", ["gcml.graph/1"], ["gcml.tree/1"]),
        ("sample-triplets", ["gcml.graph/1", "gcml.tree/1"], ["gcml.triplets/1"]),
        ("train-embed", ["gcml.features/1", "gcml.triplets/1", "gcml.tree/1", "gcml.graph/1"], ["gcml.model/1", "gcml.embeddings/1"]),
        ("eval-map-ndcg", ["gcml.embeddings/1", "gcml.graph/1"], ["gcml.eval.retrieval/1"]),
        ("eval-gap", ["gcml.embeddings/1", "gcml.features/1", "gcml.frames/1"], ["gcml.eval.annotation/1"]),
        ("gcml-report", ["gcml.eval.retrieval/1", "gcml.eval.annotation/1", "gcml.model/1", "gcml.tree/1", "gcml.truth/1"], []),
        ("gcml-check", ["frames", "graph", "tree", "eval.annotation"], []),
    ]

    func testEveryStageHelpNamesItsInputAndOutputSchemas() throws {
        for (stage, reads, writes) in Self.schemas {
            let help = try Executables.succeed(stage, ["--help"]).stdout
            for schema in reads + writes {
                XCTAssertTrue(help.contains(schema), "\(stage) --help does not name \(schema):\n\(help)")
            }
        }
    }

    func testOldSpellingsAreHiddenFromHelp() throws {
        for (stage, old) in [("train-embed", "--lr"), ("train-embed", "--batch "), ("build-graph", "--top-k"), ("extract-pca", "--level"),
                             ("gcml-import", "--level")] {
            let help = try Executables.succeed(stage, ["--help"]).stdout
            XCTAssertFalse(help.contains(old), "\(stage) --help shows the old spelling \(old)")
        }
    }
}
