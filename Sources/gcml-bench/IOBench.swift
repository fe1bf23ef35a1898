import Artifacts
import Foundation
import Support

/// HDF5 throughput of the artifact layer on realistic data: low-rank float32
/// features (barely compressible, like real ones) and uint8-quantised frames.
enum IOBench {
    static func run(_ arguments: [String]) throws {
        let megabytes = Int(ProcessInfo.processInfo.environment["GCML_BENCH_IO_MB"] ?? "") ?? 1024
        let columns = 1024
        let rows = megabytes * (1 << 20) / (columns * 4)
        let folder = NSTemporaryDirectory() + "gcml-bench-io-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }

        // Low-rank + noise rows in one 64 MiB block, reused: generating 1 GiB of random
        // numbers would cost more than the I/O being measured.
        let blockRows = min(rows, 16384)
        var rng = SeededGenerator(seed: 1)
        let rank = 16
        let basis = (0..<(rank * columns)).map { _ in Float(rng.normal()) }
        var block = [Float](repeating: 0, count: blockRows * columns)
        for r in 0..<blockRows {
            let weights = (0..<rank).map { _ in Float(rng.normal()) }
            for c in 0..<columns {
                var v: Float = 0.05 * Float(rng.normal())
                for k in 0..<rank { v += weights[k] * basis[k * columns + c] }
                block[r * columns + c] = v * 0.1
            }
        }
        let quantised = block.map { UInt8(max(0, min(255, ($0 + 2) / 4 * 255))) }
        print("data: \(rows) x \(columns) float32 (\(megabytes) MiB), low-rank + noise; chunks 1024 x 1024")

        for (label, compression) in [("none", Compression.none), ("zstd-3", Compression.zstd(level: 3, shuffle: false))] {
            let path = folder + "/\(label).h5"
            let (_, writeSeconds) = try BenchSupport.time {
                let file = try HDF5File.create(path)
                let dataset = try file.root.createDataset("x", type: .float32, shape: [0, columns], extendable: true,
                                                          compression: compression, chunkRows: 1024)
                var written = 0
                while written < rows {
                    let n = min(blockRows, rows - written)
                    try block.withUnsafeBufferPointer { try dataset.append(UnsafeBufferPointer(rebasing: $0[0..<(n * columns)])) }
                    written += n
                }
                try file.close()
            }
            let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.doubleValue ?? 0
            dropCache(path)
            let (_, readSeconds) = try BenchSupport.time {
                let file = try HDF5File.open(path)
                let dataset = try file.root.dataset("x")
                var buffer = [Float](repeating: 0, count: blockRows * columns)
                var read = 0
                while read < rows {
                    let n = min(blockRows, rows - read)
                    try buffer.withUnsafeMutableBufferPointer { try dataset.readRows(read..<(read + n), into: UnsafeMutableBufferPointer(rebasing: $0[0..<(n * columns)])) }
                    read += n
                }
            }
            let mb = Double(rows * columns * 4) / 1e6
            print("gcml float32 \(label): write \(BenchSupport.format(mb / writeSeconds, 0)) MB/s, read \(BenchSupport.format(mb / readSeconds, 0)) MB/s, ratio \(BenchSupport.format(mb * 1e6 / size, 2))")
            if BenchSupport.pythonHas("h5py, hdf5plugin, numpy"),
               let peer = BenchSupport.peer("io.py", [folder + "/peer-\(label).h5", label, String(megabytes)]),
               let peerWrite = peer["write_mbps"], let peerRead = peer["read_mbps"] {
                print("h5py float32 \(label): write \(BenchSupport.format(peerWrite, 0)) MB/s, read \(BenchSupport.format(peerRead, 0)) MB/s  → gcml/h5py write ×\(BenchSupport.format(mb / writeSeconds / peerWrite, 2)), read ×\(BenchSupport.format(mb / readSeconds / peerRead, 2))")
            }
            try? FileManager.default.removeItem(atPath: path)
        }

        // uint8-quantised frames (YouTube-8M style) compress far better.
        let path = folder + "/u8.h5"
        let u8Rows = rows * 4 / 4
        let (_, seconds) = try BenchSupport.time {
            let file = try HDF5File.create(path)
            let dataset = try file.root.createDataset("x", type: .uint8, shape: [0, columns], extendable: true,
                                                      compression: .defaultZstd, chunkRows: 1024)
            var written = 0
            while written < u8Rows {
                let n = min(blockRows, u8Rows - written)
                try quantised.withUnsafeBufferPointer { try dataset.append(UnsafeBufferPointer(rebasing: $0[0..<(n * columns)])) }
                written += n
            }
            try file.close()
        }
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.doubleValue ?? 1
        let mb = Double(u8Rows * columns) / 1e6
        print("gcml uint8 zstd-3: write \(BenchSupport.format(mb / seconds, 0)) MB/s, ratio \(BenchSupport.format(mb * 1e6 / size, 2))")
    }

    /// Asks the kernel to forget the file's pages so the read is cold (best effort).
    static func dropCache(_ path: String) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return }
        fsync(fd)
        posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
        close(fd)
    }
}
