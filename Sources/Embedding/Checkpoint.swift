import Artifacts
import Contracts
import Support

/// model.h5 (`gcml.model/1`): one group per layer (`weight` [out,in], `bias` [out]),
/// the classifier head, Adam moments (`/optimizer/<layer>/weight_m` …, `/optimizer/step`),
/// the generator state (`/state/rng`) and the history. Written whole and atomically, so a
/// checkpoint is always a complete, resumable model.
public enum Checkpoint {
    static func slice(_ buffer: Buffer<Float>, _ offset: Int, _ count: Int) -> [Float] {
        Array(UnsafeBufferPointer(start: buffer.pointer + offset, count: count))
    }

    /// Writes the trainer's state into an open file (inside `Artifact.write`).
    public static func write(_ trainer: Trainer, to file: HDF5File) throws {
        let root = file.root
        let network = trainer.network
        for layer in network.layers {
            let weights = layer.inputs * layer.outputs
            try root.write("\(layer.name)/weight", slice(network.parameters, layer.weight, weights), shape: [layer.outputs, layer.inputs])
            try root.write("\(layer.name)/bias", slice(network.parameters, layer.bias, layer.outputs))
            for (suffix, buffer) in [("m", trainer.networkAdam.m), ("v", trainer.networkAdam.v)] {
                try root.write("optimizer/\(layer.name)/weight_\(suffix)", slice(buffer, layer.weight, weights), shape: [layer.outputs, layer.inputs])
                try root.write("optimizer/\(layer.name)/bias_\(suffix)", slice(buffer, layer.bias, layer.outputs))
            }
        }
        if let head = trainer.head, let adam = trainer.headAdam, case .classification(let labels) = trainer.task {
            try root.write("classifier/weight", head.weight.array, shape: [head.classes, head.dim])
            try root.write("classifier/bias", head.bias.array)
            try root.write("classifier/cluster", labels.cluster)
            try root.write("optimizer/classifier/weight_m", adam.weight.m.array, shape: [head.classes, head.dim])
            try root.write("optimizer/classifier/weight_v", adam.weight.v.array, shape: [head.classes, head.dim])
            try root.write("optimizer/classifier/bias_m", adam.bias.m.array)
            try root.write("optimizer/classifier/bias_v", adam.bias.v.array)
        }
        try root.write("optimizer/step", [Int64(trainer.step)])
        try root.write("state/rng", trainer.generator.stateWords.map { Int64(bitPattern: $0) })
        try root.write("state/loss_window", [trainer.lossWindowState.sum, Double(trainer.lossWindowState.steps)])
        let mining = trainer.miningWindowState
        try root.write("state/mining_window", [mining.ownNegative, mining.active, mining.distance])
        try ModelRun(history: trainer.reportedHistory, steps: trainer.step, wallSeconds: trainer.wallSeconds).write(to: file)
        let shape = network.shape
        try root.setAttribute("architecture", json: [
            "visual_input": shape.visualInput, "visual_hidden": shape.visualHidden, "audio_input": shape.audioInput,
            "audio_hidden": shape.audioHidden, "dim": shape.dim, "classes": trainer.head?.classes ?? 0,
            "combine": shape.hasAudio ? "product" : "visual-only", "normalise": "l2",
        ] as [String: Any])
    }

