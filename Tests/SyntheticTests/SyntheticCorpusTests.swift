import Artifacts
import Foundation
import Support
import Synthetic
import TestSupport
import XCTest

/// Small corpora written to temporary folders, read back through the public artifact API.
enum Fixture {
    static func folder() throws -> String { try TemporaryFolder.make("gcml-synth-test") }

    /// `small` with tiny features: for tests of the sizes, labels and sessions, not of the features.
    static func featherweight(videos: Int, sessions: Int) -> SyntheticConfiguration {
        var c = small(videos: videos, sessions: sessions)
        c.visual.dimension = 4; c.visual.clutterRank = 0; c.audio.dimension = 0
        return c
    }

    /// Generates `c` into a temporary folder, reads it back (sessions too) and removes the folder.
    static func generateAndRead(_ c: SyntheticConfiguration) throws -> (corpus: Corpus, sessions: [[Int]]) {
        let folder = try generate(c)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        return (try read(folder), c.pairs ? [] : try sessions(folder + "/sessions.tsv"))
    }

    /// The tiny profile shrunk further so a corpus takes a fraction of a second.
    static func small(videos: Int = 300, sessions: Int = 400) -> SyntheticConfiguration {
        var c = SyntheticConfiguration.profile(.tiny)
        c.videos = videos
        c.sessions = sessions
        c.visual.dimension = 32
        c.visual.clutterRank = 8
        c.visual.styleRank = 4
        c.audio.dimension = 8
        c.audio.styleRank = 2
        return c
    }

    static func generate(_ c: SyntheticConfiguration) throws -> String {
        setenv("GCML_QUIET", "1", 1)
        let folder = try folder()
        try SyntheticCorpus(c).generate(to: folder)
        return folder
    }

    /// Frame offsets, truth and labels of a generated corpus.
    struct Corpus {
        var offsets: [Int64]
        var topic: [Int32], subgenre: [Int32], genre: [Int32]
        var labelPointers: [Int64], labelIndices: [Int32]
        var ids: [String]
    }

    static func read(_ folder: String) throws -> Corpus {
        let frames = try Artifact.open(folder + "/frames.h5", as: .frames)
        let truth = try Artifact.open(folder + "/truth.h5", as: .truth)
        defer { try? frames.close(); try? truth.close() }
        return Corpus(offsets: try frames.root.read("frame_offsets"), topic: try truth.root.read("topic"),
                      subgenre: try truth.root.read("subgenre"), genre: try truth.root.read("genre"),
                      labelPointers: try frames.root.read("labels/indptr"), labelIndices: try frames.root.read("labels/indices"),
                      ids: try truth.root.readStrings("video_id"))
    }

    /// Sessions as lists of video rows (ids "v000123" → 123), in file order.
    static func sessions(_ path: String) throws -> [[Int]] {
        var result: [[Int]] = []
        var last = ""
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: "\t")
            guard fields.count == 2, fields[1].hasPrefix("v"), let row = Int(fields[1].dropFirst()) else {
                XCTFail("malformed line '\(line)'")
                continue
            }
            if fields[0] != last { result.append([]); last = String(fields[0]) }
            result[result.count - 1].append(row)
        }
        return result
    }

    /// Every dataset and every root attribute but created_at, as comparable text.
    static func contents(_ path: String) throws -> [String: String] {
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        var result: [String: String] = [:]
        for name in try file.root.datasetPaths() {
            let set = try file.root.dataset(name)
            switch set.elementType {
            case .float32: result[name] = "\(try set.read(as: Float.self))"
            case .float64: result[name] = "\(try set.read(as: Double.self))"
            case .uint8: result[name] = "\(try set.read(as: UInt8.self))"
            case .int8: result[name] = "\(try set.read(as: Int8.self))"
            case .int32: result[name] = "\(try set.read(as: Int32.self))"
            case .int64: result[name] = "\(try set.read(as: Int64.self))"
            case .string: result[name] = "\(try set.readStrings())"
            }
        }
        for attribute in ["schema", "parameters", "inputs"] {
            result["@" + attribute] = try file.root.stringAttribute(attribute)
        }
        return result
    }
}

