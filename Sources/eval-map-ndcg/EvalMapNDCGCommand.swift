import ArgumentParser
import Artifacts
import Contracts
import Foundation
import Graphs
import LinearAlgebra
import Metrics
import Support

extension RetrievalEvaluation.Candidates: ExpressibleByArgument {}
extension RetrievalEvaluation.Queries: ExpressibleByArgument {}

@main
struct EvalMapNDCGCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-map-ndcg",
        abstract: "Related-video retrieval on the graph's held-out edges: MAP and NDCG@k of cosine rankings.",
        discussion: """
        Reads any per-video vectors (gcml.embeddings/1 by default, or FILE:/dataset such as \
        features.h5:/visual) and gcml.graph/1; writes gcml.eval.retrieval/1. See docs/evaluation.md.
        """)

    @Option(help: "Vectors as FILE[:/dataset] (float32 [N,D]; default dataset /embedding).") var vectors: String
    @Option(help: "Relational graph (gcml.graph/1).") var graph: String
    @Option(help: "Output (gcml.eval.retrieval/1).") var out: String
    @Option(help: "Cut-off of NDCG@k, and list length with --candidates all.") var k = 60
    @Option(help: "heldout+random: held-out neighbours and random non-neighbours; all: the whole corpus, exactly.")
    var candidates: RetrievalEvaluation.Candidates = .heldoutRandom
    @Option(help: "Random non-neighbours per query (heldout+random).") var negatives = 100
    @Option(help: "heldout-nodes (cold-start), heldout-edges (warm) or both.") var queries: RetrievalEvaluation.Queries = .both
    @Option(help: "Also write the summary as JSON here.") var json: String?
    @Option(help: "Seed of the random negatives.") var seed: UInt64 = 0
    @Option(help: "Threads for BLAS and the ranking scan.") var threads: Int?

    func run() throws {
        if let threads { BLAS.threads = threads }
        let relational = try RelationalGraph.read(graph)
        var input = try VideoVectors.read(vectors, defaultDataset: "/embedding")
        try input.checkAligned(with: relational.videoIDs, of: graph)
        let zeros = input.normalizeRows()
        if zeros > 0 { note("eval-map-ndcg: \(zeros) zero vectors in \(vectors) score 0 against every video") }
        let evaluation = RetrievalEvaluation(k: k, candidates: candidates, negatives: negatives, queries: queries,
                                             seed: seed, threads: threads ?? BLAS.threads)
        let result = try evaluation.evaluate(vectors: input.values, dimension: input.dimension, graph: relational, graphPath: graph)
        try Artifact.write(out, schema: .retrieval, createdBy: "eval-map-ndcg", parameters: self, inputs: [input.path, graph]) { file in
            try result.write(to: file)
        }
        if let json { try JSON.write(result.json, to: json) }
        print(result.summary)
    }
}
