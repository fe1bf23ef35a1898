/// A metric logged against training steps (loss, validation MAP).
public struct LearningCurve: Equatable, Sendable {
    public var steps: [Int]
    public var values: [Double]

    public init(steps: [Int], values: [Double]) {
        precondition(steps.count == values.count, "one value per step")
        self.steps = steps
        self.values = values
    }

    public var isEmpty: Bool { steps.isEmpty }
    public var finalValue: Double? { values.last }
    public var finalStep: Int? { steps.last }

    /// The first logged step whose value is at least `target` (curves are read at
    /// their logging granularity: no interpolation between checkpoints); nil if never.
    public func firstStep(reaching target: Double) -> Int? {
        for (step, value) in zip(steps, values) where value >= target { return step }
        return nil
    }
}

/// How many steps a method needed to reach a target validation MAP.
public enum StepsToReach: Equatable, Sendable {
    case reached(step: Int)
    case notReached(lastStep: Int)
    /// No validation curve for this method, or no target.
    case unknown

    public static func compute(_ curve: LearningCurve?, target: Double?) -> StepsToReach {
        guard let curve, let last = curve.finalStep, let target else { return .unknown }
        if let step = curve.firstStep(reaching: target) { return .reached(step: step) }
        return .notReached(lastStep: last)
    }

    public var step: Int? { if case .reached(let s) = self { return s }; return nil }
}

/// Learning speed of a method against a baseline, measured to a common target: a stated
/// fraction of the best final validation MAP of the two. Each method's steps are the first
/// validation checkpoint at or above the target, so a speed-up compares like with like
/// (and identical curves give the same step, hence no speed-up).
public struct LearningSpeed: Equatable, Sendable {
    public static let defaultFraction = 0.95

    public var fraction: Double
    /// fraction × the larger of the two final validation MAPs; nil without both curves.
    public var target: Double?
    public var method: StepsToReach
    public var baseline: StepsToReach

    public init(method: LearningCurve?, baseline: LearningCurve?, fraction: Double = defaultFraction) {
        self.fraction = fraction
        if let m = method?.finalValue, let b = baseline?.finalValue {
            target = fraction * max(m, b)
        } else {
            target = nil
        }
        self.method = StepsToReach.compute(method, target: target)
        self.baseline = StepsToReach.compute(baseline, target: target)
    }

    /// What can be said of the two step counts.
    public enum Verdict: Equatable, Sendable {
        /// Both reached the target; `ratio` = baseline steps / method steps (> 1: the method is faster).
        case speedUp(ratio: Double)
        /// Both reached the target at the same checkpoint: no speed-up.
        case same
        case onlyMethodReached
        case onlyBaselineReached
        case neitherReached
        case unknown
    }

    public var verdict: Verdict {
        switch (method, baseline) {
        case (.reached(let m), .reached(let b)):
            if m == b { return .same }
            // A target reached at step 0 (before training) gives no ratio; it is the same start.
            guard m > 0, b > 0 else { return .same }
            return .speedUp(ratio: Double(b) / Double(m))
        case (.reached, .notReached): return .onlyMethodReached
        case (.notReached, .reached): return .onlyBaselineReached
        case (.notReached, .notReached): return .neitherReached
        default: return .unknown
        }
    }

    /// The speed-up (baseline steps / method steps) when both reached the target at different steps.
    public var speedUp: Double? { if case .speedUp(let r) = verdict { return r }; return nil }

    /// One sentence: both step counts and what follows from them.
    public func sentence(method name: String, baseline baselineName: String, measure: String) -> String {
        guard let target else { return "\(name) and \(baselineName) lack a \(measure) curve, so their learning speed is not compared." }
        let goal = String(format: "%.0f %% of the better final %@ (%.4f)", fraction * 100, measure, target)
        func steps(_ reach: StepsToReach) -> String {
            switch reach {
            case .reached(let s): return "step \(s)"
            case .notReached(let last): return "not reached within \(last) steps"
            case .unknown: return "unknown"
            }
        }
        let counts = "\(name): \(steps(method)); \(baselineName): \(steps(baseline))"
        switch verdict {
        case .speedUp(let ratio) where ratio > 1:
            return "To reach \(goal), \(name) needed \(String(format: "%.1f", ratio))× fewer steps than \(baselineName) (\(counts))."
        case .speedUp(let ratio):
            return "To reach \(goal), \(name) needed \(String(format: "%.1f", 1 / ratio))× more steps than \(baselineName) (\(counts))."
        case .same:
            return "\(name) and \(baselineName) reached \(goal) at the same validation checkpoint: no speed-up (\(counts))."
        case .onlyMethodReached, .onlyBaselineReached:
            return "Only one method reached \(goal) (\(counts)), so no ratio is given."
        case .neitherReached:
            return "Neither method reached \(goal) (\(counts))."
        case .unknown:
            return "The steps to reach \(goal) are unknown (\(counts))."
        }
    }
}