    /// Restores weights, optimiser state, step, generator and history from `path` into a
    /// trainer built with the same data and options; the sizes must match.
    public static func restore(_ trainer: Trainer, from path: String) throws {
        let file = try Artifact.open(path, as: .model, siblings: .ignore)
        defer { try? file.close() }
        let root = file.root
        func load(_ name: String, into pointer: UnsafeMutablePointer<Float>, count: Int) throws {
            let values: [Float] = try root.read(name)
            guard values.count == count else {
                throw GCMLError(file: path, object: "/" + name, expected: "\(count) values (the model these options build)", found: "\(values.count)")
            }
            values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
        }
        let network = trainer.network
        for layer in network.layers {
            let weights = layer.inputs * layer.outputs
            try load("\(layer.name)/weight", into: network.parameters.pointer + layer.weight, count: weights)
            try load("\(layer.name)/bias", into: network.parameters.pointer + layer.bias, count: layer.outputs)
            for (suffix, buffer) in [("m", trainer.networkAdam.m), ("v", trainer.networkAdam.v)] {
                try load("optimizer/\(layer.name)/weight_\(suffix)", into: buffer.pointer + layer.weight, count: weights)
                try load("optimizer/\(layer.name)/bias_\(suffix)", into: buffer.pointer + layer.bias, count: layer.outputs)
            }
        }
        if let head = trainer.head, let adam = trainer.headAdam {
            try load("classifier/weight", into: head.weight.pointer, count: head.classes * head.dim)
            try load("classifier/bias", into: head.bias.pointer, count: head.classes)
            try load("optimizer/classifier/weight_m", into: adam.weight.m.pointer, count: head.classes * head.dim)
            try load("optimizer/classifier/weight_v", into: adam.weight.v.pointer, count: head.classes * head.dim)
            try load("optimizer/classifier/bias_m", into: adam.bias.m.pointer, count: head.classes)
            try load("optimizer/classifier/bias_v", into: adam.bias.v.pointer, count: head.classes)
        } else if root.exists("classifier/weight") {
            throw GCMLError(file: path, object: "/classifier", expected: "a triplet model (no classifier head)", found: "a classification model")
        }
        let step: [Int64] = try root.read("optimizer/step")
        let rng: [Int64] = try root.read("state/rng")
        guard step.count == 1, rng.count == 4 else {
            throw GCMLError(file: path, object: "/optimizer/step, /state/rng", expected: "1 and 4 values", found: "\(step.count) and \(rng.count)")
        }
        trainer.step = Int(step[0])
        trainer.generator = SeededGenerator(state: rng.map { UInt64(bitPattern: $0) })
        if root.exists("state/loss_window") {
            let window: [Double] = try root.read("state/loss_window")
            if window.count == 2 { trainer.lossWindowState = (window[0], Int(window[1])) }
        }
        if root.exists("state/mining_window") {
            let window: [Double] = try root.read("state/mining_window")
            if window.count == 3 { trainer.miningWindowState = (window[0], window[1], window[2]) }
        }
        var history = try TrainingHistory.read(from: file)
        if trainer.isTriplet, !history.hasMiningStatistics {
            // A model written before mining statistics were logged: its windows are unknown.
            let unknown = [Double](repeating: .nan, count: history.step.count)
            (history.presampledNegativeChosen, history.activeFraction, history.anchorNegativeDistance) = (unknown, unknown, unknown)
        }
        if trainer.lossWindowState.steps > 0, !history.step.isEmpty {
            // The last logged point was a partial window that the resumed run goes on filling.
            history.step.removeLast()
            history.loss.removeLast()
            if history.presampledNegativeChosen.count > history.step.count {
                history.presampledNegativeChosen.removeLast()
                history.activeFraction.removeLast()
                history.anchorNegativeDistance.removeLast()
            }
        }
        trainer.history = history
    }
}

/// embeddings.h5 (`gcml.embeddings/1`): the unit embedding of every video, written in batches.
public enum EmbeddingExport {
    /// Writes videos `rows` (all when nil): their ids and embeddings, in batches of about `batch` rows (whole
    /// gradient blocks, so rows from `Trainer.embeddingShare` get one process's numbers).
    public static func write(_ trainer: Trainer, rows: Range<Int>? = nil, to file: HDF5File, batch: Int = 4096) throws {
        let features = trainer.features
        let rows = rows ?? 0..<features.count
        let batch = max(1, batch / trainer.network.blockRows) * trainer.network.blockRows
        let dim = trainer.options.dim
        let writer = try EmbeddingsWriter(file: file, videoIDs: Array(features.videoIDs[rows]), dimension: dim)
        let buffer = Buffer<Float>(count: batch * dim, repeating: 0)
        var start = rows.lowerBound
        while start < rows.upperBound {
            let end = min(rows.upperBound, start + batch)
            trainer.embed(range: start..<end, into: buffer.pointer)
            try writer.write(rows: UnsafeBufferPointer(start: buffer.pointer, count: (end - start) * dim), at: start - rows.lowerBound)
            start = end
        }
    }
}
