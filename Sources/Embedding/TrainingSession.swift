import Artifacts
import Contracts
import Distributed
import Foundation
import Support

/// One training run as the train-embed stage asks for it: reads the features and
/// the task, turns epochs into steps, resumes from a checkpoint when asked, trains
/// with periodic checkpoints, and writes the model (and the embeddings).
public struct TrainingSession {
    public var featuresPath: String
    public var tripletsPath: String?
    public var treePath: String?
    public var classifyLevel: Int?
    public var minimumClusterSize = 2
    /// Graph whose train edges are never mined as negatives (default: the validation graph).
    public var graphPath: String?
    /// Graph for held-out retrieval MAP during training, and how many queries it samples.
    public var validationPath: String?
    public var validationQueries = 500
    /// Seed of the validation sample (default: the training seed), so runs of different seeds validate on the same queries.
    public var validationSeed: UInt64?
    /// Also rank the validation queries against the whole corpus (`/history/validation_map_full_corpus`).
    public var validateFullCorpus = false
    public var options = TrainingOptions()
    /// Steps in total (resumed ones included), or epochs over the examples; neither: one epoch.
    public var steps: Int?
    public var epochs: Double?
    /// Continue from `modelPath` when it exists; the options it was trained with must be the
    /// current ones unless `forceResume`.
    public var resume = false
    public var forceResume = false
    public var modelPath: String
    public var embeddingsPath: String?
    /// The ranks sharing the work (each batch, the validation sample, the embeddings' rows).
    public var communicator = Communicator.serial

    public init(featuresPath: String, modelPath: String) {
        self.featuresPath = featuresPath
        self.modelPath = modelPath
    }

    /// Steps for `examples` training examples: `steps`, or the epochs' worth of batches (at least 1).
    public func totalSteps(examples: Int) throws -> Int {
        switch (steps, epochs) {
        case (let s?, nil): return s
        case (nil, let e): return max(1, Int(((e ?? 1) * Double(examples) / Double(options.batch)).rounded(.up)))
        default: throw GCMLError("give \(parameter: "steps") or \(parameter: "epochs"), not both")
        }
    }

    /// Trains and writes the artifacts; returns the summary to print.
    public func run(writer: ArtifactWriter) throws -> String {
        let table = try FeatureTable.read(featuresPath)
        for graph in Set([graphPath, validationPath].compactMap { $0 }).sorted() {
            try Self.checkSameVideos(graph: graph, as: table.videoIDs, featuresPath: featuresPath)
        }
        let task = try TrainingTask.load(triplets: tripletsPath, tree: treePath, level: classifyLevel, minimumClusterSize: minimumClusterSize,
                                         graph: graphPath ?? validationPath, videos: table.count, featuresPath: featuresPath)
        var options = self.options
        if validationPath == nil { (options.validateEvery, options.validateAt) = (0, []) }
        options.steps = try totalSteps(examples: task.exampleCount)
        let trainer = try Trainer(features: table, task: task, options: options, communicator: communicator)
        let resuming = resume && FileManager.default.fileExists(atPath: modelPath)
        let inputs = [featuresPath] + [tripletsPath, treePath, graphPath, validationPath].compactMap { $0 }
        if resuming {
            if !forceResume { try refuseChangedOptions(inputs: inputs) }
            // Every rank restores the same state: the replicas start equal whatever N wrote the checkpoint.
            try Checkpoint.restore(trainer, from: modelPath)
            if communicator.isRoot { note("\(writer.createdBy): resuming \(modelPath) at step \(trainer.step) of \(options.steps)") }
        } else if resume && communicator.isRoot {
            note("\(writer.createdBy): \(modelPath) does not exist yet, starting at step 0")
        }
        let validation = try validationPath.map {
            try RetrievalValidation.readWithFullCorpus($0, videos: table.count, featuresPath: featuresPath, queries: validationQueries,
                                                       seed: validationSeed ?? options.seed)
        }
        var saved: Int? = resuming ? trainer.step : nil
        // The replicas are equal, so rank 0 alone writes the model; a failure there ends the job.
        let communicator = self.communicator
        let checkpoint: (Trainer) throws -> Void = { trainer in
            try communicator.agree(writer.createdBy) {
                guard communicator.isRoot else { return }
                try writeModel(trainer, writer: writer, inputs: inputs)
                try writer.publish()
            }
            saved = trainer.step
        }
        let started = Date()
        let firstStep = trainer.step
        do {
            try trainer.run(validation: validation?.sampled, fullCorpus: validateFullCorpus ? validation?.fullCorpus : nil, progress: writer.progress, checkpoint: checkpoint)
        } catch let error as GCMLError {
            let kept = saved.map { "\(modelPath) keeps the last good checkpoint (step \($0))" } ?? "no checkpoint of this run was written"
            throw error.appending(" " + kept + ".")
        }
        let seconds = Date().timeIntervalSince(started)
        // The final model and its embeddings are published together (rank 0 holds the publication).
        try communicator.agree(writer.createdBy) {
            if communicator.isRoot { try writeModel(trainer, writer: writer, inputs: inputs) }
        }
        if let embeddingsPath {
            // Rows split over ranks (whole gradient blocks), one part each, joined into one artifact.
            let rows = trainer.embeddingShare(of: table.count)
            try writer.write(embeddingsPath, schema: .embeddings, inputs: [featuresPath, modelPath], layout: EmbeddingsWriter.partLayout,
                             communicator: communicator) { file in
                try EmbeddingExport.write(trainer, rows: rows, to: file)
            }
        }
        try writer.publish()
        return Self.summary(trainer, steps: trainer.step - firstStep, seconds: seconds, model: modelPath, embeddings: embeddingsPath)
    }

