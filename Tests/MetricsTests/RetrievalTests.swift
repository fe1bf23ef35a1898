import Contracts
import Foundation
import LinearAlgebra
import Metrics
import Support
import XCTest

/// Random unit vectors (row-major) for tests.
func randomUnitRows(_ rows: Int, _ dimension: Int, seed: UInt64) -> [Float] {
    var generator = SeededGenerator(seed: seed)
    var values = (0..<(rows * dimension)).map { _ in Float(generator.normal()) }
    for r in 0..<rows {
        let norm = (0..<dimension).reduce(Float(0)) { $0 + values[r * dimension + $1] * values[r * dimension + $1] }.squareRoot()
        for j in 0..<dimension { values[r * dimension + j] /= norm }
    }
    return values
}

func dot(_ v: [Float], _ a: Int, _ b: Int, _ d: Int) -> Float {
    (0..<d).reduce(Float(0)) { $0 + v[a * d + $1] * v[b * d + $1] }
}

/// A random symmetric graph split into train and held-out edges, with some cold-start nodes.
func randomRelationalGraph(nodes: Int, edges: Int, coldNodes: Int, seed: UInt64) -> RelationalGraph {
    var generator = SeededGenerator(seed: seed)
    let cold = Set((0..<coldNodes).map { _ in Int32(generator.below(nodes)) })
    var seen = Set<[Int32]>()
    var train: ([Int32], [Int32], [Float]) = ([], [], []), heldout: ([Int32], [Int32], [Float]) = ([], [], [])
    for _ in 0..<edges {
        let a = Int32(generator.below(nodes)), b = Int32(generator.below(nodes))
        guard a != b, seen.insert([min(a, b), max(a, b)]).inserted else { continue }
        let weight = Float(1 + generator.below(5))
        let toHeldout = cold.contains(a) || cold.contains(b) || generator.below(4) == 0
        if toHeldout {
            heldout.0 += [a, b]; heldout.1 += [b, a]; heldout.2 += [weight, weight]
        } else {
            train.0 += [a, b]; train.1 += [b, a]; train.2 += [weight, weight]
        }
    }
    return RelationalGraph(videoIDs: (0..<nodes).map { "v\($0)" },
                           train: CSRGraph.fromEntries(nodes: nodes, rows: train.0, columns: train.1, weights: train.2),
                           heldout: CSRGraph.fromEntries(nodes: nodes, rows: heldout.0, columns: heldout.1, weights: heldout.2),
                           heldoutNodes: cold.sorted())
}

final class CorpusRankingTests: XCTestCase {
    func testFullCorpusRankingEqualsBruteForce() {
        let n = 300, d = 8, k = 10
        let corpus = randomUnitRows(n, d, seed: 3)
        var generator = SeededGenerator(seed: 4)
        let queries = (0..<37).map { _ in generator.below(n) }
        let excluded = queries.map { _ in (0..<generator.below(6)).map { _ in Int32(generator.below(n)) } }
        // Some queries with many targets: counting switches from passes over four targets at a time to the lookup table (> 64).
        let targets = queries.map { q in
            (0..<(generator.below(3) == 0 ? 17 + generator.below(90) : generator.below(5))).map { _ in Int32(generator.below(n)) }.filter { Int($0) != q }
        }
        // Small blocks exercise the block edges; the result must not depend on them.
        for (queryBlock, corpusBlock, threads) in [(7, 50, 1), (1024, 4096, 2), (5, 299, 2)] {
            let ranking = CorpusRanking(k: k, queryBlock: queryBlock, corpusBlock: corpusBlock, threads: threads)
            let result = corpus.withUnsafeBufferPointer {
                ranking.rank(corpus: $0, rows: n, dimension: d, queryRows: queries, excluded: excluded, targets: targets)
            }
            XCTAssertEqual(result.k, k)
            for (i, q) in queries.enumerated() {
                let skip = Set(excluded[i]).subtracting(targets[i]).union([Int32(q)])
                let ranked = (0..<n).filter { !skip.contains(Int32($0)) }
                let scores = Dictionary(uniqueKeysWithValues: ranked.map { ($0, dot(corpus, q, $0, d)) })
                let expected = ranked.sorted { scores[$0]! > scores[$1]! || (scores[$0]! == scores[$1]! && $0 < $1) }.prefix(k)
                XCTAssertEqual(result.top[(i * k)..<((i + 1) * k)].map(Int.init), Array(expected), "query \(q) blocks \(queryBlock)x\(corpusBlock)")
                for (j, row) in expected.enumerated() {
                    XCTAssertEqual(result.topScores[i * k + j], scores[row]!, accuracy: 1e-5)
                }
                for (t, target) in targets[i].enumerated() {
                    let s = dot(corpus, q, Int(target), d)
                    XCTAssertEqual(result.targetScores[i][t], s, accuracy: 1e-5)
                    XCTAssertEqual(result.targetCounts[i][t], ranked.filter { scores[$0]! >= s }.count, "query \(q) target \(target)")
                }
            }
        }
    }

