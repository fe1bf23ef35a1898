import Artifacts
import Contracts
import Features
import Foundation
import LinearAlgebra
import Support
import XCTest

final class ExtractionTests: FeaturesTestCase {
    let visualScales = [8.0, 5.0, 3.0, 2.0, 1.2, 0.8, 0.5, 0.3]
    let audioScales = [4.0, 2.0, 1.0, 0.5, 0.25]

    func fixture(videos: Int = 30, seed: UInt64 = 2, labelled: Bool = true) -> FrameFixture {
        FrameFixture.random(videos: videos, framesPerVideo: 1...9, visualScales: visualScales, audioScales: audioScales,
                            offset: 50, seed: seed, labelled: labelled)
    }

    func options(dimension: Int = 3, audio: Int? = nil) -> ExtractionOptions {
        var options = ExtractionOptions()
        options.dimension = dimension
        options.audioDimension = audio
        options.blockVideos = 4   // several projection blocks
        options.blockRows = 16    // several covariance blocks
        return options
    }

    func testPoolThenProjectEqualsProjectThenPool() throws {
        let data = fixture()
        let run = try extract(data, options(dimension: 3, audio: 2))
        let visual = run.summary.visual
        guard case .pca(let audio) = run.summary.audio else { return XCTFail("audio should be PCA'd") }
        for v in 0..<data.ids.count {
            let n = data.counts[v]
            for (model, rows, output, width) in [(visual, data.rows(v), run.visual, 3), (audio, data.rows(v, audio: true), run.audio!, 2)] {
                let projected = model.project(Array(rows), rows: n)   // every frame projected
                for j in 0..<width {
                    var average = 0.0
                    for r in 0..<n { average += Double(projected[r * width + j]) }
                    average /= Double(n)
                    XCTAssertEqual(Double(output[v * width + j]), average, accuracy: 1e-4 * max(1, abs(average)))
                }
            }
        }
        XCTAssertEqual(run.frameCount, data.counts.map(Int32.init))
        XCTAssertEqual(run.ids, data.ids)
    }

    func testRawAudioIsAveragedByDefaultAndDroppedWithZero() throws {
        let data = fixture()
        let run = try extract(data, options())
        XCTAssertEqual(run.summary.audio, .averaged(dimension: audioScales.count))
        let da = audioScales.count
        for v in 0..<data.ids.count {
            let rows = data.rows(v, audio: true)
            for j in 0..<da {
                let average = stride(from: rows.startIndex + j, to: rows.endIndex, by: da).map { Double(rows[$0]) }.reduce(0, +) / Double(data.counts[v])
                XCTAssertEqual(Double(run.audio![v * da + j]), average, accuracy: 1e-4)
            }
        }
        let dropped = try extract(data, options(audio: 0), name: "dropped.h5")
        XCTAssertNil(dropped.audio)
        XCTAssertEqual(dropped.summary.audio, .dropped)
    }

