import Foundation
import LinearAlgebra
import Support

/// The fixed parts of one modality's generative model: a global offset, one centre per
/// genre, subgenre and topic, and the nuisance style directions. A frame of video v is
///
///     offset + genre[g] + subgenre[s] + topic[t] + video_v + (c_v + w_f) · Style + k_v · Clutter + noise_f
///
/// with c_v the video's style coefficients, w_f a small per-frame wobble, k_v the video's
/// clutter coefficients, video_v the video's own direction and noise_f independent
/// per-dimension noise.
public struct FeatureModel: Sendable {
    public let model: ModalityModel
    let hierarchy: LatentHierarchy
    let stylePurpose: RandomStreams.Purpose
    let noisePurpose: RandomStreams.Purpose
    let clutterPurpose: RandomStreams.Purpose
    let streams: RandomStreams
    /// [D]
    let offset: [Float]
    /// Row-major [genres, D], [subgenres, D], [topics, D].
    let genreCentres: [Float]
    let subgenreCentres: [Float]
    let topicCentres: [Float]
    /// Row-major [styleRank, D]; entries standard normal, so coefficients of variance
    /// strength² / rank give per-dimension style variance strength².
    public let styleDirections: [Float]
    /// Row-major [clutterRank, D], entries standard normal.
    public let clutterDirections: [Float]

    init(_ model: ModalityModel, hierarchy: LatentHierarchy, modelPurpose: RandomStreams.Purpose,
         stylePurpose: RandomStreams.Purpose, noisePurpose: RandomStreams.Purpose, clutterPurpose: RandomStreams.Purpose) {
        self.model = model
        self.hierarchy = hierarchy
        self.stylePurpose = stylePurpose
        self.noisePurpose = noisePurpose
        self.clutterPurpose = clutterPurpose
        let c = hierarchy.configuration
        streams = RandomStreams(seed: c.seed)
        var random = streams.generator(modelPurpose)
        let d = model.dimension
        func gaussian(_ count: Int, _ scale: Double) -> [Float] {
            (0..<count).map { _ in Float(random.normal() * scale) }
        }
        offset = gaussian(d, model.offsetStrength)
        genreCentres = gaussian(c.genres * d, model.genreStrength)
        subgenreCentres = gaussian(c.subgenres * d, model.subgenreStrength)
        topicCentres = gaussian(c.topics * d, model.topicStrength)
        styleDirections = gaussian(model.styleRank * d, 1)
        clutterDirections = gaussian(model.clutterRank * d, 1)
    }

    public var dimension: Int { model.dimension }

    /// The noiseless topic signal of a topic (offset excluded): genre + subgenre + topic centres.
    public func topicSignal(_ t: Int) -> [Float] {
        let d = dimension
        let g = hierarchy.genre(ofTopic: t), s = hierarchy.subgenre(ofTopic: t)
        return (0..<d).map { genreCentres[g * d + $0] + subgenreCentres[s * d + $0] + topicCentres[t * d + $0] }
    }

