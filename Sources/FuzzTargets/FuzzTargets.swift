import Artifacts
import Ingestion
import Foundation
import Graphs
import Interactions
import Support

/// The bodies of the libFuzzer targets (fuzz/*.swift; `make fuzz`), kept in a library so
/// unit tests replay every crash the fuzzer found (Tests/FuzzTests/Regressions).
/// Each takes arbitrary bytes; a thrown error is the expected refusal, a trap is a bug.
public enum FuzzTargets {
    public static let names = ["lines", "tfrecord", "artifact"]

    public static func run(_ name: String, _ data: UnsafeRawBufferPointer) {
        switch name {
        case "lines": interactionLines(data)
        case "tfrecord": tfrecord(data)
        case "artifact": artifact(data)
        default: preconditionFailure("unknown fuzz target \(name)")
        }
    }

    static let index: VideoIndex = {
        // Ids the inputs can hit: v0…v9, plus short ones a mutation finds quickly.
        try! VideoIndex(ids: (0..<10).map { "v\($0)" } + ["a", "b", "c"], source: "fuzz")
    }()

    /// Session lines (user, time, video) or pair lines (a, b[, weight]) through the same
    /// counters build-graph uses, then into graph edges. The first byte picks the format.
    public static func interactionLines(_ data: UnsafeRawBufferPointer) {
        guard let mode = data.first else { return }
        let text = UnsafeRawBufferPointer(rebasing: data[1...])
        do {
            let pairs: PairCounter
            if mode & 1 == 0 {
                var counter = CoWatchCounter(index: index, window: Int(mode >> 2) % 7 + 2, source: "fuzz.tsv", skipMalformed: mode & 2 != 0)
                try TextInput.forEachLine(in: text) { line, number in try counter.consume(line, lineNumber: number) }
                counter.finish()
                pairs = counter.pairs
            } else {
                var counter = PairListCounter(index: index, source: "fuzz.tsv", skipMalformed: mode & 2 != 0)
                try TextInput.forEachLine(in: text) { line, number in try counter.consume(line, lineNumber: number) }
                pairs = counter.pairs
            }
            _ = UndirectedEdges.from(pairs.sortedSums(), nodes: index.count, weighting: .count)
        } catch {}
    }

    /// TFRecord framing (lengths, CRCs) and the protobuf decoding of frame-level records.
    /// Checksums are verified only when the first byte is odd, so mutations reach the decoder.
    public static func tfrecord(_ data: UnsafeRawBufferPointer) {
        guard let flags = data.first else { return }
        let path = scratch("tfrecord")
        guard FileManager.default.createFile(atPath: path, contents: Data(data[1...])) else { return }
        defer { unlink(path) }
        // The layout of the seed shards (tests/fixtures/make_tfrecords.py, "custom").
        let layout = YouTube8MLayout(idKey: "video_key", labelsKey: "classes", visualKey: "frame_visual", audioKey: "frame_sound",
                                     visualDimension: 12, audioDimension: 4, numClasses: 10)
        let decoder = FrameLevelDecoder(layout: layout, kind: flags & 2 == 0 ? .direct : .protobuf)
        do {
            let reader = try TFRecordReader(path: path, bufferSize: 64, verifyChecksums: flags & 1 == 1)
            var record = FrameLevelRecord()
            loop: for _ in 0..<1000 {
                switch try reader.read() {
                case .record(let payload, let offset):
                    do { try decoder.decode(payload, into: &record, file: path, offset: offset) } catch {}
                case .corrupt(let corruption) where corruption.resumable: continue
                case .corrupt, .end: break loop
                }
            }
        } catch {}
    }

    /// A (mutated) HDF5 file validated against every contract and read back in full,
    /// as a stage opening it would; only files of modest declared size are read.
    public static func artifact(_ data: UnsafeRawBufferPointer) {
        let path = scratch("h5")
        guard FileManager.default.createFile(atPath: path, contents: Data(data)) else { return }
        defer { unlink(path) }
        guard let file = try? HDF5File.open(path) else { return }
        defer { try? file.close() }
        for kind in SchemaKind.allCases { _ = try? SchemaValidator.validate(file, as: kind) }
        guard let paths = try? file.root.datasetPaths() else { return }
        for datasetPath in paths.prefix(64) {
            guard let dataset = try? file.root.dataset(datasetPath), dataset.count <= 1 << 20 else { continue }
            switch dataset.elementType {
            case .string: _ = try? dataset.readStrings()
            case .float32: _ = try? dataset.read(as: Float.self)
            case .float64: _ = try? dataset.read(as: Double.self)
            case .int8: _ = try? dataset.read(as: Int8.self)
            case .uint8: _ = try? dataset.read(as: UInt8.self)
            case .int32: _ = try? dataset.read(as: Int32.self)
            case .int64: _ = try? dataset.read(as: Int64.self)
            }
        }
        _ = try? file.root.attributeNames().map { try file.root.attribute($0) }
    }

    private static func scratch(_ suffix: String) -> String {
        (ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp") + "/gcml-fuzz-\(getpid()).\(suffix)"
    }
}