    /// Many targets (vector passes up to 64, then the lookup-table count) on vectors with many exactly equal scores: ties
    /// between videos and thresholds, thresholds sharing a bin, excluded rows at -infinity.
    func testManyTargetCountsWithTiesEqualBruteForce() {
        let n = 400, d = 4
        // Eight distinct directions with exactly representable coordinates: scores repeat exactly.
        let directions: [[Float]] = [[1, 0, 0, 0], [0, 1, 0, 0], [0.5, 0.5, 0.5, 0.5], [-1, 0, 0, 0],
                                     [0.6, 0.8, 0, 0], [0, 0, 0.8, -0.6], [0.5, -0.5, 0.5, -0.5], [0, 0, 0, 1]]
        var generator = SeededGenerator(seed: 12)
        let corpus = (0..<n).flatMap { _ in directions[generator.below(directions.count)] }
        let queries = (0..<40).map { _ in generator.below(n) }
        let excluded = queries.map { _ in (0..<generator.below(30)).map { _ in Int32(generator.below(n)) } }
        let targets = queries.map { q in (0..<(9 + generator.below(140))).map { _ in Int32(generator.below(n)) }.filter { Int($0) != q } }
        for (queryBlock, corpusBlock, threads) in [(16, 64, 2), (1024, 1024, 1)] {
            let ranking = CorpusRanking(k: 7, queryBlock: queryBlock, corpusBlock: corpusBlock, threads: threads)
            let result = corpus.withUnsafeBufferPointer {
                ranking.rank(corpus: $0, rows: n, dimension: d, queryRows: queries, excluded: excluded, targets: targets)
            }
            for (i, q) in queries.enumerated() {
                let skip = Set(excluded[i]).subtracting(targets[i]).union([Int32(q)])
                let ranked = (0..<n).filter { !skip.contains(Int32($0)) }
                for (t, target) in targets[i].enumerated() {
                    let s = dot(corpus, q, Int(target), d)
                    XCTAssertEqual(result.targetCounts[i][t], ranked.filter { dot(corpus, q, $0, d) >= s }.count, "query \(q) target \(target)")
                }
            }
        }
    }

    func testTiesRankTheLowerRowFirstAndCountTheWholeTie() {
        // Rows 1…4 are the same vector; row 5 is orthogonal; row 0 is the query.
        let corpus: [Float] = [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1]
        let result = corpus.withUnsafeBufferPointer {
            CorpusRanking(k: 2).rank(corpus: $0, rows: 6, dimension: 2, queryRows: [0], excluded: [[2]], targets: [[4, 5]])
        }
        XCTAssertEqual(result.top, [1, 3])
        XCTAssertEqual(result.topScores, [1, 1])
        // Target 4 ties with 1 and 3 (2 is excluded): three videos score ≥ 1; target 5 is last of four.
        XCTAssertEqual(result.targetCounts[0], [3, 4])
        XCTAssertEqual(result.targetScores[0], [1, 0])
    }

    func testFewerRankableRowsThanKArePadded() {
        let corpus: [Float] = [1, 0, 0.5, 0.5, 0, 1]
        let result = corpus.withUnsafeBufferPointer {
            CorpusRanking(k: 2).rank(corpus: $0, rows: 3, dimension: 2, queryRows: [0], excluded: [[1]], targets: [[]])
        }
        XCTAssertEqual(result.top, [2, -1])
        XCTAssertEqual(result.topScores[1], -.infinity)
    }
}

