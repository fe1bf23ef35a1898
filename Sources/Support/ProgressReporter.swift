/// Names the progress lines of one program: a library asks it for a `Progress`
/// of a phase ("kNN", "frames") and never names the program itself.
public struct ProgressReporter: Sendable {
    public let name: String

    public init(_ name: String) { self.name = name }

    /// For tests and tools that do not care how their progress lines are labelled.
    public static let unnamed = ProgressReporter("gcml")

    /// Progress of one phase: "[name phase] …", or "[name] …" without a phase.
    public func progress(_ phase: String? = nil, total: Int? = nil, unit: String) -> Progress {
        Progress(phase.map { "\(name) \($0)" } ?? name, total: total, unit: unit)
    }
}