    func testWhiteningGivesUnitVariance() throws {
        // One frame per video: pooling is the identity, so output columns are the whitened frames.
        var data = FrameFixture.random(videos: 300, framesPerVideo: 1...1, visualScales: visualScales, offset: 3, seed: 21)
        data.labels = nil
        var opts = options(dimension: 4)
        opts.whiten = true
        let run = try extract(data, opts)
        let n = data.ids.count
        for j in 0..<4 {
            let column = (0..<n).map { Double(run.visual[$0 * 4 + j]) }
            let mean = column.reduce(0, +) / Double(n)
            let variance = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)
            XCTAssertEqual(mean, 0, accuracy: 1e-4)
            XCTAssertEqual(variance, 1, accuracy: 1e-3)
        }
    }

    func testSavedModelReproducesTheFittedRunExactly() throws {
        let data = fixture()
        var opts = options(dimension: 3, audio: 2)
        opts.whiten = true
        let fitted = try extract(data, opts, name: "fitted.h5")
        let modelPath = path("pca.h5")
        try Artifact.write(modelPath, schema: .pca, createdBy: "FeaturesTests") { try fitted.summary.pca.write(to: $0) }
        let saved = try SavedPCA.read(modelPath)
        XCTAssertEqual(saved, fitted.summary.pca)
        var apply = options()
        apply.dimension = nil
        apply.audioDimension = nil
        apply.whiten = true
        apply.model = saved
        let applied = try extract(data, apply, name: "applied.h5")
        XCTAssertNil(applied.summary.fitFrames)
        XCTAssertEqual(applied.visual, fitted.visual)
        XCTAssertEqual(applied.audio, fitted.audio)
    }

    func testLabelsAndNamesAreCarriedThroughSkippedVideos() throws {
        var data = fixture(videos: 6)
        data.counts[2] = 0   // an empty video in the middle
        let dv = data.visualWidth, da = data.audioWidth
        let start = data.counts.prefix(2).reduce(0, +)
        let removed = FrameFixture.random(videos: 6, framesPerVideo: 1...9, visualScales: visualScales, audioScales: audioScales,
                                          offset: 50, seed: 2).counts[2]
        data.visual.removeSubrange((start * dv)..<((start + removed) * dv))
        data.audio.removeSubrange((start * da)..<((start + removed) * da))
        var opts = options()
        opts.skipEmpty = true
        let run = try extract(data, opts)
        XCTAssertEqual(run.summary.skippedEmpty, ["vid2"])
        XCTAssertEqual(run.ids, ["vid0", "vid1", "vid3", "vid4", "vid5"])
        let kept = [0, 1, 3, 4, 5].map { data.labels![$0] }
        var pointers: [Int64] = [0]
        for l in kept { pointers.append(pointers.last! + Int64(l.count)) }
        XCTAssertEqual(run.labelPointers, pointers)
        XCTAssertEqual(run.labelIndices, kept.flatMap { $0 })
        XCTAssertEqual(run.frameCount, [0, 1, 3, 4, 5].map { Int32(data.counts[$0]) })
        let file = try Artifact.open(path("features.h5"), as: .features)
        XCTAssertEqual(try file.root.group("labels").intAttribute("num_classes"), 5)
        XCTAssertEqual(try file.root.readStrings("label_names"), (0..<5).map { "class \($0)" })
    }

    func testUint8FramesAreDequantisedWithTheYouTube8MFormula() throws {
        let frames = path("quantised.h5")
        let file = try HDF5File.create(frames)
        try file.root.write("video_id", strings: ["a", "b"])
        try file.root.write("frame_offsets", [Int64(0), 1, 2])
        let visual = try file.root.write("visual", [UInt8(0), 1, 128, 255, 255, 0, 64, 1], shape: [2, 4])
        try visual.setAttribute("quantize_min", .double(-2))
        try visual.setAttribute("quantize_max", .double(2))
        try file.close()
        let source = try FramesFile(path: frames)
        let first = try source.next()!, second = try source.next()!
        XCTAssertNil(try source.next())
        // Hand-computed: x·4/255 + 4/512 − 2.
        let expected: [Float] = [-1.9921875, -1.9765012, 0.0156556, 2.0078125]
        for (found, wanted) in zip(first.visual, expected) { XCTAssertEqual(found, wanted, accuracy: 1e-5) }
        XCTAssertEqual(second.visual[0], 2.0078125, accuracy: 1e-6)
        XCTAssertEqual(second.visual[2], -0.9882659, accuracy: 1e-5)
        XCTAssertEqual(Quantization(minimum: -2, maximum: 2).value(of: 128), 0.015655637254901933, accuracy: 1e-15)
    }

    /// Dropping unusable frames drops their byte codes too: the exact code statistics see the kept frames only.
    func testDroppedQuantisedFramesLeaveTheCodeStatistics() throws {
        let frames = path("huge-range.h5")
        let file = try HDF5File.create(frames)
        try file.root.write("video_id", strings: ["a", "b"])
        try file.root.write("frame_offsets", [Int64(0), 3, 5])
        // A step of 2^58 from 0: codes of 64 and above dequantise to 2^64 or more, unusable; frame 1 of "a" holds one.
        let codes: [UInt8] = [1, 2, 200, 5, 10, 30, 7, 9, 20, 3]
        let visual = try file.root.write("visual", codes, shape: [5, 2])
        let quantization = Quantization(minimum: 0, maximum: 255 * 0x1p58)
        try visual.setAttribute("quantize_min", .double(quantization.minimum))
        try visual.setAttribute("quantize_max", .double(quantization.maximum))
        try file.close()
        var opts = options(dimension: 2)
        opts.dropNonfinite = true
        var summary: ExtractionSummary?
        try Artifact.write(path("dropped.h5"), schema: .features, createdBy: "FeaturesTests") { file in
            summary = try FeatureExtraction.run(source: try FramesFile(path: frames), options: opts, into: file)
        }
        let run = try XCTUnwrap(summary)
        XCTAssertEqual(run.droppedFrames, 1)
        XCTAssertEqual(run.fitFrames, 4)
        let kept: [[UInt8]] = [[1, 2], [10, 30], [7, 9], [20, 3]]
        for j in 0..<2 {
            let mean = kept.map { Double(quantization.table[Int($0[j])]) }.reduce(0, +) / 4
            XCTAssertEqual(run.visual.mean[j], mean, accuracy: 1e-6 * mean, "column \(j)")
        }
    }

    func testReadingInSmallBlocksGivesTheSameVideos() throws {
        let data = fixture(videos: 12)
        let frames = path("blocks.h5")
        try data.write(to: frames)
        for block in [1, 3, 1000] {
            let source = try FramesFile(path: frames, blockFrames: block)
            XCTAssertEqual(source.frameCountHint, data.frames)
            for v in 0..<data.ids.count {
                let video = try source.next()!
                XCTAssertEqual(video.id, data.ids[v])
                XCTAssertEqual(video.visual, Array(data.rows(v)))
                XCTAssertEqual(video.audio, Array(data.rows(v, audio: true)))
                XCTAssertEqual(video.labels, data.labels![v])
            }
            XCTAssertNil(try source.next())
            try source.rewind()
            XCTAssertEqual(try source.next()?.id, "vid0")
        }
    }

    // MARK: - Bad input

    func testEmptyVideoIsAnErrorUnlessSkipped() throws {
        var data = fixture(videos: 3, labelled: false)
        let removed = data.counts[1]
        let start = data.counts[0]
        data.counts[1] = 0
        data.visual.removeSubrange((start * data.visualWidth)..<((start + removed) * data.visualWidth))
        data.audio.removeSubrange((start * data.audioWidth)..<((start + removed) * data.audioWidth))
        assertError(["vid1", "/frame_offsets", "0 frames", "skipEmpty skips"]) { _ = try extract(data, options()) }
        var opts = options()
        opts.skipEmpty = true
        let run = try extract(data, opts, name: "skipped.h5")
        XCTAssertEqual(run.summary.skippedEmpty, ["vid1"])
        XCTAssertTrue(run.summary.report().contains("skipped 1 videos without frames"))
    }

    func testNonFiniteValueIsAnErrorUnlessDropped() throws {
        var data = fixture(videos: 4, labelled: false)
        data.counts = [2, 3, 1, 2]
        data.visual = Array(data.visual.prefix(8 * data.visualWidth))
        data.audio = Array(data.audio.prefix(8 * data.audioWidth))
        data.visual[(2 + 1) * data.visualWidth + 4] = .nan           // vid1, frame 1
        assertError(["vid1", "frame 1 of /visual", "finite", "column 4"]) { _ = try extract(data, options()) }
        data.audio[5 * data.audioWidth + 0] = -.infinity               // vid2, its only frame
        var opts = options()
        opts.dropNonfinite = true
        let run = try extract(data, opts, name: "dropped.h5")
        XCTAssertEqual(run.summary.droppedFrames, 2)
        XCTAssertEqual(run.summary.emptiedByDropping, ["vid2"])
        XCTAssertEqual(run.ids, ["vid0", "vid1", "vid3"])
        XCTAssertEqual(run.frameCount, [2, 2, 2])
        XCTAssertTrue(run.visual.allSatisfy(\.isFinite))
        var clean = data
        clean.visual[(2 + 1) * data.visualWidth + 4] = 0
        assertError(["vid2", "frame 0 of /audio", "-inf"]) { _ = try extract(clean, options(), name: "audio.h5") }
    }

    func testDimensionLargerThanTheInputIsAnError() throws {
        let data = fixture(videos: 5)
        assertError(["/visual", "dimension: expected between 1 and the input dimension 8", "found 9"]) { _ = try extract(data, options(dimension: 9)) }
        var defaults = options()
        defaults.dimension = nil   // the default 1500 shrinks to the input's 8: a full rotation
        XCTAssertEqual(try extract(data, defaults, name: "default.h5").summary.visual.outputDimension, 8)
        assertError(["/audio", "audioDimension: expected at most the input dimension 5", "found 6"]) { _ = try extract(data, options(audio: 6), name: "audio.h5") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("features.h5")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("audio.h5")))
    }

    func testModelOfAnotherDimensionIsAnError() throws {
        let data = fixture(videos: 5)
        let fitted = try extract(data, options(dimension: 3, audio: 2))
        let wide = FrameFixture.random(videos: 5, framesPerVideo: 1...3, visualScales: visualScales + [0.1], audioScales: audioScales)
        var apply = options()
        apply.dimension = nil
        apply.model = fitted.summary.pca
        apply.modelPath = "model.h5"
        assertError(["model.h5", "/visual/components", "input dimension 9", "found 8"]) { _ = try extract(wide, apply, name: "wide.h5") }
        let loud = FrameFixture.random(videos: 5, framesPerVideo: 1...3, visualScales: visualScales, audioScales: audioScales + [0.1])
        assertError(["model.h5", "/audio/components", "input dimension 6", "found 5"]) { _ = try extract(loud, apply, name: "loud.h5") }
        apply.dimension = 4
        assertError(["/visual/components", "dimension: expected 4 components", "found 3"]) { _ = try extract(data, apply, name: "dim.h5") }
    }
}
