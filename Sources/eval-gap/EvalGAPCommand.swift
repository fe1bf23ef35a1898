import ArgumentParser
import Artifacts
import Contracts
import Foundation
import LinearAlgebra
import Metrics
import Support

@main
struct EvalGAPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-gap",
        abstract: "Video annotation with a frozen representation: GAP, MAP, Hit@1, Hit@5 and PERR (YouTube-8M definitions).",
        discussion: """
        Trains one sigmoid FC layer (BCE, Adam, L2) on the training videos' vectors and scores the test \
        videos. Reads any per-video vectors (FILE[:/dataset]) and labels from features.h5 or frames.h5; \
        writes gcml.eval.annotation/1. See docs/evaluation.md.
        """)

    @Option(help: "Vectors as FILE[:/dataset] (float32 [N,D]; default dataset /embedding).") var vectors: String
    @Option(help: "Labels: features.h5 or frames.h5 with /video_id and /labels.") var labels: String
    @Option(help: "Output (gcml.eval.annotation/1).") var out: String
    @Option(help: "Fraction of videos (by stable hash of the id) held out for testing, unless the labels file has /split.")
    var testFraction = 0.2
    @Option(help: "Training epochs.") var epochs = 10
    @Option(help: "L2 penalty on the weights.") var l2: Float = 1e-5
    @Option(help: "Adam learning rate.") var learningRate: Float = 0.01
    @Option(help: "Minibatch size.") var batchSize = 256
    @Option(help: "Predictions per video entering GAP and MAP (YouTube-8M: 20).") var topK = 20
    @Flag(help: "Also write all test predictions [M,C] to /predictions.") var savePredictions = false
    @Option(help: "Also write the summary as JSON here.") var json: String?
    @Option(help: "Seed of the minibatch order.") var seed: UInt64 = 0
    @Option(help: "Threads for BLAS.") var threads: Int?

    func run() throws {
        if let threads { BLAS.threads = threads }
        let videoLabels = try VideoLabels.read(labels)
        let input = try VideoVectors.read(vectors, defaultDataset: "/embedding")
        let options = AnnotationClassifier.Options(epochs: epochs, batchSize: batchSize, learningRate: learningRate, l2: l2, seed: seed)
        let evaluation = AnnotationEvaluation(testFraction: testFraction, topK: topK, savePredictions: savePredictions, classifier: options)
        let result = try evaluation.evaluate(vectors: input, labels: videoLabels)
        try Artifact.write(out, schema: .annotation, createdBy: "eval-gap", parameters: self, inputs: [input.path, labels]) { file in
            try result.write(to: file)
        }
        if let json { try JSON.write(result.json, to: json) }
        print(result.summary)
    }
}
