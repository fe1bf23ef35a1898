import ArgumentParser
import Artifacts
import Contracts
import Distributed
import LinearAlgebra
import Metrics
import StageKit
import Support

@main
struct EvalGAPCommand: Stage {
    static let configuration = CommandConfiguration(
        commandName: "eval-gap",
        abstract: "Video annotation with a frozen representation: GAP, MAP, Hit@1, Hit@5 and PERR (YouTube-8M definitions).",
        discussion: """
        Trains one sigmoid FC layer (BCE, Adam, L2) on the training videos' vectors and scores the test \
        videos. Reads any per-video vectors (gcml.embeddings/1 by default, or FILE:/dataset) and labels \
        from gcml.features/1 or gcml.frames/1; \
        writes gcml.eval.annotation/1. Under mpirun or srun the classifier is trained data-parallel and the \
        test videos are split over the ranks (one artifact). See docs/evaluation.md.
        """)

    enum Defaults: OptimiserDefaults {
        static let learningRate = 0.01, batchSize = 256, epochs: Double? = 10
    }

    @Option(help: "Vectors as FILE[:/dataset] (float32 [N,D]; default dataset /embedding).") var vectors: String
    @Option(help: "Labels: features.h5 or frames.h5 with /video_id and /labels.") var labels: String
    @Option(help: "Output (gcml.eval.annotation/1).") var out: String
    @Option(help: "Fraction of videos (by stable hash of the id) held out for testing, unless the labels file has /split.")
    var testFraction = 0.2
    @OptionGroup var optimiser: OptimiserOptions<Defaults>
    @Option(help: "L2 penalty on the weights.") var l2: Float = 1e-5
    @Option(help: "Gradient blocks per batch, computed separately and summed in float64: the unit split over ranks, so up to this many ranks give one process's numbers (default: 4, or the number of ranks if larger; at least the number of ranks).")
    var gradientBlocks: Int?
    @Option(help: "Predictions per video entering GAP and MAP (YouTube-8M: 20).") var topK = 20
    @Flag(help: "Also write all test predictions [M,C] to /predictions.") var savePredictions = false
    @Option(help: "Also write the summary as JSON here.") var json: String?
    @OptionGroup var seed: SeedOption<SeedZero>
    @OptionGroup var threads: ThreadsOption

    func validate() throws {
        guard testFraction > 0 && testFraction < 1 else { throw ValidationError("--test-fraction must be in (0, 1), found \(testFraction)") }
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1, found \(topK)") }
        if let gradientBlocks, gradientBlocks < 1 { throw ValidationError("--gradient-blocks must be at least 1, found \(gradientBlocks)") }
        guard l2 >= 0, l2.isFinite else { throw ValidationError("--l2 must be a finite number >= 0, found \(l2)") }
        guard let epochs = optimiser.epochCount, epochs == epochs.rounded() else {
            throw ValidationError("--epochs must be a whole number here, found \(optimiser.epochCount ?? 0)")
        }
    }

    func execute() throws {
        let world = Communicator.world
        try onEveryRank(world) {
            // Only rank 0 locks and publishes the outputs; the ranks share the test videos.
            let publication = try publication(on: world, outputs: [("--out", out), ("--json", json)],
                                                             inputs: [("--vectors", VideoVectors.parse(vectors, defaultDataset: "/embedding").path),
                                                                      ("--labels", labels)])
            defer { publication?.close() }
            let videoLabels = try VideoLabels.read(labels)
            let input = try VideoVectors.read(vectors, defaultDataset: "/embedding")
            let options = AnnotationClassifier.Options(epochs: Int(optimiser.epochCount ?? 0), batchSize: optimiser.batchSize,
                                                       learningRate: Float(optimiser.learningRate), l2: l2, seed: seed.seed,
                                                       gradientBlocks: gradientBlocks)
            var evaluation = AnnotationEvaluation(testFraction: testFraction, topK: topK, savePredictions: savePredictions, classifier: options,
                                                  threads: threads.threads)
            evaluation.communicator = world
            let result = try evaluation.evaluate(vectors: input, labels: videoLabels, progress: progress)
            try (publication?.writer ?? writer).write(out, schema: .annotation, inputs: [input.path, labels], layout: AnnotationResult.partLayout,
                                                      communicator: world) { file in try result.write(to: file) }
            guard let publication else { return }
            if let json { try publication.writeJSON(json, result.json) }
            try publication.commit()
            print(result.summary)
        }
    }
}