final class RetrievalEvaluationTests: XCTestCase {
    func testQuerySetsSplitColdAndWarmVideosWithHeldoutEdges() {
        let graph = randomRelationalGraph(nodes: 80, edges: 300, coldNodes: 6, seed: 1)
        let cold = Set(graph.heldoutNodes.map(Int.init))
        let withHeldout = (0..<80).filter { graph.heldout.degree($0) > 0 }
        XCTAssertEqual(RetrievalEvaluation.queryRows(graph, .both), withHeldout)
        XCTAssertEqual(RetrievalEvaluation.queryRows(graph, .heldoutNodes), withHeldout.filter { cold.contains($0) })
        XCTAssertEqual(RetrievalEvaluation.queryRows(graph, .heldoutEdges), withHeldout.filter { !cold.contains($0) })
        for row in RetrievalEvaluation.queryRows(graph, .heldoutNodes) { XCTAssertEqual(graph.train.degree(row), 0) }
    }

    func testSampledCandidatesAreHeldoutNeighboursPlusSeededNonNeighbours() throws {
        let n = 120, d = 6
        let graph = randomRelationalGraph(nodes: n, edges: 500, coldNodes: 8, seed: 2)
        let vectors = randomUnitRows(n, d, seed: 5)
        let evaluation = RetrievalEvaluation(k: 5, candidates: .heldoutRandom, negatives: 20, queries: .both, seed: 9)
        let result = try evaluation.evaluate(vectors: vectors, dimension: d, graph: graph)
        let again = try evaluation.evaluate(vectors: vectors, dimension: d, graph: graph)
        XCTAssertEqual(result.index, again.index, "same seed, same candidates")
        var other = evaluation
        other.seed = 10
        XCTAssertNotEqual(try other.evaluate(vectors: vectors, dimension: d, graph: graph).index, result.index)

        for (qi, query) in result.queries.map(Int.init).enumerated() {
            let range = Int(result.indptr[qi])..<Int(result.indptr[qi + 1])
            let listed = Array(result.index[range])
            let heldout = Dictionary(uniqueKeysWithValues: graph.heldout.neighbours(query).map { (graph.heldout.indices[$0], graph.heldout.weights[$0]) })
            let train = Set(graph.train.neighbours(query).map { graph.train.indices[$0] })
            XCTAssertEqual(Set(listed).count, listed.count, "no duplicates")
            XCTAssertFalse(listed.contains(Int32(query)))
            XCTAssertTrue(Set(heldout.keys).isSubset(of: Set(listed)))
            let negatives = listed.filter { heldout[$0] == nil }
            XCTAssertEqual(negatives.count, min(20, n - 1 - heldout.count - train.count))
            XCTAssertTrue(Set(negatives).isDisjoint(with: train))
            // Stored best first with their cosine and held-out weight.
            let scores = Array(result.score[range]), relevance = Array(result.relevance[range])
            XCTAssertEqual(scores, scores.sorted(by: >))
            for (j, row) in listed.enumerated() {
                XCTAssertEqual(scores[j], dot(vectors, query, Int(row), d), accuracy: 1e-5)
                XCTAssertEqual(relevance[j], heldout[row] ?? 0)
            }
            XCTAssertEqual(result.ap[qi], Reference.averagePrecision(scores: scores, relevance: relevance)!, accuracy: 1e-9)
        }
        let meanAP = result.ap.reduce(0, +) / Double(result.ap.count)
        XCTAssertEqual(result.map, meanAP, accuracy: 1e-12)
    }

