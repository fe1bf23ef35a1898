import Artifacts
import Contracts
import Features
import Foundation
import LinearAlgebra
import Support
import TestSupport
import XCTest

/// A small frames.h5 written with the Artifacts API.
struct FrameFixture {
    var ids: [String]
    var counts: [Int]
    var visualWidth: Int
    var visual: [Float]
    var audioWidth = 0
    var audio: [Float] = []
    var labels: [[Int32]]?
    var numClasses = 0

    var frames: Int { counts.reduce(0, +) }

    /// Correlated Gaussian frames: independent normals scaled by `scales`, mixed by a fixed
    /// rotation-like matrix, plus `offset` (a large offset checks the shifted accumulation).
    static func random(videos: Int, framesPerVideo: ClosedRange<Int>, visualScales: [Double], audioScales: [Double] = [],
                       offset: Double = 0, seed: UInt64 = 1, labelled: Bool = false) -> FrameFixture {
        var random = SeededGenerator(seed: seed)
        let counts = (0..<videos).map { _ in framesPerVideo.lowerBound + random.below(framesPerVideo.count) }
        let total = counts.reduce(0, +)
        func frames(_ scales: [Double]) -> [Float] {
            let d = scales.count
            guard d > 0 else { return [] }
            let mix = (0..<(d * d)).map { _ in random.normal() }
            var result = [Float](repeating: 0, count: total * d)
            for r in 0..<total {
                let z = scales.map { $0 * random.normal() }
                for j in 0..<d {
                    var value = offset + Double(j)
                    for i in 0..<d { value += z[i] * (i == j ? 1 : 0.3 * mix[i * d + j]) }
                    result[r * d + j] = Float(value)
                }
            }
            return result
        }
        var fixture = FrameFixture(ids: (0..<videos).map { "vid\($0)" }, counts: counts, visualWidth: visualScales.count,
                                   visual: frames(visualScales))
        fixture.audioWidth = audioScales.count
        fixture.audio = frames(audioScales)
        if labelled {
            fixture.numClasses = 5
            fixture.labels = (0..<videos).map { v in (0..<(v % 3)).map { Int32(($0 + v) % 5) } }
        }
        return fixture
    }

    func write(to path: String) throws {
        let file = try HDF5File.create(path)
        try file.root.write("video_id", strings: ids)
        var offsets: [Int64] = [0]
        for c in counts { offsets.append(offsets.last! + Int64(c)) }
        try file.root.write("frame_offsets", offsets)
        try file.root.write("visual", visual, shape: [frames, visualWidth])
        if audioWidth > 0 { try file.root.write("audio", audio, shape: [frames, audioWidth]) }
        if let labels {
            var pointers: [Int64] = [0]
            for l in labels { pointers.append(pointers.last! + Int64(l.count)) }
            try file.root.write("labels/indptr", pointers)
            try file.root.write("labels/indices", labels.flatMap { $0 })
            try file.root.group("labels").setAttribute("num_classes", .int(Int64(numClasses)))
            try file.root.write("label_names", strings: (0..<numClasses).map { "class \($0)" })
        }
        try file.close()
    }

    /// Rows of video `v` of one modality.
    func rows(_ v: Int, audio useAudio: Bool = false) -> ArraySlice<Float> {
        let width = useAudio ? audioWidth : visualWidth
        let start = counts.prefix(v).reduce(0, +)
        return (useAudio ? audio : visual)[(start * width)..<((start + counts[v]) * width)]
    }
}

/// Output of one extraction run, read back from the written features.h5.
struct Extracted {
    var summary: ExtractionSummary
    var ids: [String]
    var visual: [Float]
    var audio: [Float]?
    var frameCount: [Int32]
    var labelPointers: [Int64]?
    var labelIndices: [Int32]?
}

class FeaturesTestCase: FolderTestCase {

    func extract(_ fixture: FrameFixture, _ options: ExtractionOptions, name: String = "features.h5",
                 blockFrames: Int = 7) throws -> Extracted {
        let frames = path("frames-\(UUID().uuidString).h5")
        try fixture.write(to: frames)
        let source = try FramesFile(path: frames, blockFrames: blockFrames)
        var options = options
        options.scratchFolder = folder
        var summary: ExtractionSummary?
        let out = path(name)
        try Artifact.write(out, schema: .features, createdBy: "FeaturesTests") { file in
            summary = try FeatureExtraction.run(source: source, options: options, into: file)
        }
        let file = try Artifact.open(out, as: .features)
        defer { try? file.close() }
        let root = file.root
        return Extracted(summary: summary!, ids: try root.readStrings("video_id"), visual: try root.read("visual", as: Float.self),
                         audio: root.exists("audio") ? try root.read("audio", as: Float.self) : nil,
                         frameCount: try root.read("frame_count", as: Int32.self),
                         labelPointers: root.exists("labels/indptr") ? try root.read("labels/indptr", as: Int64.self) : nil,
                         labelIndices: root.exists("labels/indices") ? try root.read("labels/indices", as: Int32.self) : nil)
    }

    /// Asserts that `body` throws a GCMLError whose message contains every fragment.
    func assertError(_ fragments: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("expected an error mentioning \(fragments)", file: file, line: line)
        } catch let error as GCMLError {
            for fragment in fragments {
                XCTAssertTrue(error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'", file: file, line: line)
            }
        } catch {
            XCTFail("expected a GCMLError, got \(error)", file: file, line: line)
        }
    }
}

/// Brute-force references (plain loops in double precision).
enum Reference {
    static func meanAndCovariance(_ rows: [Float], width d: Int) -> ([Double], [Double]) {
        let n = rows.count / d
        var mean = [Double](repeating: 0, count: d)
        for r in 0..<n { for j in 0..<d { mean[j] += Double(rows[r * d + j]) } }
        mean = mean.map { $0 / Double(n) }
        var covariance = [Double](repeating: 0, count: d * d)
        for r in 0..<n {
            for i in 0..<d {
                for j in 0..<d {
                    covariance[i * d + j] += (Double(rows[r * d + i]) - mean[i]) * (Double(rows[r * d + j]) - mean[j])
                }
            }
        }
        return (mean, covariance.map { $0 / Double(n - 1) })
    }

    /// Largest |P_A − P_B| entry for the projectors onto the row spaces of A and B (k×d, orthonormal rows):
    /// 0 exactly when all principal angles are 0.
    static func subspaceDistance(_ a: [Double], _ b: [Double], k: Int, d: Int) -> Double {
        var worst = 0.0
        for i in 0..<d {
            for j in 0..<d {
                var pa = 0.0, pb = 0.0
                for r in 0..<k {
                    pa += a[r * d + i] * a[r * d + j]
                    pb += b[r * d + i] * b[r * d + j]
                }
                worst = max(worst, abs(pa - pb))
            }
        }
        return worst
    }
}
