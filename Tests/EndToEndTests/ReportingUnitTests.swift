import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Reporting
import Support
import XCTest

final class PartitionAgreementTests: XCTestCase {
    func testIdenticalPartitionsUpToRelabellingScoreOne() {
        let a = [0, 0, 1, 1, 2, 2, 2]
        let relabelled = [7, 7, 3, 3, 9, 9, 9]
        XCTAssertEqual(PartitionAgreement.nmi(a, relabelled), 1, accuracy: 1e-12)
        XCTAssertEqual(PartitionAgreement.ari(a, relabelled), 1, accuracy: 1e-12)
    }

    func testHandWorkedContingencyTable() {
        // a = {0,1,2 | 3,4,5}, b = {0,1 | 2,3 | 4,5}: cells 2,1 / 1,2.
        let a = [0, 0, 0, 1, 1, 1], b = [0, 0, 1, 1, 2, 2]
        // MI = 2·(2/6)·log(2·6/(3·2)) = (2/3) ln 2; H(a) = ln 2, H(b) = ln 3.
        let nmi = (2.0 / 3 * log(2.0)) / ((log(2.0) + log(3.0)) / 2)
        XCTAssertEqual(PartitionAgreement.nmi(a, b), nmi, accuracy: 1e-12)
        XCTAssertEqual(PartitionAgreement.nmi(a, b), 0.5158, accuracy: 1e-4)   // scikit-learn's value
        // ARI: Σ C(nij,2) = 2, Σ C(ai,2) = 6, Σ C(bj,2) = 3, C(6,2) = 15: (2 − 1.2) / (4.5 − 1.2).
        XCTAssertEqual(PartitionAgreement.ari(a, b), 0.8 / 3.3, accuracy: 1e-12)
    }

    func testScikitLearnDocumentationExamples() {
        // adjusted_rand_score([0,0,1,1],[0,0,1,2]) = 4/7 ≈ 0.57; one cluster vs singletons = 0.
        XCTAssertEqual(PartitionAgreement.ari([0, 0, 1, 1], [0, 0, 1, 2]), 4.0 / 7, accuracy: 1e-12)
        XCTAssertEqual(PartitionAgreement.ari([0, 0, 0, 0], [0, 1, 2, 3]), 0, accuracy: 1e-12)
        XCTAssertEqual(PartitionAgreement.nmi([0, 0, 0, 0], [0, 1, 2, 3]), 0, accuracy: 1e-12)
        XCTAssertEqual(PartitionAgreement.nmi([1, 1, 1], [5, 5, 5]), 1)
        XCTAssertEqual(PartitionAgreement.ari([1, 1, 1], [5, 5, 5]), 1)
    }

    func testIndependentPartitionsScoreAboutZero() {
        var rng = SeededGenerator(seed: 11)
        let n = 20_000
        let a = (0..<n).map { _ in rng.below(10) }, b = (0..<n).map { _ in rng.below(7) }
        XCTAssertLessThan(PartitionAgreement.nmi(a, b), 0.005)
        XCTAssertEqual(PartitionAgreement.ari(a, b), 0, accuracy: 0.005)
    }

    func testMeasuresAreSymmetricAndNMIIsBounded() {
        var rng = SeededGenerator(seed: 5)
        let a = (0..<500).map { _ in rng.below(6) }
        let b = a.map { $0 / 2 + (rng.below(10) == 0 ? 1 : 0) }   // a coarsening with noise
        XCTAssertEqual(PartitionAgreement.nmi(a, b), PartitionAgreement.nmi(b, a), accuracy: 1e-12)
        XCTAssertEqual(PartitionAgreement.ari(a, b), PartitionAgreement.ari(b, a), accuracy: 1e-12)
        XCTAssertGreaterThan(PartitionAgreement.nmi(a, b), 0.3)
        XCTAssertLessThan(PartitionAgreement.nmi(a, b), 1)
    }
}

final class LearningCurveTests: XCTestCase {
    let cdml = LearningCurve(steps: [100, 200, 300, 400], values: [0.10, 0.20, 0.25, 0.30])

    func testStepsToReachIsTheFirstCheckpointAtOrAboveTheTarget() {
        let fast = LearningCurve(steps: [100, 200, 300], values: [0.15, 0.31, 0.35])
        XCTAssertEqual(StepsToReach.compute(fast, target: 0.30), .reached(step: 200))
        let exact = LearningCurve(steps: [50, 150], values: [0.29, 0.30])
        XCTAssertEqual(StepsToReach.compute(exact, target: 0.30), .reached(step: 150))
        XCTAssertEqual(StepsToReach.compute(cdml, target: 0.30), .reached(step: 400))
    }

