import Foundation

/// An error a person can act on: what went wrong, where (file, dataset, line,
/// video), what was expected and what was found. Stages let it propagate;
/// swift-argument-parser prints it and exits non-zero.
public struct GCMLError: Error, CustomStringConvertible, LocalizedError, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }

    /// "<file>: <object>: expected <expected>, found <found>"
    public init(file: String, object: String? = nil, expected: String, found: String) {
        var text = file
        if let object { text += ": " + object }
        text += ": expected " + expected + ", found " + found
        message = text
    }

    public var description: String { message }
    public var errorDescription: String? { message }
}
