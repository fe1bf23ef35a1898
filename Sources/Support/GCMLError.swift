import Foundation

/// An error a person can act on: what went wrong, where (file, dataset, line,
/// video), what was expected and what was found. Stages let it propagate;
/// swift-argument-parser prints it and exits non-zero.
///
/// Libraries know no command line: an error about a parameter names it by its
/// key (`\(parameter: "audioDimension")` or `parameter:`), and the stage that
/// ran the library turns keys into its own option names (`renamingParameters`).
public struct GCMLError: Error, CustomStringConvertible, LocalizedError, Equatable {
    public let text: Text

    public init(_ message: String) { text = Text(pieces: [.literal(message)]) }
    public init(_ text: Text) { self.text = text }

    /// "<file>: <object>: <parameter>: expected <expected>, found <found>"
    public init(file: String, object: String? = nil, parameter: String? = nil, expected: Text, found: Text) {
        var pieces: [Text.Piece] = [.literal(file)]
        if let object { pieces.append(.literal(": " + object)) }
        if let parameter { pieces += [.literal(": "), .parameter(parameter)] }
        pieces.append(.literal(": expected "))
        pieces += expected.pieces
        pieces.append(.literal(", found "))
        pieces += found.pieces
        text = Text(pieces: pieces)
    }

    /// The same with plain strings (the common case).
    public init(file: String, object: String? = nil, parameter: String? = nil, expected: String, found: String) {
        self.init(file: file, object: object, parameter: parameter, expected: Text(pieces: [.literal(expected)]),
                  found: Text(pieces: [.literal(found)]))
    }

    /// "<parameter>: expected <expected>, found <found>" (no file involved).
    public init(parameter: String, expected: Text, found: Text) {
        text = Text(pieces: [.parameter(parameter), .literal(": expected ")] + expected.pieces + [.literal(", found ")] + found.pieces)
    }

    /// The message with parameter keys as they are.
    public var message: String { text.rendered { $0 } }
    /// The parameter keys the message names.
    public var parameters: [String] { text.parameters }

    /// The same error with each parameter key replaced by `name(key)` (e.g. a stage's option name).
    public func renamingParameters(_ name: (String) -> String) -> GCMLError {
        GCMLError(Text(pieces: text.pieces.map { piece in
            if case .parameter(let key) = piece { return .literal(name(key)) }
            return piece
        }))
    }

    /// The same error with `suffix` appended (more context for the reader).
    public func appending(_ suffix: String) -> GCMLError { GCMLError(Text(pieces: text.pieces + [.literal(suffix)])) }

    public var description: String { message }
    public var errorDescription: String? { message }

    /// Error text whose parameter keys stay identifiable until a stage names them.
    public struct Text: Equatable, ExpressibleByStringInterpolation {
        public enum Piece: Equatable { case literal(String), parameter(String) }
        public var pieces: [Piece]

        init(pieces: [Piece]) { self.pieces = pieces }
        public init(stringLiteral value: String) { pieces = [.literal(value)] }
        public init(stringInterpolation: Interpolation) { pieces = stringInterpolation.pieces }

        /// Concatenation, keeping parameter keys identifiable.
        public static func + (left: Text, right: Text) -> Text { Text(pieces: left.pieces + right.pieces) }

        var parameters: [String] { pieces.compactMap { if case .parameter(let key) = $0 { return key } else { return nil } } }

        func rendered(_ name: (String) -> String) -> String {
            pieces.map { piece in
                switch piece {
                case .literal(let text): return text
                case .parameter(let key): return name(key)
                }
            }.joined()
        }

        public struct Interpolation: StringInterpolationProtocol {
            var pieces: [Piece] = []
            public init(literalCapacity: Int, interpolationCount: Int) {}
            public mutating func appendLiteral(_ literal: String) { pieces.append(.literal(literal)) }
            public mutating func appendInterpolation<T>(_ value: T) { pieces.append(.literal("\(value)")) }
            /// A parameter, by its key.
            public mutating func appendInterpolation(parameter key: String) { pieces.append(.parameter(key)) }
        }
    }
}