    func testNotReachedAndUnknown() {
        let slow = LearningCurve(steps: [100, 200, 500], values: [0.05, 0.10, 0.29])
        XCTAssertEqual(StepsToReach.compute(slow, target: 0.30), .notReached(lastStep: 500))
        XCTAssertEqual(StepsToReach.compute(nil, target: 0.30), .unknown)
        XCTAssertEqual(StepsToReach.compute(slow, target: nil), .unknown)
        XCTAssertEqual(StepsToReach.compute(LearningCurve(steps: [], values: []), target: 0.30), .unknown)
    }

    func testIdenticalCurvesClaimNoSpeedUp() {
        // The demo's old overclaim: same curve, yet "5.0× fewer" against the baseline's last step.
        let curve = LearningCurve(steps: [0, 100, 300, 1500], values: [0.2, 0.80, 0.84, 0.8421])
        let speed = LearningSpeed(method: curve, baseline: curve, fraction: 0.95)
        XCTAssertEqual(speed.target!, 0.95 * 0.8421, accuracy: 1e-12)
        XCTAssertEqual(speed.method, .reached(step: 100))
        XCTAssertEqual(speed.baseline, .reached(step: 100))
        XCTAssertEqual(speed.verdict, .same)
        XCTAssertNil(speed.speedUp)
        let sentence = speed.sentence(method: "GCML", baseline: "CDML", measure: "validation MAP")
        XCTAssertTrue(sentence.contains("no speed-up"), sentence)
        XCTAssertFalse(sentence.contains("×"), sentence)
    }

    func testReachingTheTargetAt100Against400IsFourTimesFaster() {
        // Best final 0.50 → target 0.475; GCML first at or above it at step 100, CDML at 400.
        let gcml = LearningCurve(steps: [0, 100, 200, 400, 500], values: [0.1, 0.48, 0.49, 0.50, 0.50])
        let cdml = LearningCurve(steps: [0, 100, 200, 400, 500], values: [0.1, 0.30, 0.40, 0.476, 0.49])
        let speed = LearningSpeed(method: gcml, baseline: cdml, fraction: 0.95)
        XCTAssertEqual(speed.target!, 0.475, accuracy: 1e-12)
        XCTAssertEqual(speed.method, .reached(step: 100))
        XCTAssertEqual(speed.baseline, .reached(step: 400))
        XCTAssertEqual(speed.speedUp!, 4.0, accuracy: 1e-12)
        let sentence = speed.sentence(method: "GCML", baseline: "CDML", measure: "validation MAP")
        XCTAssertTrue(sentence.contains("4.0× fewer"), sentence)
        XCTAssertTrue(sentence.contains("GCML: step 100") && sentence.contains("CDML: step 400"), sentence)
        // Swapped roles: the same data read as 4.0× more steps.
        XCTAssertEqual(LearningSpeed(method: cdml, baseline: gcml).speedUp!, 0.25, accuracy: 1e-12)
    }

    func testAMethodThatNeverReachesTheTargetIsNotReached() {
        let gcml = LearningCurve(steps: [0, 100, 200], values: [0.1, 0.2, 0.30])
        let cdml = LearningCurve(steps: [0, 100, 200], values: [0.1, 0.5, 0.60])
        let speed = LearningSpeed(method: gcml, baseline: cdml, fraction: 0.95)
        XCTAssertEqual(speed.method, .notReached(lastStep: 200))
        XCTAssertEqual(speed.baseline, .reached(step: 200))
        XCTAssertEqual(speed.verdict, .onlyBaselineReached)
        XCTAssertNil(speed.speedUp)
        let sentence = speed.sentence(method: "GCML", baseline: "CDML", measure: "validation MAP")
        XCTAssertTrue(sentence.contains("GCML: not reached"), sentence)
        XCTAssertNil(LearningSpeed(method: gcml, baseline: nil).target)
    }
}

final class TreeLevelStatisticsTests: XCTestCase {
    func testSizeStatisticsAndLogBinnedHistogram() {
        let level = TreeLevelStatistics(level: 1, sizes: [9, 1, 3, 2, 1, 4])
        XCTAssertEqual(level.clusters, 6)
        XCTAssertEqual(level.minimumSize, 1)
        XCTAssertEqual(level.maximumSize, 9)
        XCTAssertEqual(level.medianSize, 2.5)
        // bins [1], [2,3], [4,7], [8,15]
        XCTAssertEqual(level.sizeHistogram(), [2, 2, 1, 1])
        XCTAssertEqual(TreeLevelStatistics.binLabel(0), "1")
        XCTAssertEqual(TreeLevelStatistics.binLabel(2), "4")
        XCTAssertEqual(TreeLevelStatistics.binLabel(11), "2k")
        XCTAssertEqual(TreeLevelStatistics(level: 2, sizes: [5, 1, 3]).medianSize, 3)
    }
}

