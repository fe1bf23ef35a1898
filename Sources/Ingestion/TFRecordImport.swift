import Artifacts
import Contracts
import Foundation
import Support

/// What an import read and wrote.
public struct ImportSummary: Sendable {
    public var shards = 0
    public var videos = 0
    public var frames = 0
    public var labels = 0
    public var skippedCorrupt = 0
    public var fileBytes = 0
    public var seconds = 0.0

    /// An import that found no readable record is an error, not an empty artifact.
    func requireVideos(_ shards: [String]) throws {
        if videos == 0 {
            throw GCMLError(file: shards.joined(separator: " "), expected: "at least one readable record", found: "none")
        }
    }

    /// The stream's totals and the elapsed time, once the last record is read.
    mutating func close(_ stream: TFRecordStream, started: Date) {
        skippedCorrupt = stream.skipped.count
        fileBytes = stream.totalFileBytes
        seconds = Date().timeIntervalSince(started)
    }

    public var table: String {
        var lines = [
            "shards           \(shards)",
            "videos           \(videos)",
            "frames           \(frames)",
            "labels           \(labels)",
            "skipped damaged  \(skippedCorrupt)",
            String(format: "read             %.1f MB in %.2f s (%.1f MB/s)", Double(fileBytes) / 1e6, seconds,
                   Double(fileBytes) / 1e6 / max(seconds, 1e-9)),
        ]
        if frames == 0 { lines.remove(at: 2) }
        return lines.joined(separator: "\n")
    }
}

/// Frame-level TFRecord shards → gcml.frames/1, streamed: ids, frames and labels
/// are kept as they are. Features stay uint8 (lossless, with the dequantisation
/// range as quantize_min/quantize_max) unless `dequantize` asks for float32.
public enum FramesImport {
    public static func write(shards: [String], out: String, layout: YouTube8MLayout = .frameLevel, dequantize: Bool = false,
                             skipCorrupt: Bool = false, decoder: TFRecordDecoderKind = .direct,
                             writer: ArtifactWriter) throws -> ImportSummary {
        let source = TFRecordFrameSource(shards: shards, layout: layout, skipCorrupt: skipCorrupt, decoder: decoder)
        let stream = source.stream
        let started = Date()
        var summary = ImportSummary()
        summary.shards = shards.count
        let progress = writer.progress.progress(total: stream.totalFileBytes, unit: "bytes")
        let numClasses = layout.hasLabels ? layout.numClasses : nil
        try writer.write(out, schema: .frames, inputs: shards) { file in
            // One copy loop for both storage types: dequantised floats or the original bytes.
            func copy<Element>(into writer: FramesWriter<Element>,
                               next: () throws -> (id: String, visual: [Element], audio: [Element], labels: [Int32])?) throws {
                while let video = try next() {
                    try writer.append(id: video.id, visual: video.visual, audio: video.audio, labels: video.labels)
                    progress.set(stream.consumedFileBytes)
                }
                try writer.flush()
                summary.videos = writer.videoCount
                summary.frames = writer.frameCount
                summary.labels = writer.labelCount
            }
            if dequantize {
                try copy(into: try FramesWriter<Float>(file: file, visualDimension: layout.visualDimension,
                                                       audioDimension: layout.audioDimension, numClasses: numClasses)) {
                    try source.next().map { ($0.id, $0.visual, $0.audio, $0.labels) }
                }
            } else {
                try copy(into: try FramesWriter<UInt8>(file: file, visualDimension: layout.visualDimension, audioDimension: layout.audioDimension,
                                                       quantization: (Double(layout.quantizeMin), Double(layout.quantizeMax)),
                                                       numClasses: numClasses)) {
                    try source.nextRecord().map { ($0.id, $0.visual, $0.audio, $0.labels) }
                }
            }
            try summary.requireVideos(shards)
        }
        progress.finish()
        summary.close(stream, started: started)
        return summary
    }
}

/// Video-level TFRecord shards (Google's per-video means) → gcml.features/1
/// directly: /visual and /audio are the records' mean_rgb and mean_audio as
/// they are (no PCA: Google already PCA'd and averaged them), /frame_count is 1
/// per video (one pre-pooled vector; the frame count is not in the records),
/// labels copied through. Root attribute `source` = "tfrecord video-level".
public enum VideoLevelImport {
    public static func write(shards: [String], out: String, layout: YouTube8MLayout = .videoLevel, skipCorrupt: Bool = false,
                             writer: ArtifactWriter) throws -> ImportSummary {
        let source = TFRecordVideoSource(shards: shards, layout: layout, skipCorrupt: skipCorrupt)
        let stream = source.stream
        let started = Date()
        var summary = ImportSummary()
        summary.shards = shards.count
        let progress = writer.progress.progress(total: stream.totalFileBytes, unit: "bytes")
        try writer.write(out, schema: .features, inputs: shards) { file in
            let writer = try FeaturesWriter(file: file, visualWidth: layout.visualDimension, audioWidth: layout.hasAudio ? layout.audioDimension : nil,
                                            numClasses: layout.hasLabels ? layout.numClasses : nil, labelNames: nil)
            try file.root.setAttribute("source", .string("tfrecord video-level"))
            var batchVisual: [Float] = [], batchAudio: [Float] = []
            func flush() throws {
                guard !batchVisual.isEmpty else { return }
                try batchVisual.withUnsafeBufferPointer { v in
                    try batchAudio.withUnsafeBufferPointer { a in try writer.addFeatures(visual: v, audio: layout.hasAudio ? a : nil) }
                }
                batchVisual.removeAll(keepingCapacity: true)
                batchAudio.removeAll(keepingCapacity: true)
            }
            while let video = try source.next() {
                // One pre-pooled vector per video: the frame count is not in the records.
                try writer.addVideo(id: video.id, frameCount: 1, labels: layout.hasLabels ? video.labels : [])
                batchVisual += video.visual
                batchAudio += video.audio
                summary.labels += video.labels.count
                summary.videos += 1
                if summary.videos % 8192 == 0 { try flush() }
                progress.set(stream.consumedFileBytes)
            }
            try flush()
            try writer.finish()
            try summary.requireVideos(shards)
        }
        progress.finish()
        summary.close(stream, started: started)
        return summary
    }
}