    func testFullCorpusModeEqualsBruteForceRankingOfEveryVideo() throws {
        let n = 100, d = 5, k = 8
        let graph = randomRelationalGraph(nodes: n, edges: 300, coldNodes: 8, seed: 3)
        let vectors = randomUnitRows(n, d, seed: 6)
        let result = try RetrievalEvaluation(k: k, candidates: .all, queries: .both).evaluate(vectors: vectors, dimension: d, graph: graph)
        XCTAssertEqual(result.queries.map(Int.init), RetrievalEvaluation.queryRows(graph, .both))
        for (qi, query) in result.queries.map(Int.init).enumerated() {
            // Brute force: every video but the query and its train neighbours, by cosine.
            let train = Set(graph.train.neighbours(query).map { Int(graph.train.indices[$0]) })
            let weight = Dictionary(uniqueKeysWithValues: graph.heldout.neighbours(query).map { (Int(graph.heldout.indices[$0]), graph.heldout.weights[$0]) })
            let ranked = (0..<n).filter { $0 != query && !train.contains($0) }
            let scores = ranked.map { dot(vectors, query, $0, d) }, relevance = ranked.map { weight[$0] ?? 0 }
            XCTAssertEqual(result.ap[qi], Reference.averagePrecision(scores: scores, relevance: relevance)!, accuracy: 1e-9, "query \(query)")
            let order = ranked.indices.sorted { scores[$0] > scores[$1] }
            let ideal = Reference.dcg(relevance.sorted(by: >), k: k)
            XCTAssertEqual(result.ndcg[qi], Reference.dcg(order.map { relevance[$0] }, k: k) / ideal, accuracy: 1e-9, "query \(query)")
            // Stored: the top k, then the relevant videos ranked below k.
            let range = Int(result.indptr[qi])..<Int(result.indptr[qi + 1])
            let stored = result.index[range].map(Int.init)
            XCTAssertEqual(Array(stored.prefix(k)), order.prefix(k).map { ranked[$0] })
            let belowK = order.dropFirst(k).filter { relevance[$0] > 0 }.map { ranked[$0] }
            XCTAssertEqual(Array(stored.dropFirst(k)), belowK)
        }
    }

    func testClusteredVectorsRetrieveHeldoutNeighboursPerfectly() throws {
        // Four clusters of five videos; every pair inside a cluster is an edge (some held out),
        // cluster members share a direction: every query ranks its held-out neighbours first.
        let d = 4, n = 20
        var vectors = [Float](repeating: 0, count: n * d)
        var train: ([Int32], [Int32], [Float]) = ([], [], []), heldout: ([Int32], [Int32], [Float]) = ([], [], [])
        for v in 0..<n {
            vectors[v * d + v / 5] = 1
            vectors[v * d + (v / 5 + 1) % d] = 0.01 * Float(v % 5)   // distinct, still closest to its own cluster
        }
        for a in 0..<n { for b in (a + 1)..<n where a / 5 == b / 5 {
            if (a + b) % 3 == 0 { heldout.0 += [Int32(a), Int32(b)]; heldout.1 += [Int32(b), Int32(a)]; heldout.2 += [2, 2] }
            else { train.0 += [Int32(a), Int32(b)]; train.1 += [Int32(b), Int32(a)]; train.2 += [1, 1] }
        } }
        let graph = RelationalGraph(videoIDs: (0..<n).map { "v\($0)" },
                                    train: CSRGraph.fromEntries(nodes: n, rows: train.0, columns: train.1, weights: train.2),
                                    heldout: CSRGraph.fromEntries(nodes: n, rows: heldout.0, columns: heldout.1, weights: heldout.2),
                                    heldoutNodes: [])
        var unit = VideoVectors(path: "memory", dataset: "/x", videoIDs: nil, rows: n, dimension: d, values: vectors)
        unit.normalizeRows()
        for mode in RetrievalEvaluation.Candidates.allCases {
            let result = try RetrievalEvaluation(k: 3, candidates: mode, negatives: 5).evaluate(vectors: unit.values, dimension: d, graph: graph)
            XCTAssertEqual(result.map, 1, accuracy: 1e-12, mode.rawValue)
            XCTAssertEqual(result.meanNDCG, 1, accuracy: 1e-12, mode.rawValue)
        }
    }