/// Collects element names and attributes while checking the document parses.
final class SVGCollector: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []
    var texts: [String] = []
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append((name, attributes))
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { texts.append(string) }

    static func parse(_ svg: String, file: StaticString = #filePath, line: UInt = #line) -> SVGCollector {
        let collector = SVGCollector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "SVG is not well-formed XML: \(String(describing: parser.parserError))", file: file, line: line)
        return collector
    }
}

final class SVGChartTests: XCTestCase {
    func testLineChartIsWellFormedWithOnePolylinePerSeries() {
        let series = [
            SVGChart.Series(name: "GCML <smart> & co", points: [(0, 0.1), (100, 0.3), (200, 0.35)]),
            SVGChart.Series(name: "CDML", points: [(0, 0.1), (100, 0.2), (200, 0.25)]),
            SVGChart.Series(name: "cluster", points: [(50, 0.05), (250, 0.2)]),
        ]
        let svg = SVGChart.lineChart(title: "Validation MAP", xLabel: "step", yLabel: "MAP", series: series)
        let parsed = SVGCollector.parse(svg)
        XCTAssertEqual(parsed.elements.first?.name, "svg")
        let polylines = parsed.elements.filter { $0.name == "polyline" }
        XCTAssertEqual(polylines.count, 3)
        XCTAssertEqual(polylines.map { $0.attributes["data-series"] }, ["GCML <smart> & co", "CDML", "cluster"])
        XCTAssertEqual(polylines[0].attributes["points"]?.split(separator: " ").count, 3)
        let text = parsed.texts.joined()   // the parser splits text at entities
        for label in ["Validation MAP", "step", "MAP", "CDML", "GCML <smart> & co"] { XCTAssertTrue(text.contains(label), label) }
    }

    func testPointsStayInsideThePlotArea() {
        let svg = SVGChart.lineChart(title: "t", xLabel: "x", yLabel: "y",
                                     series: [SVGChart.Series(name: "a", points: [(3, -2), (1234, 7.5), (77, 0.001)])])
        let polyline = SVGCollector.parse(svg).elements.first { $0.name == "polyline" }
        let coordinates = (polyline?.attributes["points"] ?? "").split(separator: " ").map { $0.split(separator: ",").compactMap { Double($0) } }
        XCTAssertEqual(coordinates.count, 3)
        for point in coordinates {
            XCTAssertEqual(point.count, 2)
            XCTAssertTrue((0...780).contains(point[0]) && (0...420).contains(point[1]), "\(point)")
        }
    }

    func testSeriesWithoutPointsHasNoPolylineButALegendEntry() {
        let svg = SVGChart.lineChart(title: "t", xLabel: "x", yLabel: "y",
                                     series: [SVGChart.Series(name: "a", points: [(1, 1), (2, 2)]), SVGChart.Series(name: "empty", points: [])])
        let parsed = SVGCollector.parse(svg)
        XCTAssertEqual(parsed.elements.filter { $0.name == "polyline" }.count, 1)
        XCTAssertTrue(parsed.texts.contains("empty (no data)"))
    }

    func testLogScaleAxisReadsOneTenHundredThousand() {
        // The level-size histogram used to read "0k, 0.01k, 0.1k" on this axis.
        let svg = SVGChart.barChart(title: "sizes", xLabel: "cluster size", yLabel: "clusters (log scale)", categories: ["1", "2–3"],
                                    seriesNames: ["level 1"], values: [[20_000, 3]], logScale: true)
        let texts = SVGCollector.parse(svg).texts.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        for label in ["1", "10", "100", "1k", "10k", "100k"] { XCTAssertTrue(texts.contains(label), label) }
        XCTAssertFalse(texts.contains { $0.hasPrefix("0") }, "\(texts)")
    }

    func testBarChartHasOneBarPerNonZeroValue() {
        let svg = SVGChart.barChart(title: "sizes", xLabel: "size", yLabel: "clusters", categories: ["1", "2–3", "4–7"],
                                    seriesNames: ["level 1", "level 2"], values: [[5, 2, 0], [0, 1, 3]])
        let parsed = SVGCollector.parse(svg)
        let bars = parsed.elements.filter { $0.name == "rect" && $0.attributes["fill"] != "white" && $0.attributes["fill"] != "none" }
        XCTAssertEqual(bars.count, 4 + 2, "4 bars and 2 legend swatches")
    }

    func testNiceTicksCoverTheRangeWithRoundSteps() {
        XCTAssertEqual(SVGChart.niceTicks(0, 0.37).map { ($0 * 10).rounded() / 10 }, [0, 0.1, 0.2, 0.3, 0.4])
        XCTAssertEqual(SVGChart.niceTicks(0, 1000), [0, 200, 400, 600, 800, 1000])
        let flat = SVGChart.niceTicks(2, 2)
        XCTAssertLessThanOrEqual(flat.first!, 2)
        XCTAssertGreaterThanOrEqual(flat.last!, 2)
    }
}