final class SyntheticCorpusTests: XCTestCase {
    func testSameSeedGivesIdenticalDatasetsAndDifferentSeedDoesNot() throws {
        var c = Fixture.small()
        let a = try Fixture.generate(c), b = try Fixture.generate(c)
        c.seed = 2
        let other = try Fixture.generate(c)
        defer { for f in [a, b, other] { try? FileManager.default.removeItem(atPath: f) } }
        for name in ["frames.h5", "truth.h5"] {
            let first = try Fixture.contents(a + "/" + name)
            XCTAssertEqual(first, try Fixture.contents(b + "/" + name), name)
            XCTAssertNotEqual(first["/visual"], try Fixture.contents(other + "/" + name)["/visual"] ?? "", name)
        }
        let sessions = try Data(contentsOf: URL(fileURLWithPath: a + "/sessions.tsv"))
        XCTAssertEqual(sessions, try Data(contentsOf: URL(fileURLWithPath: b + "/sessions.tsv")))
        XCTAssertNotEqual(sessions, try Data(contentsOf: URL(fileURLWithPath: other + "/sessions.tsv")))
    }

    func testThreadCountDoesNotChangeTheFrames() throws {
        var c = Fixture.small(videos: 120, sessions: 10)
        c.threads = 1
        let one = try Fixture.generate(c)
        c.threads = 3
        let three = try Fixture.generate(c)
        defer { for f in [one, three] { try? FileManager.default.removeItem(atPath: f) } }
        let a = try Fixture.contents(one + "/frames.h5"), b = try Fixture.contents(three + "/frames.h5")
        XCTAssertEqual(a["/visual"], b["/visual"])
        XCTAssertEqual(a["/audio"], b["/audio"])
    }

