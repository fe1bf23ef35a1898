import Contracts
import Distributed
import LinearAlgebra
import Foundation

/// Video annotation metrics with the YouTube-8M starter code's definitions
/// (`eval_util.py`, `average_precision_calculator.py`), computed in one pass
/// over blocks of predictions. For M test videos, C classes, K = min(topK, C):
///
/// - GAP: pool the top-K (score, is-true) pairs of every video, sort by score,
///   AP = Σ over true pairs of precision at their rank / (number of true labels of
///   all test videos) — `calculate_gap`.
/// - MAP: per class, the same over the pairs of that class in the pooled top-K,
///   divided by the class's true labels (0 for a class never in a top-K); the mean
///   over the classes that have a true label among the test videos — the current
///   `MeanAveragePrecisionCalculator`, whose `filter_empty_classes` defaults to true.
///   (Counting empty classes as 0 would bias MAP low whenever a class has no test positive.)
/// - Hit@1: fraction of videos whose best class is true — `calculate_hit_at_one`.
/// - Hit@5: fraction of videos with a true class among their best 5.
/// - PERR: mean over videos of the precision of their best n classes, n = their
///   number of true labels (only scores > 0 count) — `calculate_precision_at_equal_recall_rate`.
///
/// Videos without labels count in every mean and score 0 in Hit@1, Hit@5 and PERR,
/// as in the starter code. Order: score descending, ties by lower class first for
/// each video's ranking; in the pooled lists equal scores form one threshold
/// (precision = true pairs scoring ≥ s / pairs scoring ≥ s, as scikit-learn does),
/// where the starter code shuffles ties with a fixed seed. Without ties both agree.
public struct AnnotationMetrics {
    public typealias Scores = AnnotationScores

    public let classCount: Int
    /// K = min(topK, classCount): pairs per video entering GAP and MAP.
    public let k: Int
    /// Per video, its top K classes and scores, best first (row-major [videos, K]).
    public private(set) var topClasses: [Int32] = []
    public private(set) var topScores: [Float] = []
    private var topIsTrue: [Bool] = []
    private var classPositives: [Int]
    private var hits1 = 0, hits5 = 0, videosWithoutLabels = 0
    /// PERR's numerators by denominator: correct[n] sums the correct classes of videos with n true
    /// labels. Exact integers, so the sum over videos is the same in any order or rank split.
    private var perrCorrect: [Int]
    public private(set) var videos = 0
    private var selection: [Int32] = []

    public init(classCount: Int, topK: Int = 20) {
        precondition(classCount > 0 && topK > 0)
        self.classCount = classCount
        k = min(topK, classCount)
        classPositives = [Int](repeating: 0, count: classCount)
        perrCorrect = [Int](repeating: 0, count: classCount + 1)
    }

    /// Adds videos: `scores` row-major [labels.count, classCount]; `labels[i]` the true
    /// classes of video i (in 0..<classCount; duplicates count once).
    public mutating func add(scores: UnsafeBufferPointer<Float>, labels: [[Int32]]) {
        precondition(scores.count >= labels.count * classCount)
        let c = classCount
        for (i, rawLabels) in labels.enumerated() {
            let row = scores.baseAddress! + i * c
            let truth = Set(rawLabels)
            for label in truth { classPositives[Int(label)] += 1 }
            if truth.isEmpty { videosWithoutLabels += 1 }
            // One selection serves top-K, Hit@5 and PERR: the best max(K, 5, n) classes.
            let want = min(c, max(k, 5, truth.count))
            Self.best(row, classes: c, count: want, into: &selection)
            for j in 0..<k {
                let cls = selection[j]
                topClasses.append(cls)
                topScores.append(row[Int(cls)])
                topIsTrue.append(truth.contains(cls))
            }
            if truth.contains(selection[0]) { hits1 += 1 }
            if selection.prefix(5).contains(where: truth.contains) { hits5 += 1 }
            if !truth.isEmpty {
                var correct = 0
                for cls in selection.prefix(truth.count) where row[Int(cls)] > 0 && truth.contains(cls) { correct += 1 }
                perrCorrect[truth.count] += correct
            }
            videos += 1
        }
    }

