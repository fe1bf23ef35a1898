/// What reading interaction data (sessions or pairs) found, besides the pair sums. Counted by
/// Interactions, stamped on graph.h5 by Graphs (`GraphStatistics`).
public struct InteractionReport: Sendable, Equatable {
    /// Data lines read (blank lines and `#` comments excluded).
    public var lines = 0
    /// Sessions seen (session input only).
    public var sessions = 0
    /// Id occurrences that map to a row of the features.
    public var idsMapped = 0
    /// Id occurrences absent from the features, and a few distinct examples.
    public var idsUnmapped = 0
    public var unmappedExamples: [String] = []
    /// Malformed lines skipped (when asked to skip them), and the first one's number.
    public var malformedLines = 0
    public var firstMalformedLine: Int?
    /// Pair lines naming the same video twice (dropped: no self loops).
    public var selfPairs = 0

    public init() {}

    /// The warning printed when some ids do not map (nil when all do).
    public var unmappedWarning: String? {
        guard idsUnmapped > 0 else { return nil }
        return "warning: \(idsUnmapped) id occurrence(s) not in the features were ignored (e.g. "
            + unmappedExamples.map { "\"\($0)\"" }.joined(separator: ", ") + ")"
    }
}
