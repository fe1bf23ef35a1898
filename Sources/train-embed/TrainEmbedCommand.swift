import ArgumentParser
import Artifacts
import Contracts
import Embedding
import Foundation
import Support

@main
struct TrainEmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-embed",
        abstract: "Train the two-tower audio-visual embedding with triplets or cluster pseudo-labels.",
        discussion: """
            Reads gcml.features/1 and gcml.triplets/1 (triplet loss with in-batch mining) or gcml.tree/1
            (classification of each video's cluster at --classify-level, sampled softmax with --sampled K).
            Writes gcml.model/1 (weights, Adam state, history; rewritten atomically at checkpoints) and,
            with --embeddings, gcml.embeddings/1 for every video. See docs/train-embed.md.
            """)

    @Option(help: "Video features (gcml.features/1).") var features: String
    @Option(help: "Training triplets (gcml.triplets/1).") var triplets: String?
    @Option(help: "Cluster tree (gcml.tree/1) for classification.") var tree: String?
    @Option(help: "Tree level whose clusters are the classes (1 = finest).") var classifyLevel: Int?
    @Option(help: "Clusters smaller than this get no class; their videos are not trained on.") var minClusterSize = 2
    @Option(help: "Output model (gcml.model/1).") var out: String
    @Option(help: "Also write embeddings of all videos (gcml.embeddings/1).") var embeddings: String?
    @Option(help: "Visual tower hidden width.") var hidden = 1024
    @Option(help: "Audio tower hidden width.") var audioHidden = 256
    @Option(help: "Embedding dimension.") var dim = 256
    @Option(help: "Triplets (or videos, when classifying) per step.") var batch = 256
    @Option(help: "Training steps in total (resumed ones included).") var steps: Int?
    @Option(help: "Epochs over the triplets / labelled videos (instead of --steps).") var epochs: Double?
    @Option(help: "Adam learning rate.") var lr = 1e-3
    @Option(help: "Adam beta1.") var beta1 = 0.9
    @Option(help: "Adam beta2.") var beta2 = 0.999
    @Option(help: "Adam epsilon.") var epsilon = 1e-8
    @Option(help: "Linear learning-rate warm-up steps.") var warmup = 0
    @Flag(help: "Cosine decay of the learning rate to 0 at the last step.") var cosine = false
    @Option(help: "Clip the global gradient norm to this value.") var clip: Double?
    @Option(help: "Triplet margin.") var margin = 0.2
    @Option(help: "Negative mining in the batch: semihard, hard or none.") var mining = "semihard"
    @Option(help: "Sampled softmax with K candidate classes (default: full softmax).") var sampled: Int?
    @Option(help: "Sampled-softmax proposal: uniform or log-uniform (classes ranked by size).") var proposal = "uniform"
    @Option(help: "Relational graph (gcml.graph/1) whose train edges are never mined as negatives (default: the --validate graph).")
    var graph: String?
    @Option(help: "Relational graph (gcml.graph/1) for held-out retrieval MAP during training.") var validate: String?
    @Option(help: "Validate every N steps.") var validateEvery = 100
    @Option(help: ArgumentHelp("Also validate at these steps: 'log' (10, 20, 50, 100, 200, 500 … below --validate-every) or a list like 10,20,50.",
                               valueName: "log|STEPS")) var validateAt: String?
    @Flag(help: "Also rank the validation queries against the whole corpus (harder; /history/validation_map_full_corpus).")
    var validateFullCorpus = false
    @Option(help: "Held-out queries in the validation sample.") var validateQueries = 500
    @Option(help: "Seed of the validation sample (default: --seed); fix it to validate runs of different seeds on the same queries.")
    var validateSeed: UInt64?
    @Option(help: "Log the mean loss every N steps.") var logEvery = 10
    @Option(help: "Rewrite model.h5 every N steps (0 = only at the end).") var checkpointEvery = 0
    @Flag(help: "Continue from --out (weights, optimiser, step, generator, history).") var resume = false
    @Option(help: "BLAS threads.") var threads = 1
    @Option(help: "Random seed.") var seed: UInt64 = 1

    func run() throws {
        Trainer.threads = threads
        let table = try FeatureTable.read(features)
        let task = try TrainingTask.load(triplets: triplets, tree: tree, level: classifyLevel, minimumClusterSize: minClusterSize,
                                         graph: graph ?? validate, videos: table.count, featuresPath: features)
        var options = TrainingOptions()
        options.visualHidden = hidden
        options.audioHidden = audioHidden
        options.dim = dim
        options.batch = batch
        options.adam = AdamSettings(learningRate: lr, beta1: beta1, beta2: beta2, epsilon: epsilon, warmup: warmup, cosine: cosine)
        options.clipNorm = clip
        options.margin = margin
        guard let miningMode = Mining(rawValue: mining) else { throw GCMLError("--mining: expected semihard, hard or none, found \(mining)") }
        options.mining = miningMode
        guard let proposalKind = Proposal(rawValue: proposal) else {
            throw GCMLError("--proposal: expected uniform or log-uniform, found \(proposal)")
        }
        options.proposal = proposalKind
        options.sampled = sampled
        options.logEvery = logEvery
        options.validateEvery = validate == nil ? 0 : validateEvery
        if let validateAt, validate != nil {
            options.validateAt = try ValidationSchedule.parse(validateAt, every: validateEvery).extra
        }
        options.checkpointEvery = checkpointEvery
        options.seed = seed
        switch (steps, epochs) {
        case (let s?, nil): options.steps = s
        case (nil, let e?): options.steps = max(1, Int((e * Double(task.exampleCount) / Double(batch)).rounded(.up)))
        case (nil, nil): options.steps = max(1, Int((Double(task.exampleCount) / Double(batch)).rounded(.up)))
        default: throw GCMLError("give --steps or --epochs, not both")
        }

        let trainer = try Trainer(features: table, task: task, options: options)
        if resume {
            if FileManager.default.fileExists(atPath: out) {
                try Checkpoint.restore(trainer, from: out)
                note("train-embed: resuming \(out) at step \(trainer.step) of \(options.steps)")
            } else {
                note("train-embed: --resume: \(out) does not exist yet, starting at step 0")
            }
        }
        let validation = try validate.map {
            try RetrievalValidation.readWithFullCorpus($0, videos: table.count, featuresPath: features, queries: validateQueries, seed: validateSeed ?? seed)
        }
        let inputs = [features] + [triplets, tree, graph, validate].compactMap { $0 }
        var saved: Int? = resume && FileManager.default.fileExists(atPath: out) ? trainer.step : nil
        let write: (Trainer) throws -> Void = { trainer in
            try Artifact.write(out, schema: .model, createdBy: "train-embed", parameters: self, inputs: inputs) { file in
                try Checkpoint.write(trainer, to: file)
            }
            saved = trainer.step
        }
        let started = Date()
        let firstStep = trainer.step
        do {
            try trainer.run(validation: validation?.sampled, fullCorpus: validateFullCorpus ? validation?.fullCorpus : nil, checkpoint: write)
        } catch let error as GCMLError {
            let kept = saved.map { "\(out) keeps the last good checkpoint (step \($0))" } ?? "no checkpoint of this run was written"
            throw GCMLError(error.message + " " + kept + ".")
        }
        let seconds = Date().timeIntervalSince(started)
        try write(trainer)
        if let embeddings {
            try Artifact.write(embeddings, schema: .embeddings, createdBy: "train-embed", parameters: self, inputs: [features, out]) { file in
                try EmbeddingExport.write(trainer, to: file)
            }
        }
        let done = trainer.step - firstStep
        var summary = "train-embed: \(done) steps in \(String(format: "%.1f", seconds)) s"
        if done > 0 {
            summary += String(format: " (%.1f steps/s, %.0f examples/s)", Double(done) / seconds, Double(done * trainer.examplesPerStep) / seconds)
        }
        print(summary)
        if let loss = trainer.reportedHistory.loss.last { print(String(format: "final loss %.4f at step %d", loss, trainer.step)) }
        if let map = trainer.history.validationMAP.last, let first = trainer.history.validationMAP.first {
            print(String(format: "validation MAP %.4f (step 0: %.4f)", map, first))
        }
        print("model: \(out)" + (embeddings.map { ", embeddings: \($0)" } ?? ""))
    }
}
