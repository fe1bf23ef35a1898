import Artifacts
import Contracts
import Foundation
import Support
import XCTest

/// Contract readers return exactly the requested rows of what the contract writers wrote
/// (expectations: the hand-written values, sliced).
final class RowRangeTests: XCTestCase {
    var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "gcml-contracts-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    func testFeatureRowsAreTheWrittenSlices() throws {
        let path = folder + "/features.h5"
        let visual: [Float] = [0, 1, 10, 11, 20, 21, 30, 31], audio: [Float] = [5, 6, 7, 8]
        let table = FeatureTable(videoIDs: ["a", "b", "c", "d"], visual: visual, visualWidth: 2, audio: audio, audioWidth: 1)
        try Artifact.write(path, schema: .features, createdBy: "test") { try table.write(to: $0, frameCounts: [1, 2, 3, 4]) }
        let part = try FeatureTable.read(path, rows: 1..<3)
        XCTAssertEqual(part.videoIDs, ["b", "c"])
        XCTAssertEqual(part.visual, [10, 11, 20, 21])
        XCTAssertEqual(part.audio, [6, 7])
        XCTAssertEqual(try FeatureTable.readVideoIDs(path), ["a", "b", "c", "d"])
        XCTAssertNil(try FeatureTable.read(path, audio: false).audio)
    }

    func testTripletRowsAreTheWrittenSlicesAndRowsAreChecked() throws {
        let path = folder + "/triplets.h5"
        let set = TripletSet(anchor: [0, 1, 2, 3, 4], positive: [1, 2, 3, 4, 0], negative: [4, 3, 2, 1, 0], negativeLevel: [0, 1, 2, 1, 0])
        try Artifact.write(path, schema: .triplets, createdBy: "test") { try set.write(to: $0) }
        XCTAssertEqual(try TripletSet.read(path, videos: 5), set)
        XCTAssertEqual(try TripletSet.read(path, videos: 5, rows: 2..<4),
                       TripletSet(anchor: [2, 3], positive: [3, 4], negative: [2, 1], negativeLevel: [2, 1]))
        XCTAssertEqual(try TripletSet.count(path), 5)
        XCTAssertThrowsError(try TripletSet.read(path, videos: 4)) { error in
            XCTAssertTrue("\(error)".contains("/anchor") && "\(error)".contains("0..<4"), "\(error)")
        }
    }

    func testEmbeddingRowsWrittenInPartsReadBackByRange() throws {
        let path = folder + "/embeddings.h5"
        try Artifact.write(path, schema: .embeddings, createdBy: "test") { file in
            let writer = try EmbeddingsWriter(file: file, videoIDs: ["a", "b", "c"], dimension: 2)
            // Parts written out of order land at their rows.
            try [Float](arrayLiteral: 0, 1).withUnsafeBufferPointer { try writer.write(rows: $0, at: 2) }
            try [Float](arrayLiteral: 1, 0, 0.6, 0.8).withUnsafeBufferPointer { try writer.write(rows: $0, at: 0) }
        }
        let all = try VideoVectors.read(path)
        XCTAssertEqual(all.values, [1, 0, 0.6, 0.8, 0, 1])
        let part = try VideoVectors.read(path, rows: 1..<3)
        XCTAssertEqual(part.rows, 2)
        XCTAssertEqual(part.videoIDs, ["b", "c"])
        XCTAssertEqual(part.values, [0.6, 0.8, 0, 1])
    }

    func testFramesReaderStreamsOnlyTheRequestedVideos() throws {
        let path = folder + "/frames.h5"
        try Artifact.write(path, schema: .frames, createdBy: "test") { file in
            let writer = try FramesWriter<Float>(file: file, visualDimension: 2, audioDimension: 0, numClasses: 3, labelNames: ["x", "y", "z"])
            try writer.append(id: "a", visual: [1, 1], audio: [], labels: [0])
            try writer.append(id: "b", visual: [2, 2, 3, 3], audio: [], labels: [1, 2])
            try writer.append(id: "c", visual: [4, 4], audio: [], labels: [])
            try writer.flush()
        }
        let frames = try FramesFile(path: path, rows: 1..<2)
        XCTAssertEqual(frames.videoCountHint, 1)
        XCTAssertEqual(frames.frameCountHint, 2)
        XCTAssertEqual(frames.labelNames, ["x", "y", "z"])
        let video = try XCTUnwrap(try frames.next())
        XCTAssertEqual(video.id, "b")
        XCTAssertEqual(video.visual, [2, 2, 3, 3])
        XCTAssertEqual(video.labels, [1, 2])
        XCTAssertNil(try frames.next())
        try frames.rewind()
        XCTAssertEqual(try frames.next()?.id, "b")
        XCTAssertThrowsError(try FramesFile(path: path, rows: 2..<5))
        XCTAssertNil(frames.visualQuantization)
        XCTAssertNil(video.visualCodes, "float frames carry no byte codes")
    }

    /// uint8 frames come with the codes they were dequantised from, across read blocks.
    func testQuantisedFramesCarryTheirByteCodes() throws {
        let path = folder + "/frames.h5"
        try Artifact.write(path, schema: .frames, createdBy: "test") { file in
            let writer = try FramesWriter<UInt8>(file: file, visualDimension: 2, audioDimension: 1, quantization: (min: -2, max: 2),
                                                 numClasses: nil, labelNames: nil)
            try writer.append(id: "a", visual: [0, 255], audio: [7], labels: [])
            try writer.append(id: "b", visual: [1, 2, 3, 4], audio: [8, 9], labels: [])
            try writer.append(id: "c", visual: [128, 127], audio: [10], labels: [])
            try writer.flush()
        }
        let quantization = Quantization(minimum: -2, maximum: 2)
        let frames = try FramesFile(path: path, blockFrames: 2)
        XCTAssertEqual(frames.visualQuantization, quantization)
        XCTAssertEqual(frames.audioQuantization, quantization)
        for (id, visual, audio) in [("a", [0, 255], [7]), ("b", [1, 2, 3, 4], [8, 9]), ("c", [128, 127], [10])] as [(String, [UInt8], [UInt8])] {
            let video = try XCTUnwrap(try frames.next())
            XCTAssertEqual(video.id, id)
            XCTAssertEqual(video.visualCodes, visual, id)
            XCTAssertEqual(video.audioCodes, audio, id)
            XCTAssertEqual(video.visual, visual.map { quantization.table[Int($0)] }, id)
            XCTAssertEqual(video.audio, audio.map { quantization.table[Int($0)] }, id)
        }
    }
}
