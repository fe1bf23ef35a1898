import Foundation
import Support

/// When training validates: every `every` steps, at the listed extra steps, and always at
/// step 0 and the last step. A log-spaced list (10, 20, 50, 100, 200, 500 …) resolves the
/// first hundred steps, where methods differ most, without validating often later.
public struct ValidationSchedule: Equatable, Sendable {
    /// Validate at multiples of this (0 = no periodic validation).
    public var every: Int
    /// Further steps to validate at.
    public var extra: Set<Int>

    public init(every: Int, extra: Set<Int> = []) {
        self.every = max(0, every)
        self.extra = extra.filter { $0 > 0 }
    }

    /// No validation at all.
    public static let never = ValidationSchedule(every: 0)

    public var isEmpty: Bool { every == 0 && extra.isEmpty }

    /// Whether to validate after `step` of a run of `lastStep` steps.
    public func isDue(step: Int, lastStep: Int) -> Bool {
        guard !isEmpty else { return false }
        return step == lastStep || (every > 0 && step % every == 0) || extra.contains(step)
    }

    /// The 1-2-5 series from 10 below `every` (all of it up to `limit` when `every` is 0):
    /// with every = 500, steps 10, 20, 50, 100, 200; multiples of 500 follow from `every`.
    public static func logSpaced(below every: Int, limit: Int = 1_000_000) -> Set<Int> {
        let bound = every > 0 ? every : limit + 1
        var steps = Set<Int>()
        var decade = 10
        while decade < bound {
            for m in [1, 2, 5] where m * decade < bound { steps.insert(m * decade) }
            decade *= 10
        }
        return steps
    }

    /// Parses a `--validate-at` value: `log` (log-spaced, see `logSpaced`) or a comma-separated list of steps.
    public static func parse(_ text: String, every: Int) throws -> ValidationSchedule {
        if text == "log" { return ValidationSchedule(every: every, extra: logSpaced(below: every)) }
        var steps = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            guard let step = Int(trimmed), step > 0 else {
                throw GCMLError("\(parameter: "validateAt"): expected 'log' or a comma-separated list of positive steps, found '\(text)' (bad entry '\(trimmed)')")
            }
            steps.insert(step)
        }
        return ValidationSchedule(every: every, extra: steps)
    }
}
