import IceShelvesContracts

/// A failed request/reply call, or a handler's way to answer with a failure.
///
/// A handler throws it to send ``RPCFailure`` with its code and message; any other error is
/// answered as `internal` with a generic message, and logged. A caller receives it when the
/// service answered with a failure.
public struct RPCError: Error, CustomStringConvertible, Sendable, Equatable {
    /// `bad_request`, `unknown_method`, `not_found`, `conflict` or `internal`.
    public let code: String
    /// A message for the caller.
    public let message: String

    /// An error with a machine-readable code and a message.
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// The request could not be understood.
    public static func badRequest(_ message: String) -> Self { .init(code: "bad_request", message: message) }
    /// The request names something that does not exist.
    public static func notFound(_ message: String) -> Self { .init(code: "not_found", message: message) }
    /// The request conflicts with the current state.
    public static func conflict(_ message: String) -> Self { .init(code: "conflict", message: message) }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }

    var failure: RPCFailure { RPCFailure(code: code, message: message) }
}
