import Artifacts
import Contracts
import Features
import Foundation
import Ingestion
import Support

/// Frame-level TFRecord throughput: read + CRC, decode (direct wire walk and
/// swift-protobuf), dequantise and mean-pool, on generated YouTube-8M-shaped
/// shards (written here with a small encoder of its own). The files were just
/// written, so reads come from the page cache: this measures the CPU side.
///
///     gcml-bench tfrecord [--mb 300] [--frames 200] [--shards 4] [--folder DIR] [--keep]
///                         [--only crc,read,bytes,direct,protobuf,import,python]
enum TFRecordBench {
    static func run(_ arguments: [String]) throws {
        var megabytes = 300, meanFrames = 200, shardCount = 4, keep = false
        var only = Set(["crc", "read", "bytes", "direct", "protobuf", "import", "python"])
        var folder = NSTemporaryDirectory() + "gcml-bench-tfrecord-\(getpid())"
        var i = 0
        while i < arguments.count {
            let value = i + 1 < arguments.count ? arguments[i + 1] : ""
            switch arguments[i] {
            case "--mb": megabytes = Int(value) ?? megabytes; i += 1
            case "--frames": meanFrames = Int(value) ?? meanFrames; i += 1
            case "--shards": shardCount = Int(value) ?? shardCount; i += 1
            case "--folder": folder = value; i += 1
            case "--keep": keep = true
            case "--only": only = Set(value.split(separator: ",").map(String.init)); i += 1
            default: throw GCMLError("gcml-bench tfrecord: unknown argument \(arguments[i]) (options: --mb --frames --shards --folder --keep --only)")
            }
            i += 1
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { if !keep { try? FileManager.default.removeItem(atPath: folder) } }

        let written = Date()
        let (shards, videos, frames) = try writeShards(folder: folder, megabytes: megabytes, meanFrames: meanFrames, shards: shardCount)
        let bytes = shards.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
        var seconds = 0.0
        print(String(format: "generated %d shards, %d videos, %d frames, %.1f MB in %.1f s (%@)", shards.count, videos, frames,
                     Double(bytes) / 1e6, Date().timeIntervalSince(written), folder))

        func report(_ label: String, _ seconds: Double) {
            print(String(format: "%@ %6.2f s CPU %9.0f records/s %8.1f MB/s %7.0f k frames/s  (wall %.2f s, %.1f MB/s)",
                         label.padding(toLength: 44, withPad: " ", startingAt: 0) as NSString, seconds, Double(videos) / seconds, Double(bytes) / 1e6 / seconds,
                         Double(frames) / seconds / 1e3, lastWall, Double(bytes) / 1e6 / lastWall))
        }

        // 0. CRC-32C alone, over a 64 MiB buffer in memory.
        if only.contains("crc") {
        let block = [UInt8](repeating: 0x5A, count: 64 << 20)
        seconds = try timed { _ = block.withUnsafeBytes { CRC32C.checksum($0) } }
        print(String(format: "%@ %6.2f s CPU %28.1f MB/s", "CRC-32C (software, slicing-by-8), in memory".padding(toLength: 44, withPad: " ", startingAt: 0) as NSString, seconds,
                     Double(block.count) / 1e6 / seconds))
        }

        // 1. Framing only: buffered read + CRC-32C of every header and payload.
        if only.contains("read") {
        seconds = try timed {
            let stream = TFRecordStream(shards: shards)
            var n = 0
            while try stream.next() != nil { n += 1 }
            precondition(n == videos)
        }
        report("read + CRC-32C", seconds)
        }
        if only.contains("bytes") {
        seconds = try timed {
            let source = TFRecordFrameSource(shards: shards)
            while try source.nextRecord() != nil {}
        }
        report("decode (direct), quantised bytes only", seconds)
        }

        // 2./3. Decode + dequantise + mean-pool, with each decoder.
        var pooledSums: [TFRecordDecoderKind: Double] = [:]
        for kind in [TFRecordDecoderKind.direct, .protobuf] where only.contains(kind.rawValue) {
            var checksum = 0.0
            seconds = try timed {
                let source = TFRecordFrameSource(shards: shards, decoder: kind)
                var visual = [Float](repeating: 0, count: 1024), audio = [Float](repeating: 0, count: 128)
                while let video = try source.next() {
                    meanPool(video.visual, frames: video.frameCount, into: &visual)
                    meanPool(video.audio, frames: video.frameCount, into: &audio)
                    checksum += Double(visual[0]) + Double(audio[127])
                }
            }
            pooledSums[kind] = checksum
            report("decode (\(kind.rawValue)) + dequantise + pool", seconds)
        }
        if pooledSums.count == 2, pooledSums[.direct] != pooledSums[.protobuf] { print("WARNING: the two decoders disagree") }

        // 4. The converter: shards → frames.h5 (uint8, zstd).
        if only.contains("import") {
        let out = folder + "/frames.h5"
        seconds = try timed {
            _ = try FramesImport.write(shards: shards, out: out, writer: ArtifactWriter(createdBy: "gcml-bench", parameters: ["bench": true]))
        }
        report("gcml-import → frames.h5 (uint8, zstd)", seconds)
        }
        print("target: >= 200 MB/s on one core for decode + dequantise + pool (all rows above are single-threaded)")

        if only.contains("python") { try comparePython(shards: shards, bytes: bytes) }
    }

    /// Mean of the frames (row-major frames × D) into `output`.
    static func meanPool(_ values: [Float], frames: Int, into output: inout [Float]) {
        let d = output.count
        output.withUnsafeMutableBufferPointer { out in
            for j in 0..<d { out[j] = 0 }
            values.withUnsafeBufferPointer { v in
                for f in 0..<frames {
                    let row = f * d
                    for j in 0..<d { out[j] += v[row + j] }
                }
            }
            let scale = frames > 0 ? 1 / Float(frames) : 0
            for j in 0..<d { out[j] *= scale }
        }
    }

    /// CPU seconds of this process for `body` (the machine may be shared: CPU time
    /// is what one core spends, wall time also counts waiting for a core).
    static func timed(_ body: () throws -> Void) throws -> Double {
        let startWall = Date(), startCPU = cpuSeconds()
        try body()
        lastWall = Date().timeIntervalSince(startWall)
        return cpuSeconds() - startCPU
    }

    nonisolated(unsafe) static var lastWall = 0.0

    static func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// The same decode + dequantise + pool in Python (protobuf's upb parser + numpy),
    /// the usual way to read these shards without TensorFlow: bench/tfrecord.py.
    static func comparePython(shards: [String], bytes: Int) throws {
        guard BenchSupport.pythonHas("google.protobuf, numpy, crc32c") else {
            print("python peer: skipped (pip install protobuf crc32c numpy to compare)")
            return
        }
        let result = try BenchSupport.runPython([BenchSupport.script("tfrecord.py")] + shards)
        print(result.output, terminator: "")
    }

    // MARK: a small SequenceExample encoder (independent of the decoders under test)

    static func writeShards(folder: String, megabytes: Int, meanFrames: Int, shards: Int) throws -> ([String], Int, Int) {
        var generator = SeededGenerator(seed: 2026)
        let target = megabytes * 1_000_000
        let perShard = target / max(1, shards)
        var paths: [String] = [], videos = 0, frames = 0
        var record: [UInt8] = [], scratch: [UInt8] = []
        for s in 0..<max(1, shards) {
            let path = folder + String(format: "/train%04d.tfrecord", s)
            guard let file = fopen(path, "wb") else { throw GCMLError(file: path, expected: "a writable file", found: String(cString: strerror(errno))) }
            var written = 0
            while written < perShard {
                let count = max(1, meanFrames / 2 + generator.below(meanFrames + 1))
                let labels = (0..<generator.below(4)).map { _ in Int64(generator.below(3862)) }
                encodeVideo(id: "bench\(videos)", labels: labels, frames: count, generator: &generator, into: &record, scratch: &scratch)
                var header = [UInt8](repeating: 0, count: 12)
                withUnsafeBytes(of: UInt64(record.count).littleEndian) { for k in 0..<8 { header[k] = $0[k] } }
                let lengthCRC = CRC32C.masked(CRC32C.checksum(Array(header[0..<8])))
                withUnsafeBytes(of: lengthCRC.littleEndian) { for k in 0..<4 { header[8 + k] = $0[k] } }
                let payloadCRC = CRC32C.masked(CRC32C.checksum(record)).littleEndian
                fwrite(header, 1, 12, file)
                fwrite(record, 1, record.count, file)
                withUnsafeBytes(of: payloadCRC) { _ = fwrite($0.baseAddress, 1, 4, file) }
                written += 16 + record.count
                videos += 1
                frames += count
            }
            fclose(file)
            paths.append(path)
        }
        return (paths, videos, frames)
    }

    static func encodeVideo(id: String, labels: [Int64], frames: Int, generator: inout SeededGenerator,
                            into out: inout [UInt8], scratch: inout [UInt8]) {
        func varint(_ v: UInt64, _ b: inout [UInt8]) {
            var v = v
            while v >= 0x80 { b.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
            b.append(UInt8(v))
        }
        func field(_ number: Int, _ body: [UInt8], _ b: inout [UInt8]) {
            varint(UInt64(number << 3 | 2), &b)
            varint(UInt64(body.count), &b)
            b += body
        }
        func entry(_ key: String, _ value: [UInt8]) -> [UInt8] {
            var e: [UInt8] = []
            field(1, Array(key.utf8), &e)
            field(2, value, &e)
            return e
        }
        // context: Features { feature: {id: bytes_list}, {labels: int64_list} }
        var idFeature: [UInt8] = [], bytesList: [UInt8] = []
        field(1, Array(id.utf8), &bytesList)
        field(1, bytesList, &idFeature)
        var packed: [UInt8] = []
        for l in labels { varint(UInt64(bitPattern: l), &packed) }
        var int64List: [UInt8] = [], labelFeature: [UInt8] = []
        field(1, packed, &int64List)
        field(3, int64List, &labelFeature)
        var context: [UInt8] = []
        field(1, entry("id", idFeature), &context)
        field(1, entry("labels", labelFeature), &context)
        // feature_lists: { rgb: FeatureList[frames × Feature{bytes_list{1024 bytes}}] }, audio likewise
        var lists: [UInt8] = []
        for (key, dimension) in [("rgb", 1024), ("audio", 128)] {
            var list: [UInt8] = []
            for _ in 0..<frames {
                scratch.removeAll(keepingCapacity: true)
                for _ in 0..<(dimension / 8) {
                    withUnsafeBytes(of: generator.next()) { scratch.append(contentsOf: $0) }
                }
                var value: [UInt8] = [], feature: [UInt8] = []
                field(1, scratch, &value)
                field(1, value, &feature)
                field(1, feature, &list)
            }
            field(1, entry(key, list), &lists)
        }
        out.removeAll(keepingCapacity: true)
        field(1, context, &out)
        field(2, lists, &out)
    }
}

#if canImport(Glibc)
import Glibc
#endif
