// swift-tools-version:6.1
import PackageDescription

// Library modules hold the logic, one concern each; executables are thin stages over StageKit
// (option groups, typed choices, artifact stamps: the one library that knows the command line).
// Layers (docs/architecture.md): foundations (Support, Artifacts, LinearAlgebra) <- Contracts
// (one typed reader/writer per artifact kind) <- algorithm modules, which depend on those and
// never on each other <- stages. C is called only from the modules that wrap it: Artifacts
// (HDF5), LinearAlgebra (OpenBLAS/LAPACK) and Interactions (zlib, zstd stream decompression),
// Distributed (MPI, through MPIShim), through the system-library targets and the GCMLShim C target (macros Swift cannot import,
// the HDF5 zstd filter); besides them only the C standard library (Glibc) is imported.
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

func stage(_ name: String, _ deps: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: deps + ["StageKit", "Support", argumentParser], path: "Sources/\(name)")
}

let package = Package(
    name: "gcml",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "gcml-check", targets: ["gcml-check"]),
        .executable(name: "gcml-synth", targets: ["gcml-synth"]),
        .executable(name: "extract-pca", targets: ["extract-pca"]),
        .executable(name: "gcml-import", targets: ["gcml-import"]),
        .executable(name: "build-graph", targets: ["build-graph"]),
        .executable(name: "affinity-tree", targets: ["affinity-tree"]),
        .executable(name: "sample-triplets", targets: ["sample-triplets"]),
        .executable(name: "train-embed", targets: ["train-embed"]),
        .executable(name: "eval-map-ndcg", targets: ["eval-map-ndcg"]),
        .executable(name: "eval-gap", targets: ["eval-gap"]),
        .executable(name: "gcml-report", targets: ["gcml-report"]),
        .executable(name: "gcml-ablation-report", targets: ["gcml-ablation-report"]),
        .executable(name: "gcml-bench", targets: ["gcml-bench"]),
        .executable(name: "gcml-mpi-check", targets: ["gcml-mpi-check"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
    ],
    targets: [
        // C libraries from Debian and the one shim for what Swift cannot import.
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .target(name: "GCMLShim", dependencies: ["CHDF5", "COpenBLAS", "CZstd"], path: "Sources/GCMLShim"),
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .target(name: "MPIShim", dependencies: ["CMPI"], path: "Sources/MPIShim"),

        // Foundations: shared types and errors, the HDF5 layer, dense linear algebra.
        .target(name: "Support", path: "Sources/Support"),
        .target(name: "Artifacts", dependencies: ["GCMLShim", "CHDF5", "Support"], path: "Sources/Artifacts"),
        // The distributed runtime: the only module that calls MPI.
        .target(name: "Distributed", dependencies: ["MPIShim", "CMPI", "Artifacts", "Support"], path: "Sources/Distributed"),
        .target(name: "LinearAlgebra", dependencies: ["GCMLShim", "COpenBLAS", "Support"], path: "Sources/LinearAlgebra"),
        // One typed value per artifact kind, with its reader and writer.
        .target(name: "Contracts", dependencies: ["Artifacts", "Support"], path: "Sources/Contracts"),
        // Algorithm modules: Contracts and foundations only, never each other.
        .target(name: "Ingestion", dependencies: ["Contracts", "Artifacts", "Support",
                                                  .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                path: "Sources/Ingestion"),
        .target(name: "Features", dependencies: ["Contracts", "Distributed", "Artifacts", "LinearAlgebra", "Support"], path: "Sources/Features"),
        .target(name: "Interactions", dependencies: ["Contracts", "Distributed", "Artifacts", "Support", "CZstd", "CZlib"], path: "Sources/Interactions"),
        .target(name: "Graphs", dependencies: ["Contracts", "Distributed", "Artifacts", "LinearAlgebra", "Support"], path: "Sources/Graphs"),
        .target(name: "Sampling", dependencies: ["Contracts", "Distributed", "Artifacts", "Support"], path: "Sources/Sampling"),
        .target(name: "Embedding", dependencies: ["Contracts", "Artifacts", "Distributed", "LinearAlgebra", "Support"], path: "Sources/Embedding"),
        .target(name: "Metrics", dependencies: ["Contracts", "Artifacts", "Distributed", "LinearAlgebra", "Support"], path: "Sources/Metrics"),
        .target(name: "Synthetic", dependencies: ["Contracts", "Artifacts", "LinearAlgebra", "Support"], path: "Sources/Synthetic"),
        .target(name: "Reporting", dependencies: ["Contracts", "Artifacts", "Support"], path: "Sources/Reporting"),
        // Bodies of the libFuzzer targets (fuzz/, `make fuzz`), replayed by FuzzTests.
        .target(name: "FuzzTargets", dependencies: ["Contracts", "Artifacts", "Ingestion", "Interactions", "Graphs", "Support"], path: "Sources/FuzzTargets"),
        // Option groups, typed choices, artifact stamps and error wording shared by every stage.
        .target(name: "StageKit", dependencies: ["Contracts", "Artifacts", "Distributed", "Support", "Ingestion", "Features", "Graphs", "Interactions", "Sampling", "Embedding",
                                                 "Metrics", "Synthetic", "LinearAlgebra", argumentParser], path: "Sources/StageKit"),

        // Stages: options -> library call -> artifact.
        stage("gcml-check", ["Contracts", "Artifacts"]),
        stage("gcml-mpi-check", ["Distributed"]),
        stage("gcml-synth", ["Contracts", "Synthetic", "Artifacts"]),
        stage("extract-pca", ["Contracts", "Ingestion", "Features", "Distributed", "Artifacts"]),
        stage("gcml-import", ["Contracts", "Ingestion", "Artifacts"]),
        stage("build-graph", ["Contracts", "Interactions", "Graphs", "Distributed", "Artifacts"]),
        stage("affinity-tree", ["Contracts", "Graphs", "Distributed", "Artifacts"]),
        stage("sample-triplets", ["Contracts", "Sampling", "Distributed", "Artifacts"]),
        stage("train-embed", ["Contracts", "Embedding", "Distributed", "Artifacts"]),
        stage("eval-map-ndcg", ["Contracts", "Metrics", "Distributed", "LinearAlgebra", "Artifacts"]),
        stage("eval-gap", ["Contracts", "Metrics", "Distributed", "LinearAlgebra", "Artifacts"]),
        stage("gcml-report", ["Contracts", "Reporting", "Artifacts"]),
        stage("gcml-ablation-report", ["Contracts", "Reporting", "Artifacts"]),
        // A bench tool, not a stage.
        .executableTarget(name: "gcml-bench", dependencies: ["Contracts", "Artifacts", "LinearAlgebra", "Ingestion", "Features", "Interactions",
                                                             "Graphs", "Sampling", "Embedding", "Metrics", "Synthetic", "Distributed", "Support"],
                          path: "Sources/gcml-bench"),

        // Tests: one target per module, plus end-to-end tests over the built executables; TestSupport holds
        // what they share (temporary folders, running processes, small graphs).
        .target(name: "TestSupport", dependencies: ["Contracts"], path: "Tests/TestSupport"),
        .testTarget(name: "SupportTests", dependencies: ["Support"], path: "Tests/SupportTests"),
        .testTarget(name: "ArtifactsTests", dependencies: ["TestSupport", "Contracts", "Artifacts", "Support"], path: "Tests/ArtifactsTests"),
        .testTarget(name: "LinearAlgebraTests", dependencies: ["LinearAlgebra", "GCMLShim"], path: "Tests/LinearAlgebraTests"),
        .testTarget(name: "ContractsTests", dependencies: ["TestSupport", "Contracts", "Artifacts", "Support"], path: "Tests/ContractsTests"),
        .testTarget(name: "IngestionTests", dependencies: ["TestSupport", "Contracts", "Ingestion", "Artifacts", "Support"], path: "Tests/IngestionTests"),
        .testTarget(name: "FeaturesTests", dependencies: ["TestSupport", "Contracts", "Features", "Distributed", "Artifacts", "LinearAlgebra", "Support"],
                    path: "Tests/FeaturesTests"),
        .testTarget(name: "InteractionsTests", dependencies: ["TestSupport", "Contracts", "Interactions", "Graphs", "Distributed", "Support"], path: "Tests/InteractionsTests"),
        .testTarget(name: "GraphsTests", dependencies: ["TestSupport", "Contracts", "Graphs", "Artifacts", "LinearAlgebra", "Support"], path: "Tests/GraphsTests"),
        .testTarget(name: "SamplingTests", dependencies: ["TestSupport", "Contracts", "Sampling", "Graphs", "Support"], path: "Tests/SamplingTests"),
        .testTarget(name: "EmbeddingTests", dependencies: ["TestSupport", "Contracts", "Distributed", "Embedding", "LinearAlgebra", "Support"], path: "Tests/EmbeddingTests"),
        .testTarget(name: "MetricsTests", dependencies: ["TestSupport", "Contracts", "Metrics", "LinearAlgebra", "Artifacts", "Support"], path: "Tests/MetricsTests"),
        .testTarget(name: "SyntheticTests", dependencies: ["TestSupport", "Contracts", "Synthetic", "Artifacts", "Support"], path: "Tests/SyntheticTests"),
        .testTarget(name: "StageKitTests", dependencies: ["TestSupport", "StageKit", "Ingestion", "Sampling", "Support", argumentParser],
                    path: "Tests/StageKitTests"),
        .testTarget(name: "FuzzTests", dependencies: ["FuzzTargets"], path: "Tests/FuzzTests", exclude: ["Regressions"]),
        .testTarget(name: "DistributedTests", dependencies: ["TestSupport", "Distributed", "Support"], path: "Tests/DistributedTests"),
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport", "Contracts", "Artifacts", "Reporting", "Support"], path: "Tests/EndToEndTests"),
    ],
    swiftLanguageModes: [.v5]
)