    /// Dense convenience: all videos at once.
    public mutating func add(scores: [Float], labels: [[Int32]]) {
        scores.withUnsafeBufferPointer { add(scores: $0, labels: labels) }
    }

    /// The classes with the `count` largest scores, best first (ties: lower class first).
    static func best(_ row: UnsafePointer<Float>, classes: Int, count: Int, into selection: inout [Int32]) {
        selection.removeAll(keepingCapacity: true)
        guard count > 0 else { return }
        // Insertion into a short sorted list: most classes fail the first comparison.
        for cls in 0..<classes {
            let x = row[cls]
            if selection.count == count {
                guard x > row[Int(selection[count - 1])] else { continue }
                selection.removeLast()
            }
            var position = selection.count
            while position > 0 && x > row[Int(selection[position - 1])] { position -= 1 }
            selection.insert(Int32(cls), at: position)
        }
    }

    /// The metrics of every rank's videos, when each rank added a contiguous share of the test
    /// videos: the per-video top-K lists are gathered in rank order and the counts summed, so
    /// `scores()` sees what one process adding all videos would.
    public func gathered(over communicator: Communicator) throws -> AnnotationMetrics {
        guard communicator.size > 1 else { return self }
        var all = AnnotationMetrics(classCount: classCount, topK: k)
        all.topClasses = try communicator.allgatherv(topClasses).values
        all.topScores = try communicator.allgatherv(topScores).values
        all.topIsTrue = try communicator.allgatherv(topIsTrue.map { Int8($0 ? 1 : 0) }).values.map { $0 != 0 }
        all.classPositives = classPositives
        communicator.allreduce(&all.classPositives)
        var counts = [hits1, hits5, videosWithoutLabels, videos]
        communicator.allreduce(&counts)
        (all.hits1, all.hits5, all.videosWithoutLabels, all.videos) = (counts[0], counts[1], counts[2], counts[3])
        all.perrCorrect = perrCorrect
        communicator.allreduce(&all.perrCorrect)
        return all
    }

    public func scores() -> Scores {
        var perrSum = 0.0
        for (labelCount, correct) in perrCorrect.enumerated() where correct > 0 { perrSum += Double(correct) / Double(labelCount) }
        let totalPositives = classPositives.reduce(0, +)
        let gap = Self.pooledAP(scores: topScores, isTrue: topIsTrue, positives: totalPositives)
        var perClassScores = [[Float]](repeating: [], count: classCount)
        var perClassTrue = [[Bool]](repeating: [], count: classCount)
        for i in topClasses.indices {
            perClassScores[Int(topClasses[i])].append(topScores[i])
            perClassTrue[Int(topClasses[i])].append(topIsTrue[i])
        }
        var apSum = 0.0, apPositiveSum = 0.0, positiveClasses = 0
        for c in 0..<classCount {
            let ap = Self.pooledAP(scores: perClassScores[c], isTrue: perClassTrue[c], positives: classPositives[c])
            apSum += ap
            if classPositives[c] > 0 { apPositiveSum += ap; positiveClasses += 1 }
        }
        let n = Double(max(videos, 1))
        return Scores(gap: gap, map: positiveClasses == 0 ? 0 : apPositiveSum / Double(positiveClasses),
                      mapAllClasses: apSum / Double(classCount),
                      hitAt1: Double(hits1) / n, hitAt5: Double(hits5) / n, perr: perrSum / n,
                      videos: videos, videosWithoutLabels: videosWithoutLabels, classesWithPositives: positiveClasses)
    }

    /// AP of a pooled list against a given number of positives (the YouTube-8M
    /// `ap_at_n` with `total_num_positives`, n = None): Σ over true entries of the
    /// precision at their score threshold, / positives. 0 when positives is 0.
    public static func pooledAP(scores: [Float], isTrue: [Bool], positives: Int) -> Double {
        guard positives > 0, !scores.isEmpty else { return 0 }
        let order = RankingMetrics.descendingOrder(scores)
        var sum = 0.0, seen = 0, hits = 0
        RankingMetrics.forEachTieGroup(order, scores) { group in
            var groupHits = 0
            for i in group where isTrue[order[i]] { groupHits += 1 }
            seen += group.count
            hits += groupHits
            sum += Double(groupHits) * Double(hits) / Double(seen)
        }
        return sum / Double(positives)
    }
}