    /// Fills `output` ([rows, D] row-major) with the features of `videos`. In frame mode
    /// each video gets `frameCount` rows; with `averaged`, one row per video holding the
    /// mean of its frames, drawn directly (wobble and noise shrink by 1/√frames). The
    /// result depends only on the seed and the video, never on blocking or threads.
    func fill(videos: Range<Int>, averaged: Bool, output: UnsafeMutablePointer<Float>, scratch: FeatureScratch, threads: Int) {
        let d = dimension, rank = model.styleRank, clutterRank = model.clutterRank
        // Row of each video's first frame within the block.
        var rowStart = [Int](repeating: 0, count: videos.count + 1)
        for (i, v) in videos.enumerated() {
            rowStart[i + 1] = rowStart[i] + (averaged ? 1 : Int(hierarchy.frameCount[v]))
        }
        let rows = rowStart[videos.count]
        scratch.reserve(coefficients: rows * rank + videos.count * clutterRank, content: videos.count * d)
        let coefficients = scratch.coefficients.baseAddress!
        let videoContent = scratch.content.baseAddress!

        // Per-video clutter for the whole block at once (BLAS-3); the rest of the content is added below.
        if clutterRank > 0 {
            let clutter = coefficients + rows * rank
            let scale = model.clutterStrength / Double(clutterRank).squareRoot()
            for (i, v) in videos.enumerated() {
                var random = streams.generator(clutterPurpose, v)
                for r in 0..<clutterRank { clutter[i * clutterRank + r] = Float(random.normal() * scale) }
            }
            clutterDirections.withUnsafeBufferPointer { directions in
                BLAS.gemm(m: videos.count, n: d, k: clutterRank, a: clutter, lda: clutterRank, b: directions.baseAddress!, ldb: d,
                          beta: 0, c: videoContent, ldc: d)
            }
        } else {
            videoContent.update(repeating: 0, count: videos.count * d)
        }

        // Style coefficients per row, then all rows' style at once (BLAS-3).
        if rank > 0 {
            let videoScale = model.styleStrength / Double(rank).squareRoot()
            var base = [Float](repeating: 0, count: rank)
            for (i, v) in videos.enumerated() {
                var random = streams.generator(stylePurpose, v)
                let frames = Int(hierarchy.frameCount[v])
                let wobbleScale = model.frameStyleStrength / Double(rank).squareRoot() / (averaged ? Double(frames).squareRoot() : 1)
                for r in 0..<rank { base[r] = Float(random.normal() * videoScale) }
                for row in rowStart[i]..<rowStart[i + 1] {
                    for r in 0..<rank { coefficients[row * rank + r] = base[r] + Float(random.normal() * wobbleScale) }
                }
            }
            styleDirections.withUnsafeBufferPointer { style in
                BLAS.gemm(m: rows, n: d, k: rank, a: coefficients, lda: rank, b: style.baseAddress!, ldb: d,
                          beta: 0, c: output, ldc: d)
            }
        } else {
            output.update(repeating: 0, count: rows * d)
        }

        // Topic signal, the video's own direction and per-frame noise; videos in parallel.
        let chunks = max(1, min(threads, videos.count))
        let videoList = Array(videos)
        let output = UnsafeMutableSendablePointer(output)
        let contents = UnsafeMutableSendablePointer(videoContent)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let lo = videoList.count * chunk / chunks, hi = videoList.count * (chunk + 1) / chunks
            do {
                for i in lo..<hi {
                    let base = contents.pointer + i * d
                    let v = videoList[i]
                    let t = Int(hierarchy.topic[v]), g = hierarchy.genre(ofTopic: t), s = hierarchy.subgenre(ofTopic: t)
                    let t2 = Int(hierarchy.secondaryTopic[v]), beta = hierarchy.mixing[v]
                    for j in 0..<d {
                        let topical = (1 - beta) * topicCentres[t * d + j] + beta * topicCentres[t2 * d + j]
                        base[j] += offset[j] + genreCentres[g * d + j] + subgenreCentres[s * d + j] + topical
                    }
                    var random = streams.generator(noisePurpose, v)
                    random.addNoise(base, count: d, scale: Float(model.videoStrength))
                    let frames = Int(hierarchy.frameCount[v])
                    let noise = Float(model.frameNoise / (averaged ? Double(frames).squareRoot() : 1))
                    for row in rowStart[i]..<rowStart[i + 1] {
                        let target = output.pointer + row * d
                        for j in 0..<d { target[j] += base[j] }
                        random.addNoise(target, count: d, scale: noise)
                    }
                }
            }
        }
    }
}

/// Buffers reused across blocks (no allocation per block once they have grown).
final class FeatureScratch {
    private(set) var coefficients = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)
    private(set) var content = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)

    func reserve(coefficients c: Int, content n: Int) {
        if coefficients.count < max(c, 1) {
            coefficients.deallocate()
            coefficients = .allocate(capacity: max(c, 1))
        }
        if content.count < max(n, 1) {
            content.deallocate()
            content = .allocate(capacity: max(n, 1))
        }
    }

    deinit {
        coefficients.deallocate()
        content.deallocate()
    }
}

/// A pointer that concurrent workers write to disjoint parts of.
struct UnsafeMutableSendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

/// YouTube-8M's uint8 quantisation: byte q stands for q·(max−min)/255 + (max−min)/512 + min,
/// the middle of bin q, so q = ⌊(x − min) · 255 / (max − min)⌋ clamped to 0…255.
public enum Quantisation {
    public static let minimum: Float = -2
    public static let maximum: Float = 2

    public static func quantise(_ x: Float) -> UInt8 {
        let q = ((x - minimum) * (255 / (maximum - minimum))).rounded(.down)
        return UInt8(min(255, max(0, q.isNaN ? 0 : q)))
    }

    public static func dequantise(_ q: UInt8) -> Float {
        Float(q) * (maximum - minimum) / 255 + (maximum - minimum) / 512 + minimum
    }

    static func quantise(_ values: UnsafePointer<Float>, count: Int, into bytes: UnsafeMutablePointer<UInt8>) {
        let scale: Float = 255 / (maximum - minimum)
        for i in 0..<count {
            let q = ((values[i] - minimum) * scale).rounded(.down)
            bytes[i] = UInt8(min(255, max(0, q)))
        }
    }
}
