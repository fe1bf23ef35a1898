import Foundation

/// Progress of long work on stderr: step, rate and ETA, at most a few lines a
/// second so that logs stay readable. Silent when GCML_QUIET is set.
public final class Progress: @unchecked Sendable {
    private let label: String
    private let unit: String
    private let total: Int?
    private let start = Date()
    private var lastPrint = Date.distantPast
    private let interval: TimeInterval
    private let quiet: Bool
    public private(set) var done = 0

    public init(_ label: String, total: Int? = nil, unit: String = "items", interval: TimeInterval = 1.0) {
        self.label = label
        self.total = total
        self.unit = unit
        self.interval = interval
        quiet = ProcessInfo.processInfo.environment["GCML_QUIET"] != nil
    }

    public func advance(by count: Int = 1, note: @autoclosure () -> String = "") {
        done += count
        let now = Date()
        guard !quiet, now.timeIntervalSince(lastPrint) >= interval else { return }
        lastPrint = now
        report(now: now, note: note())
    }

    public func set(_ value: Int, note: @autoclosure () -> String = "") { advance(by: value - done, note: note()) }

    public func finish(note: String = "") {
        guard !quiet else { return }
        report(now: Date(), note: note, final: true)
    }

    public var elapsed: TimeInterval { Date().timeIntervalSince(start) }

    private func report(now: Date, note: String, final: Bool = false) {
        let seconds = max(now.timeIntervalSince(start), 1e-9)
        let rate = Double(done) / seconds
        var line = "[\(label)] \(done)"
        if let total { line += "/\(total)" }
        line += " \(unit), \(Progress.format(rate))/s, \(String(format: "%.1f", seconds)) s"
        if let total, !final, rate > 0, done < total {
            line += ", ETA \(String(format: "%.0f", Double(total - done) / rate)) s"
        }
        if !note.isEmpty { line += ", " + note }
        FileHandle.standardError.write((line + "\n").data(using: .utf8)!)
    }

    public static func format(_ value: Double) -> String {
        switch value {
        case 1e9...: return String(format: "%.2fG", value / 1e9)
        case 1e6...: return String(format: "%.2fM", value / 1e6)
        case 1e3...: return String(format: "%.1fk", value / 1e3)
        default: return String(format: "%.1f", value)
        }
    }
}

/// Messages a person reads on stderr (warnings, summaries that are not the result).
public func note(_ message: String) {
    FileHandle.standardError.write((message + "\n").data(using: .utf8)!)
}
