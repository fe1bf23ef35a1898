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

/// How many steps a method needed to reach the baseline's final validation MAP.
public enum StepsToReach: Equatable, Sendable {
    case reached(step: Int)
    case notReached(lastStep: Int)
    /// No validation curve for this method or for the baseline.
    case unknown

    public static func compute(_ curve: LearningCurve?, baseline: LearningCurve?) -> StepsToReach {
        guard let curve, let last = curve.finalStep, let target = baseline?.finalValue else { return .unknown }
        if let step = curve.firstStep(reaching: target) { return .reached(step: step) }
        return .notReached(lastStep: last)
    }

    public var step: Int? { if case .reached(let s) = self { return s }; return nil }
}
