import Artifacts
import Foundation
import LinearAlgebra
import Support
#if canImport(Glibc)
import Glibc
#endif

/// extract-pca benchmark: fit + pool throughput and peak memory of the real
/// stage on a generated frames.h5 (low rank + noise), at two corpus sizes to show
/// that peak memory does not grow with frames, and scikit-learn's
/// PCA(svd_solver='covariance_eigh') fit + transform + numpy mean pooling on the
/// same file when Python has sklearn and h5py (bench/pca.py).
///
/// Options: --frames 200000 --small 50000 --dims 2048 --k 1500 --frames-per-video 100
///          --threads 2 --folder <tmp> --keep (keep the generated files)
enum PCABench {
    static func run(_ arguments: [String]) throws {
        var frames = 200_000, small = 50_000, dims = 2048, k = 1500, perVideo = 100, threads = 2
        var folder = NSTemporaryDirectory() + "gcml-pca-bench-\(ProcessInfo.processInfo.processIdentifier)"
        var keep = false
        var index = 0
        func value() throws -> String {
            index += 1
            guard index < arguments.count else { throw GCMLError("pca bench: \(arguments[index - 1]) needs a value") }
            return arguments[index]
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--frames": frames = Int(try value()) ?? frames
            case "--small": small = Int(try value()) ?? small
            case "--dims": dims = Int(try value()) ?? dims
            case "--k": k = Int(try value()) ?? k
            case "--frames-per-video": perVideo = Int(try value()) ?? perVideo
            case "--threads": threads = Int(try value()) ?? threads
            case "--folder": folder = try value()
            case "--keep": keep = true
            default: throw GCMLError("pca bench: unknown option \(arguments[index])")
            }
            index += 1
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { if !keep { try? FileManager.default.removeItem(atPath: folder) } }
        let stage = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("extract-pca").path
        guard FileManager.default.isExecutableFile(atPath: stage) else {
            throw GCMLError("pca bench: \(stage) not found (build the extract-pca product first)")
        }

        print("== extract-pca: \(dims) dims -> \(k), \(perVideo) frames per video, \(threads) BLAS threads ==")
        var large: (seconds: Double, peak: Double)?
        var largePath = ""
        for size in [small, frames] where size > 0 {
            let path = folder + "/frames-\(size).h5"
            let generated = Date()
            try generate(path: path, frames: size, dims: dims, perVideo: perVideo, seed: 7)
            note("pca bench: generated \(size) frames in \(String(format: "%.1f", Date().timeIntervalSince(generated))) s")
            let result = try measure(stage, ["--frames", path, "--out", folder + "/features-\(size).h5", "--dim", String(k),
                                             "--threads", String(threads)])
            print(String(format: "extract-pca  %7d frames: %6.2f s  %8.0f frames/s  peak RSS %7.1f MB",
                         size, result.seconds, Double(size) / result.seconds, result.peak))
            if size == frames { large = result; largePath = path }
        }

        guard let large else { return }
        guard BenchSupport.pythonHas("sklearn, h5py") else {
            print("scikit-learn peer: skipped (python3 with sklearn and h5py not available; pip install scikit-learn h5py)")
            return
        }
        let peer = try BenchSupport.runPython([BenchSupport.script("pca.py"), largePath, "--k", String(k), "--threads", String(threads)])
        guard peer.status == 0, let json = JSON.object(peer.output.split(separator: "\n").last.map(String.init) ?? ""),
              let total = json["total"] as? Double else {
            print("scikit-learn peer: failed\n\(peer.output)")
            return
        }
        for key in ["load", "fit", "transform", "pool"] {
            if let seconds = json[key] as? Double { print(String(format: "sklearn %-9@ %6.2f s", key as NSString, seconds)) }
        }
        print(String(format: "sklearn      %7d frames: %6.2f s  %8.0f frames/s  (h5py load + PCA fit + transform + mean pooling)",
                     frames, total, Double(frames) / total))
        print(String(format: "ratio: extract-pca is %.2fx faster than scikit-learn (end to end, file to pooled features)",
                     total / large.seconds))
        if let compute = json["compute"] as? Double {
            print(String(format: "       (%.2fx against sklearn's compute alone, without its h5py load)", compute / large.seconds))
        }
    }

    /// Low rank (64) + per-dimension noise + offsets: a spectrum with a clear head and a long tail.
    /// Written uncompressed in blocks (the generator's memory is not what is measured).
    static func generate(path: String, frames: Int, dims: Int, perVideo: Int, seed: UInt64) throws {
        if FileManager.default.fileExists(atPath: path) { return }
        var random = SeededGenerator(seed: seed)
        let rank = 64
        let basis = (0..<(rank * dims)).map { _ in Float(random.normal()) }
        let scale = (0..<rank).map { Float(3.0 / Double($0 + 1).squareRoot()) }
        let offset = (0..<dims).map { _ in Float(random.unit() * 2) }
        let noise = (0..<dims).map { _ in Float(0.2 + random.unit()) }
        let videos = (frames + perVideo - 1) / perVideo
        let temporary = path + ".partial"
        let file = try HDF5File.create(temporary)
        try file.root.write("video_id", strings: (0..<videos).map { String(format: "bench%07d", $0) })
        try file.root.write("frame_offsets", (0...videos).map { Int64(min($0 * perVideo, frames)) })
        let visual = try file.root.createDataset("visual", type: .float32, shape: [frames, dims], compression: .none)
        let block = 4096
        var latent = [Float](repeating: 0, count: block * rank)
        var rows = [Float](repeating: 0, count: block * dims)
        var start = 0
        while start < frames {
            let n = min(block, frames - start)
            for r in 0..<n { for c in 0..<rank { latent[r * rank + c] = Float(random.normal()) * scale[c] } }
            latent.withUnsafeBufferPointer { z in
                basis.withUnsafeBufferPointer { w in
                    rows.withUnsafeMutableBufferPointer { x in
                        BLAS.gemm(m: n, n: dims, k: rank, a: z.baseAddress!, lda: rank, b: w.baseAddress!, ldb: dims, c: x.baseAddress!, ldc: dims)
                    }
                }
            }
            for r in 0..<n {
                for j in 0..<dims {
                    let u = Float(Double(random.next() >> 40) * 0x1.0p-24) - 0.5
                    rows[r * dims + j] += offset[j] + noise[j] * u
                }
            }
            try rows.withUnsafeBufferPointer { try visual.writeRows(UnsafeBufferPointer(rebasing: $0[0..<(n * dims)]), at: start) }
            start += n
        }
        try file.close()
        guard rename(temporary, path) == 0 else { throw GCMLError("pca bench: could not rename \(temporary)") }
    }

    /// Runs a program, returns wall seconds and its own peak resident memory (wait4 rusage, MB).
    static func measure(_ program: String, _ arguments: [String]) throws -> (seconds: Double, peak: Double) {
        var environment = ProcessInfo.processInfo.environment
        environment["GCML_QUIET"] = "1"
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        fflush(stdout)   // our buffered lines first, then the child's
        let start = Date()
        guard posix_spawn(&pid, program, nil, nil, argv, envp) == 0 else { throw GCMLError("pca bench: could not start \(program)") }
        var status: Int32 = 0
        var usage = rusage()
        wait4(pid, &status, 0, &usage)
        let seconds = Date().timeIntervalSince(start)
        guard status == 0 else { throw GCMLError("pca bench: \(program) \(arguments.joined(separator: " ")) failed (status \(status))") }
        return (seconds, Double(usage.ru_maxrss) / 1024)
    }
}
