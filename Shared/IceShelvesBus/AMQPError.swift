/// An error from the bus. Its description is safe to log: it never holds a password or a body.
public struct AMQPError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure this is, so callers can branch on it.
    public enum Kind: Sendable, Equatable {
        /// The URL could not be parsed.
        case invalidURL
        /// The TCP connection or the AMQP handshake failed.
        case connectionFailed
        /// The connection was lost while the operation was in flight.
        case connectionLost
        /// The broker refused a message (basic.nack).
        case nacked
        /// No queue was bound for a mandatory message (basic.return).
        case unroutable
        /// The operation did not finish in time.
        case timeout
        /// The broker closed the channel or connection with an error.
        case brokerError
        /// The client is shut down.
        case closed
    }

    /// What went wrong, for callers that handle cases differently.
    public let kind: Kind
    /// A description for logs.
    public let message: String

    /// An error of `kind` with a message for logs.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    static func invalidURL(_ m: String) -> Self { .init(.invalidURL, "invalid AMQP URL: \(m)") }

    /// The message.
    public var description: String { message }
}
