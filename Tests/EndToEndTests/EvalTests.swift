import Artifacts
import Foundation
import Contracts
import Support
import XCTest

/// eval-map-ndcg and eval-gap on tiny generated inputs: a graph whose held-out
/// edges join videos of the same cluster, vectors that know the clusters (or not),
/// and labels that are the clusters.
final class EvalTests: XCTestCase {
    var folder: String!
    let videos = 60, clusters = 4, dimension = 6

    override func setUpWithError() throws {
        folder = try Executables.temporaryFolder()
        try writeInputs()
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: folder) }

    var ids: [String] { (0..<videos).map { "vid\($0)" } }
    func cluster(_ v: Int) -> Int { v % clusters }

    /// graph.h5 (every pair inside a cluster is an edge, ~30 % held out; videos 0…3
    /// cold-start: all their edges held out), embeddings.h5 (cluster-aware unit vectors),
    /// features.h5 (/visual random, labels = cluster and a second class for even videos).
    func writeInputs() throws {
        var generator = SeededGenerator(seed: 1)
        var train = [[Int32: Float]](repeating: [:], count: videos), heldout = train
        for a in 0..<videos { for b in (a + 1)..<videos where cluster(a) == cluster(b) {
            let draw = generator.below(10)
            if a < 4 || draw < 3 { heldout[a][Int32(b)] = 2; heldout[b][Int32(a)] = 2 }
            else { train[a][Int32(b)] = 1; train[b][Int32(a)] = 1 }
        } }
        func csr(_ rows: [[Int32: Float]], _ name: String, _ root: Group) throws {
            var indptr: [Int64] = [0], indices: [Int32] = [], weights: [Float] = []
            for row in rows {
                for column in row.keys.sorted() { indices.append(column); weights.append(row[column]!) }
                indptr.append(Int64(indices.count))
            }
            try CSRGraph(indptr: indptr, indices: indices, weights: weights).write(to: root, group: name)
        }
        try Artifact.write(folder + "/graph.h5", schema: .graph, createdBy: "test") { file in
            try file.root.write(DatasetPath.videoID, strings: ids)
            try csr(train, DatasetPath.Graph.train, file.root)
            try csr(heldout, DatasetPath.Graph.heldout, file.root)
            try file.root.write(DatasetPath.Graph.heldoutNodes, [Int32(0), 1, 2, 3])
        }
        var embedding = [Float](repeating: 0, count: videos * dimension)
        for v in 0..<videos {
            embedding[v * dimension + cluster(v)] = 1
            embedding[v * dimension + 5] = 0.05 * Float(generator.normal())
            var norm: Float = 0
            for j in 0..<dimension { norm += embedding[v * dimension + j] * embedding[v * dimension + j] }
            for j in 0..<dimension { embedding[v * dimension + j] /= norm.squareRoot() }
        }
        try Artifact.write(folder + "/embeddings.h5", schema: .embeddings, createdBy: "test") { file in
            try file.root.write(DatasetPath.videoID, strings: ids)
            try file.root.write(DatasetPath.Embeddings.embedding, embedding, shape: [videos, dimension])
        }
        try Artifact.write(folder + "/features.h5", schema: .features, createdBy: "test") { file in
            try file.root.write(DatasetPath.videoID, strings: ids)
            try file.root.write(DatasetPath.visual, (0..<(videos * 3)).map { _ in Float(generator.normal()) }, shape: [videos, 3])
            try file.root.write(DatasetPath.Features.frameCount, [Int32](repeating: 5, count: videos))
            var indptr: [Int64] = [0], indices: [Int32] = []
            for v in 0..<videos {
                indices.append(Int32(cluster(v)))
                if v % 2 == 0 { indices.append(Int32(clusters)) }
                indptr.append(Int64(indices.count))
            }
            try file.root.write(DatasetPath.Labels.indptr, indptr)
            try file.root.write(DatasetPath.Labels.indices, indices)
            try file.root.group("labels").setAttribute("num_classes", .int(Int64(clusters + 1)))
        }
    }

    func testRetrievalScoresClusterAwareEmbeddingsPerfectlyInBothCandidateModes() throws {
        for mode in ["heldout+random", "all"] {
            let out = folder + "/retrieval-\(mode).h5", json = folder + "/retrieval-\(mode).json"
            let run = try Executables.succeed("eval-map-ndcg", ["--vectors", folder + "/embeddings.h5", "--graph", folder + "/graph.h5",
                                                                "--out", out, "--candidates", mode, "--k", "10", "--negatives", "20",
                                                                "--json", json, "--seed", "3"])
            XCTAssertTrue(run.stdout.contains("MAP"), run.stdout)
            let file = try Artifact.open(out, as: .retrieval)
            let root = file.root
            // Held-out neighbours share the query's cluster direction; everything else is farther
            // (equal weights, so NDCG is 1 too).
            XCTAssertEqual(try root.doubleAttribute("map")!, 1, accuracy: 1e-9, mode)
            XCTAssertEqual(try root.doubleAttribute("ndcg_at_k")!, 1, accuracy: 1e-9, mode)
            XCTAssertEqual(try root.intAttribute("k"), 10)
            let queries: [Int32] = try root.read(DatasetPath.Retrieval.query)
            XCTAssertTrue(Set([0, 1, 2, 3]).isSubset(of: Set(queries)), "cold-start videos are queries")
            let indptr: [Int64] = try root.read(DatasetPath.Retrieval.candidatesIndptr)
            XCTAssertEqual(indptr.count, queries.count + 1)
            XCTAssertEqual(try root.read(DatasetPath.Retrieval.ap, as: Double.self).count, queries.count)
            let summary = try XCTUnwrap(JSON.object(String(contentsOfFile: json, encoding: .utf8)))
            XCTAssertEqual(summary["map"] as? Double ?? 0, 1, accuracy: 1e-9)
            try file.close()
        }
    }

    func testRetrievalEvaluatesRawFeaturesAndIsReproducible() throws {
        let args = ["--vectors", folder + "/features.h5:/visual", "--graph", folder + "/graph.h5", "--queries", "heldout-nodes", "--seed", "5"]
        try Executables.succeed("eval-map-ndcg", args + ["--out", folder + "/a.h5"])
        try Executables.succeed("eval-map-ndcg", args + ["--out", folder + "/b.h5"])
        let a = try Artifact.open(folder + "/a.h5", as: .retrieval), b = try Artifact.open(folder + "/b.h5", as: .retrieval)
        XCTAssertEqual(try a.root.read(DatasetPath.Retrieval.query, as: Int32.self), [0, 1, 2, 3])
        XCTAssertEqual(try a.root.read(DatasetPath.Retrieval.candidatesIndex, as: Int32.self), try b.root.read(DatasetPath.Retrieval.candidatesIndex, as: Int32.self))
        let map = try XCTUnwrap(a.root.doubleAttribute("map"))
        XCTAssertTrue(map > 0 && map <= 1, "\(map)")
    }

    func testMismatchedVectorsAreRejectedWithFileAndDataset() throws {
        try Artifact.write(folder + "/short.h5", schema: .embeddings, createdBy: "test") { file in
            try file.root.write(DatasetPath.videoID, strings: Array(ids.prefix(10)))
            try file.root.write(DatasetPath.Embeddings.embedding, [Float](repeating: 1, count: 10 * 2), shape: [10, 2])
        }
        let run = try Executables.run("eval-map-ndcg", ["--vectors", folder + "/short.h5", "--graph", folder + "/graph.h5", "--out", folder + "/r.h5"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("short.h5") && run.stderr.contains("/embedding") && run.stderr.contains("60 rows"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/r.h5"))
    }

    func testAnnotationOfClusterAwareEmbeddingsIsNearPerfect() throws {
        let out = folder + "/annotation.h5", json = folder + "/annotation.json"
        let run = try Executables.succeed("eval-gap", ["--vectors", folder + "/embeddings.h5", "--labels", folder + "/features.h5",
                                                       "--out", out, "--epochs", "60", "--learning-rate", "0.05", "--batch-size", "16",
                                                       "--test-fraction", "0.3", "--save-predictions", "--json", json, "--seed", "2"])
        XCTAssertTrue(run.stdout.contains("GAP"), run.stdout)
        let file = try Artifact.open(out, as: .annotation)
        let root = file.root
        let testRows: [Int32] = try root.read(DatasetPath.Annotation.testRows)
        XCTAssertFalse(testRows.isEmpty)
        XCTAssertEqual(try root.dataset(DatasetPath.Annotation.topClass).shape, [testRows.count, 5])   // K = min(20, 5 classes)
        XCTAssertEqual(try root.dataset(DatasetPath.Annotation.predictions).shape, [testRows.count, 5])
        // The cluster label is a direction of the embedding; the even/odd label is not learnable,
        // so GAP is high but not 1; Hit@1 needs the cluster class first.
        XCTAssertGreaterThan(try XCTUnwrap(root.doubleAttribute("hit_at_1")), 0.9)
        XCTAssertGreaterThan(try XCTUnwrap(root.doubleAttribute("gap")), 0.7)
        for name in ["map", "hit_at_5", "perr"] { XCTAssertNotNil(try root.doubleAttribute(name), name) }
        let summary = try XCTUnwrap(JSON.object(String(contentsOfFile: json, encoding: .utf8)))
        XCTAssertEqual(summary["test_videos"] as? Int, testRows.count)
        try file.close()
    }

    func testAnnotationWithoutLabelsFails() throws {
        let run = try Executables.run("eval-gap", ["--vectors", folder + "/embeddings.h5", "--labels", folder + "/graph.h5", "--out", folder + "/a.h5"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains("graph.h5") && run.stderr.contains("/labels"), run.stderr)
    }
}
