import Foundation

/// Mean and spread of one measurement over repeated runs (seeds).
public struct Spread: Equatable, Sendable {
    public var values: [Double]

    public init(_ values: [Double]) { self.values = values.filter(\.isFinite) }

    public var count: Int { values.count }
    public var mean: Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
    /// Sample standard deviation (n − 1); nil below two values.
    public var standardDeviation: Double? {
        guard values.count >= 2, let mean else { return nil }
        return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot()
    }

    /// "0.6123 ± 0.0040" (± the standard deviation over seeds); one value alone has no ±.
    public func text(decimals: Int = 4) -> String {
        guard let mean else { return "—" }
        let format = "%.\(decimals)f"
        guard let sd = standardDeviation else { return String(format: format, mean) }
        return String(format: format, mean) + " ± " + String(format: format, sd)
    }
}

/// Two configurations compared seed by seed: the difference A − B of each seed both ran,
/// and a verdict that calls one better only when the mean difference exceeds `threshold`
/// standard errors of the paired differences (the spread across seeds) and is at least
/// `negligible` in size (a consistent 0.0005 of MAP is real but says nothing about a method).
public struct PairedComparison: Equatable, Sendable {
    public var differences: [Double]
    public var threshold: Double
    public var negligible: Double

    public static let defaultNegligible = 0.001

    public init(a: [Int: Double], b: [Int: Double], threshold: Double = 2, negligible: Double = defaultNegligible) {
        differences = a.keys.sorted().compactMap { seed in
            guard let x = a[seed], let y = b[seed], x.isFinite, y.isFinite else { return nil }
            return x - y
        }
        self.threshold = threshold
        self.negligible = negligible
    }

    public var pairs: Int { differences.count }
    public var meanDifference: Double? { Spread(differences).mean }
    /// Standard error of the mean paired difference; nil below two pairs.
    public var standardError: Double? { Spread(differences).standardDeviation.map { $0 / Double(pairs).squareRoot() } }

    public enum Verdict: Equatable, Sendable {
        case aBetter, bBetter, noClearDifference
        /// Beyond the seed spread but smaller than `negligible`.
        case negligible
        /// Fewer than two seeds ran both: no spread to judge by.
        case tooFewSeeds
    }

    public var verdict: Verdict {
        guard pairs >= 2, let mean = meanDifference, let se = standardError else { return .tooFewSeeds }
        guard abs(mean) > threshold * se, mean != 0 else { return .noClearDifference }
        guard abs(mean) >= negligible else { return .negligible }
        return mean > 0 ? .aBetter : .bBetter
    }
}
