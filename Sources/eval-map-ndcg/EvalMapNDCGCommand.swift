import ArgumentParser
import Artifacts
import Contracts
import Distributed
import LinearAlgebra
import Metrics
import StageKit
import Support

@main
struct EvalMapNDCGCommand: Stage {
    static let configuration = CommandConfiguration(
        commandName: "eval-map-ndcg",
        abstract: "Related-video retrieval on the graph's held-out edges: MAP and NDCG@k of cosine rankings.",
        discussion: """
        Reads any per-video vectors (gcml.embeddings/1 by default, or FILE:/dataset such as \
        features.h5:/visual) and gcml.graph/1; writes gcml.eval.retrieval/1. Under mpirun or srun the \
        queries are split over the ranks (one artifact, the same numbers). See docs/evaluation.md.
        """)

    @Option(help: "Vectors as FILE[:/dataset] (float32 [N,D]; default dataset /embedding).") var vectors: String
    @Option(help: "Relational graph (gcml.graph/1).") var graph: String
    @Option(help: "Output (gcml.eval.retrieval/1).") var out: String
    @Option(help: "Cut-off of NDCG@k, and list length with --candidates all.") var k = 60
    @Option(help: "heldout+random: held-out neighbours and random non-neighbours; all: the whole corpus, exactly.")
    var candidates: RetrievalEvaluation.Candidates = .heldoutRandom
    @Option(help: "Random non-neighbours per query (heldout+random).") var negatives = 100
    @Option(help: "heldout-nodes (cold-start), heldout-edges (warm) or both.") var queries: RetrievalEvaluation.Queries = .both
    @Option(help: "Evaluate at most this many queries: a uniform sample drawn with --seed (the same for every method of a graph).")
    var maxQueries: Int?
    @Option(help: "Also write the summary as JSON here.") var json: String?
    @OptionGroup var seed: SeedOption<SeedZero>
    @OptionGroup var threads: ThreadsOption

    func validate() throws {
        guard k >= 1 else { throw ValidationError("--k must be at least 1, found \(k)") }
        guard negatives >= 0 else { throw ValidationError("--negatives must be 0 or more, found \(negatives)") }
        if let maxQueries, maxQueries < 1 { throw ValidationError("--max-queries must be at least 1, found \(maxQueries)") }
    }

    func execute() throws {
        let world = Communicator.world
        try onEveryRank(world) {
            // Only rank 0 locks and publishes the outputs; every rank ranks its share of the queries.
            let publication = try publication(on: world, outputs: [("--out", out), ("--json", json)],
                                                             inputs: [("--vectors", VideoVectors.parse(vectors, defaultDataset: "/embedding").path),
                                                                      ("--graph", graph)])
            defer { publication?.close() }
            let relational = try RelationalGraph.read(graph)
            var input = try VideoVectors.read(vectors, defaultDataset: "/embedding")
            try input.checkAligned(with: relational.videoIDs, of: graph)
            let zeros = input.normalizeRows()
            if zeros > 0 && world.isRoot { note("\(zeros) zero vectors in \(vectors) score 0 against every video") }
            let evaluation = RetrievalEvaluation(k: k, candidates: candidates, negatives: negatives, queries: queries,
                                                 maxQueries: maxQueries, seed: seed.seed, threads: threads.threads, communicator: world)
            let result = try evaluation.evaluate(vectors: input.values, dimension: input.dimension, graph: relational, graphPath: graph,
                                                 progress: progress)
            try (publication?.writer ?? writer).write(out, schema: .retrieval, inputs: [input.path, graph], layout: RetrievalResult.partLayout,
                                                      communicator: world) { file in try result.write(to: file) }
            guard let publication else { return }
            if let json { try publication.writeJSON(json, result.json) }
            try publication.commit()
            print(result.summary)
        }
    }
}