    /// The options that define the trained model, by library parameter key; recorded in
    /// model.h5 (root attribute `training_options`) and compared on --resume.
    var trainingRecord: [String: Any] {
        let o = options
        return ["features": featuresPath, "triplets": tripletsPath ?? NSNull(), "tree": treePath ?? NSNull(),
                "classifyLevel": classifyLevel ?? NSNull(), "minimumClusterSize": minimumClusterSize,
                "graph": graphPath ?? validationPath ?? NSNull(), "visualHidden": o.visualHidden, "audioHidden": o.audioHidden,
                "dim": o.dim, "batch": o.batch, "learningRate": o.adam.learningRate, "beta1": o.adam.beta1, "beta2": o.adam.beta2,
                "epsilon": o.adam.epsilon, "warmup": o.adam.warmup, "cosine": o.adam.cosine, "clipNorm": o.clipNorm ?? NSNull(),
                "margin": o.margin, "mining": o.mining.rawValue, "sampled": o.sampled ?? NSNull(), "proposal": o.proposal.rawValue,
                "seed": String(o.seed)]
    }

    /// A graph's rows are the videos of features.h5 in the same order (contract v1).
    static func checkSameVideos(graph: String, as ids: [String], featuresPath: String) throws {
        let graphIDs = try RelationalGraph.readVideoIDs(graph)
        guard graphIDs.count == ids.count else {
            throw GCMLError(file: graph, object: "/video_id", expected: "\(ids.count) videos (as in \(featuresPath))", found: "\(graphIDs.count)")
        }
        if let row = graphIDs.indices.first(where: { graphIDs[$0] != ids[$0] }) {
            throw GCMLError(file: graph, object: "/video_id", expected: "the videos of \(featuresPath) in the same order",
                            found: "'\(graphIDs[row])' at row \(row) where \(featuresPath) has '\(ids[row])'")
        }
    }

    static let trainingRecordAttribute = "training_options"

    private func writeModel(_ trainer: Trainer, writer: ArtifactWriter, inputs: [String]) throws {
        try writer.write(modelPath, schema: .model, inputs: inputs, ranks: communicator.size) { file in
            try Checkpoint.write(trainer, to: file)
            try file.root.setAttribute(Self.trainingRecordAttribute, json: trainingRecord)
        }
    }

    /// A resume continues the run that wrote the model; other options or changed input files
    /// would silently train another model. Models without a record are not judged.
    private func refuseChangedOptions(inputs: [String]) throws {
        let file = try HDF5File.open(modelPath)
        defer { try? file.close() }
        var changes: [GCMLError.Text] = []
        if let recorded = try file.root.jsonAttribute(Self.trainingRecordAttribute) {
            for (key, value) in trainingRecord.sorted(by: { $0.key < $1.key }) {
                let was = JSON.string(recorded[key] ?? NSNull()), now = JSON.string(value)
                if was != now { changes.append("\(parameter: key) was \(was), now \(now)") }
            }
        }
        for (path, change) in try Provenance.changedInputs(in: file, paths: inputs) {
            changes.append("\(path) changed since (\(change))")
        }
        guard let first = changes.first else { return }
        let list = changes.dropFirst().reduce(first) { $0 + "; " + $1 }
        let head: GCMLError.Text = "\(modelPath) was trained with other options or inputs ("
        let tail: GCMLError.Text = "); resume with the same ones, or \(parameter: "forceResume") to continue anyway"
        throw GCMLError(head + list + tail)
    }

    static func summary(_ trainer: Trainer, steps done: Int, seconds: Double, model: String, embeddings: String?) -> String {
        var lines = ["\(done) steps in \(String(format: "%.1f", seconds)) s"]
        if done > 0 {
            lines[0] += String(format: " (%.1f steps/s, %.0f examples/s)", Double(done) / seconds, Double(done * trainer.examplesPerStep) / seconds)
        }
        if done > 0 && trainer.communicator.size > 1 {
            let share = trainer.stepSeconds > 0 ? 100 * trainer.communicationSeconds / trainer.stepSeconds : 0
            lines.append("collectives: \(trainer.communicatedBytes / done) bytes per step on rank \(trainer.communicator.rank) of \(trainer.communicator.size), "
                         + String(format: "%.1f %% of the step time inside them", share))
        }
        if let loss = trainer.reportedHistory.loss.last { lines.append(String(format: "final loss %.4f at step %d", loss, trainer.step)) }
        if let map = trainer.history.validationMAP.last, let first = trainer.history.validationMAP.first {
            lines.append(String(format: "validation MAP %.4f (step 0: %.4f)", map, first))
        }
        lines.append("model: \(model)" + (embeddings.map { ", embeddings: \($0)" } ?? ""))
        return lines.joined(separator: "\n")
    }
}