    /// --max-queries at or above the number of queries is the exhaustive run, in both candidate modes.
    func testMaxQueriesCoveringEveryQueryEqualsTheExhaustiveRun() throws {
        let n = 150, d = 6
        let graph = randomRelationalGraph(nodes: n, edges: 600, coldNodes: 10, seed: 21)
        let vectors = randomUnitRows(n, d, seed: 22)
        let eligible = RetrievalEvaluation.queryRows(graph, .both).count
        for candidates in RetrievalEvaluation.Candidates.allCases {
            let exhaustive = try RetrievalEvaluation(k: 6, candidates: candidates, negatives: 15, seed: 3)
                .evaluate(vectors: vectors, dimension: d, graph: graph)
            for limit in [eligible, eligible + 1, 1_000_000] {
                let limited = try RetrievalEvaluation(k: 6, candidates: candidates, negatives: 15, maxQueries: limit, seed: 3)
                    .evaluate(vectors: vectors, dimension: d, graph: graph)
                XCTAssertEqual(limited.queries, exhaustive.queries)
                XCTAssertEqual(limited.indptr, exhaustive.indptr)
                XCTAssertEqual(limited.index, exhaustive.index)
                XCTAssertEqual(limited.score, exhaustive.score)
                XCTAssertEqual(limited.ap, exhaustive.ap)
                XCTAssertEqual(limited.ndcg, exhaustive.ndcg)
                XCTAssertEqual(limited.eligibleQueries, eligible)
            }
        }
    }

    /// A smaller --max-queries: that many distinct eligible queries, ascending, drawn by the seed
    /// only (the same for any vectors), each scored exactly as in the exhaustive run.
    func testMaxQueriesIsASeededSampleScoredAsInTheExhaustiveRun() throws {
        let n = 200, d = 5
        let graph = randomRelationalGraph(nodes: n, edges: 700, coldNodes: 12, seed: 31)
        let eligible = RetrievalEvaluation.queryRows(graph, .both)
        let vectors = randomUnitRows(n, d, seed: 32), others = randomUnitRows(n, d, seed: 33)
        let evaluation = RetrievalEvaluation(k: 5, candidates: .heldoutRandom, negatives: 10, maxQueries: 17, seed: 4)
        let sampled = try evaluation.evaluate(vectors: vectors, dimension: d, graph: graph)
        XCTAssertEqual(sampled.queries.count, 17)
        XCTAssertEqual(sampled.eligibleQueries, eligible.count)
        XCTAssertEqual(sampled.queries, sampled.queries.sorted())
        XCTAssertEqual(Set(sampled.queries).count, 17)
        XCTAssertTrue(Set(sampled.queries.map(Int.init)).isSubset(of: Set(eligible)))
        XCTAssertEqual(try evaluation.evaluate(vectors: others, dimension: d, graph: graph).queries, sampled.queries, "same graph and seed, same sample")
        var reseeded = evaluation
        reseeded.seed = 5
        XCTAssertNotEqual(try reseeded.evaluate(vectors: vectors, dimension: d, graph: graph).queries, sampled.queries)
        var exhaustiveEvaluation = evaluation
        exhaustiveEvaluation.maxQueries = nil
        let exhaustive = try exhaustiveEvaluation.evaluate(vectors: vectors, dimension: d, graph: graph)
        for (i, query) in sampled.queries.enumerated() {
            let j = exhaustive.queries.firstIndex(of: query)!
            XCTAssertEqual(sampled.ap[i], exhaustive.ap[j])
            XCTAssertEqual(sampled.index[Int(sampled.indptr[i])..<Int(sampled.indptr[i + 1])],
                           exhaustive.index[Int(exhaustive.indptr[j])..<Int(exhaustive.indptr[j + 1])])
        }
        // Uniform: over many seeds every eligible query is drawn about 17/eligible of the time.
        var drawn = [Int: Int]()
        for seed in 0..<400 {
            for row in RetrievalEvaluation.sampleQueries(eligible, limit: 17, seed: UInt64(seed)) { drawn[row, default: 0] += 1 }
        }
        let expected = 400.0 * 17 / Double(eligible.count)
        for row in eligible { XCTAssertEqual(Double(drawn[row] ?? 0), expected, accuracy: 5 * expected.squareRoot() + 2, "row \(row)") }
        XCTAssertThrowsError(try RetrievalEvaluation(maxQueries: 0).evaluate(vectors: vectors, dimension: d, graph: graph))
    }

    func testNoQueriesIsAnError() {
        let graph = RelationalGraph(videoIDs: ["a", "b"], train: CSRGraph(nodes: 2), heldout: CSRGraph(nodes: 2), heldoutNodes: [])
        XCTAssertThrowsError(try RetrievalEvaluation().evaluate(vectors: [1, 0, 0, 1], dimension: 2, graph: graph))
    }
}