    func testEveryOutputMatchesItsSchema() throws {
        var c = Fixture.small(videos: 150, sessions: 100)
        let folder = try Fixture.generate(c)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let frames = try Artifact.open(folder + "/frames.h5", as: .frames)
        XCTAssertEqual(try frames.root.stringAttribute("schema"), "gcml.frames/1")
        let visual = try frames.root.dataset("visual"), audio = try frames.root.dataset("audio")
        XCTAssertEqual(visual.elementType, .uint8)
        XCTAssertEqual(visual.shape[1], 32)
        XCTAssertEqual(audio.shape, [visual.shape[0], 8])
        for set in [visual, audio] {
            XCTAssertEqual(try set.doubleAttribute("quantize_min"), -2)
            XCTAssertEqual(try set.doubleAttribute("quantize_max"), 2)
        }
        XCTAssertEqual(try frames.root.group("labels").intAttribute("num_classes"), Int64(c.numClasses))
        XCTAssertEqual(try frames.root.readStrings("label_names").count, c.numClasses)
        let truth = try Artifact.open(folder + "/truth.h5", as: .truth)
        XCTAssertEqual(try truth.root.readStrings("video_id"), try frames.root.readStrings("video_id"))
        XCTAssertEqual(try truth.root.dataset("style/visual").shape, [4, 32])
        XCTAssertEqual(try truth.root.intAttribute("num_topics"), 64)
        try frames.close(); try truth.close()

        // float32 frames, pairs, and video-level features.
        c.storage = .float32
        c.pairs = true
        let floats = try Fixture.generate(c)
        c.videoLevel = true
        let videoLevel = try Fixture.generate(c)
        defer { for f in [floats, videoLevel] { try? FileManager.default.removeItem(atPath: f) } }
        let f32 = try Artifact.open(floats + "/frames.h5", as: .frames)
        XCTAssertEqual(try f32.root.dataset("visual").elementType, .float32)
        XCTAssertTrue(FileManager.default.fileExists(atPath: floats + "/pairs.tsv"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: floats + "/sessions.tsv"))
        let features = try Artifact.open(videoLevel + "/features.h5", as: .features)
        XCTAssertEqual(try features.root.dataset("visual").shape, [150, 32])
        XCTAssertEqual(try features.root.read("frame_count", as: Int32.self).count, 150)
        XCTAssertTrue(features.root.exists("labels/indptr"))
        _ = try Artifact.open(videoLevel + "/truth.h5", as: .truth)
        // No temporaries left behind.
        for f in [folder, floats, videoLevel] {
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: f).filter { $0.hasPrefix(".") }, [])
        }
    }

    func testFramesPerVideoFollowTheParameters() throws {
        var c = Fixture.featherweight(videos: 3000, sessions: 0)
        c.framesMedian = 20; c.framesSigma = 0.5; c.framesMin = 6; c.framesMax = 90
        let corpus = try Fixture.generateAndRead(c).corpus
        let counts = zip(corpus.offsets.dropFirst(), corpus.offsets).map { Int($0 - $1) }.sorted()
        XCTAssertEqual(counts.count, 3000)
        XCTAssertGreaterThanOrEqual(counts.first!, 6)
        XCTAssertLessThanOrEqual(counts.last!, 90)
        // The clamped log-normal keeps the median; its mean is median · exp(σ²/2) ≈ 22.7 (clamping moves it little).
        XCTAssertEqual(Double(counts[1500]), 20, accuracy: 1.5)
        let mean = Double(counts.reduce(0, +)) / 3000
        XCTAssertEqual(mean, 20 * exp(0.125), accuracy: 1.2)
    }

    func testLabelDensityFollowsTheParameters() throws {
        var c = Fixture.featherweight(videos: 3000, sessions: 0)
        c.labelMissingRate = 0.2; c.attributesPerTopic = 3; c.attributeRate = 0.5; c.labelNoiseRate = 0.1
        let corpus = try Fixture.generateAndRead(c).corpus
        // 3 hierarchical labels kept with 0.8, 3 attributes with 0.5, one noise label with 0.1 (rarely a duplicate).
        let expected = 3 * 0.8 + 3 * 0.5 + 0.1
        XCTAssertEqual(Double(corpus.labelIndices.count) / 3000, expected, accuracy: 0.08)
        var topicLabelled = 0
        for v in 0..<3000 {
            let labels = corpus.labelIndices[Int(corpus.labelPointers[v])..<Int(corpus.labelPointers[v + 1])]
            XCTAssertEqual(Array(labels), Array(labels).sorted(), "labels of video \(v) sorted")
            XCTAssertEqual(Set(labels).count, labels.count, "labels of video \(v) unique")
            XCTAssertTrue(labels.allSatisfy { $0 >= 0 && Int($0) < c.numClasses })
            if labels.contains(Int32(c.genres + c.subgenres) + corpus.topic[v]) { topicLabelled += 1 }
        }
        // The topic label is present unless missing (0.2); noise adds it back rarely.
        XCTAssertEqual(Double(topicLabelled) / 3000, 0.8, accuracy: 0.03)
    }

    func testSessionsFollowTheParametersAndStayNearTheirTopic() throws {
        var c = Fixture.featherweight(videos: 2000, sessions: 6000)
        c.sessionMeanLength = 9; c.sessionMinLength = 3; c.sessionMaxLength = 80
        let (corpus, sessions) = try Fixture.generateAndRead(c)
        // Sessions shorter than the minimum only when a tiny topic ran out of unseen videos.
        XCTAssertGreaterThan(Double(sessions.count), 0.99 * 6000)
        let lengths = sessions.map(\.count)
        XCTAssertEqual(Double(lengths.reduce(0, +)) / Double(lengths.count), 9, accuracy: 0.35)
        XCTAssertLessThanOrEqual(lengths.max()!, 80)
        XCTAssertLessThan(Double(lengths.filter { $0 < 3 }.count) / Double(lengths.count), 0.01)
        for session in sessions { XCTAssertEqual(Set(session).count, session.count, "no repeats in a session") }

        // Consecutive watches: same topic ≈ stay, same subgenre ≈ stay + sibling topic, same genre ≈
        // stay + sibling topic + sibling subgenre; "anywhere" jumps add at most their own mass.
        var pairs = 0, topic = 0, subgenre = 0, genre = 0
        for session in sessions {
            for (a, b) in zip(session, session.dropFirst()) {
                pairs += 1
                if corpus.topic[a] == corpus.topic[b] { topic += 1 }
                if corpus.subgenre[a] == corpus.subgenre[b] { subgenre += 1 }
                if corpus.genre[a] == corpus.genre[b] { genre += 1 }
            }
        }
        let anywhere = c.anywhereProbability
        for (observed, base) in [(topic, c.stayProbability),
                                 (subgenre, c.stayProbability + c.siblingTopicProbability),
                                 (genre, c.stayProbability + c.siblingTopicProbability + c.siblingSubgenreProbability)] {
            let fraction = Double(observed) / Double(pairs)
            XCTAssertGreaterThan(fraction, base - 0.02)
            XCTAssertLessThan(fraction, base + anywhere + 0.02)
        }
    }

    func testPairsCountEveryPairWithinTheWindowOfTheSessions() throws {
        var c = Fixture.small(videos: 200, sessions: 300)
        c.visual.dimension = 4; c.visual.clutterRank = 0; c.audio.dimension = 0
        c.pairWindow = 3
        let plain = try Fixture.generate(c)
        c.pairs = true
        let aggregated = try Fixture.generate(c)
        defer { for f in [plain, aggregated] { try? FileManager.default.removeItem(atPath: f) } }
        var expected: [String: Int] = [:]
        for session in try Fixture.sessions(plain + "/sessions.tsv") {
            for i in session.indices {
                for j in (i + 1)..<min(session.count, i + 3) {
                    let a = min(session[i], session[j]), b = max(session[i], session[j])
                    expected[String(format: "v%06d\tv%06d", a, b), default: 0] += 1
                }
            }
        }
        var found: [String: Int] = [:]
        var keys: [String] = []
        for line in try String(contentsOfFile: aggregated + "/pairs.tsv", encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: "\t")
            XCTAssertEqual(fields.count, 3)
            let key = String(fields[0]) + "\t" + String(fields[1])
            found[key] = Int(fields[2])
            keys.append(key)
        }
        XCTAssertEqual(found, expected)
        XCTAssertEqual(keys, keys.sorted(), "pairs sorted by (a, b)")
    }

    /// The benchmark's premise: nuisance dominates raw features. Cosine 1-NN topic agreement
    /// of centred, frame-averaged features is far below that of the same features with the
    /// generator's nuisance directions (style + clutter, from truth.h5) projected out.
    func testRawFeaturesAreMuchWorseThanFeaturesWithoutNuisance() throws {
        var c = SyntheticConfiguration.profile(.tiny)
        c.visual.dimension = 256
        c.audio.dimension = 0
        c.sessions = 0
        let folder = try Fixture.generate(c)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let frames = try Artifact.open(folder + "/frames.h5", as: .frames)
        let truth = try Artifact.open(folder + "/truth.h5", as: .truth)
        let d = 256, n = c.videos
        let offsets: [Int64] = try frames.root.read("frame_offsets")
        let bytes: [UInt8] = try frames.root.read("visual")
        let topic: [Int32] = try truth.root.read("topic")
        let nuisance: [Float] = try truth.root.read("style/visual") + truth.root.read("clutter/visual")
        let rank = nuisance.count / d
        XCTAssertEqual(rank, c.visual.styleRank + c.visual.clutterRank)

        // Average the dequantised frames of each video (YouTube-8M formula), then centre.
        var features = [Double](repeating: 0, count: n * d)
        for v in 0..<n {
            let lo = Int(offsets[v]), hi = Int(offsets[v + 1])
            for f in lo..<hi {
                for j in 0..<d { features[v * d + j] += Double(bytes[f * d + j]) * 4 / 255 + 4.0 / 512 - 2 }
            }
            for j in 0..<d { features[v * d + j] /= Double(hi - lo) }
        }
        for j in 0..<d {
            let mean = (0..<n).reduce(0.0) { $0 + features[$1 * d + j] } / Double(n)
            for v in 0..<n { features[v * d + j] -= mean }
        }

        // Orthonormal basis of the nuisance directions (modified Gram–Schmidt), then project it out.
        var basis: [[Double]] = []
        for r in 0..<rank {
            var u = (0..<d).map { Double(nuisance[r * d + $0]) }
            for b in basis {
                let dot = zip(u, b).reduce(0) { $0 + $1.0 * $1.1 }
                for j in 0..<d { u[j] -= dot * b[j] }
            }
            let norm = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 1e-9 { basis.append(u.map { $0 / norm }) }
        }
        var cleaned = features
        cleaned.withUnsafeMutableBufferPointer { x in
            for b in basis {
                b.withUnsafeBufferPointer { b in
                    for v in 0..<n {
                        let row = x.baseAddress! + v * d
                        var dot = 0.0
                        for j in 0..<d { dot += row[j] * b[j] }
                        for j in 0..<d { row[j] -= dot * b[j] }
                    }
                }
            }
        }

        func nearestNeighbourTopicAgreement(_ x: [Double]) -> Double {
            var unit = x
            var agree = 0, queries = 0
            unit.withUnsafeMutableBufferPointer { u in
                for v in 0..<n {
                    var norm = 0.0
                    for j in 0..<d { norm += u[v * d + j] * u[v * d + j] }
                    for j in 0..<d { u[v * d + j] /= max(norm.squareRoot(), 1e-12) }
                }
                let base = UnsafePointer(u.baseAddress!)
                for q in stride(from: 0, to: n, by: 3) {   // every third video as a query, against all
                    var best = -Double.infinity, bestRow = -1
                    let query = base + q * d
                    for v in 0..<n where v != q {
                        let row = base + v * d
                        var dot = 0.0
                        for j in 0..<d { dot += query[j] * row[j] }
                        if dot > best { best = dot; bestRow = v }
                    }
                    queries += 1
                    if topic[bestRow] == topic[q] { agree += 1 }
                }
            }
            return Double(agree) / Double(queries)
        }
        let raw = nearestNeighbourTopicAgreement(features)
        let clean = nearestNeighbourTopicAgreement(cleaned)
        print("1-NN topic agreement: raw \(raw), nuisance removed \(clean)")
        XCTAssertLessThan(raw, 0.75)
        XCTAssertGreaterThan(clean, 0.8)
        XCTAssertGreaterThan(clean - raw, 0.25)
    }

    func testQuantisationIsYouTube8Ms() {
        // Hand-computed: byte q stands for q · 4/255 + 4/512 − 2.
        XCTAssertEqual(Quantisation.dequantise(0), -2 + 4.0 / 512, accuracy: 1e-6)
        XCTAssertEqual(Quantisation.dequantise(255), 2 + 4.0 / 512, accuracy: 1e-6)
        XCTAssertEqual(Quantisation.dequantise(128), 128 * 4.0 / 255 + 4.0 / 512 - 2, accuracy: 1e-6)
        XCTAssertEqual(Quantisation.quantise(-5), 0)
        XCTAssertEqual(Quantisation.quantise(5), 255)
        XCTAssertEqual(Quantisation.quantise(0), 127)   // ⌊2 · 255/4⌋ = ⌊127.5⌋
        for x in stride(from: Float(-1.99), through: 1.99, by: 0.013) {
            XCTAssertEqual(Quantisation.dequantise(Quantisation.quantise(x)), x, accuracy: 4.0 / 255 / 2 + 1e-3)
        }
    }

    func testInvalidConfigurationsAreRejectedWithTheOption() {
        var c = Fixture.small()
        c.stayProbability = 0.9
        c.siblingTopicProbability = 0.2
        XCTAssertThrowsError(try SyntheticCorpus(c)) { error in
            XCTAssertTrue("\(error)".contains("sibling"), "\(error)")
        }
        c = Fixture.small()
        c.framesMin = 10; c.framesMax = 5
        XCTAssertThrowsError(try SyntheticCorpus(c)) { error in
            XCTAssertEqual((error as? GCMLError)?.parameters.first, "framesMin", "\(error)")
        }
    }
}
