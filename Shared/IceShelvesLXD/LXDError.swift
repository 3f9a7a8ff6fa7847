/// Why talking to LXD failed. The message is readable and carries LXD's own words when LXD answered.
public struct LXDError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The transport could not reach the server (refused, unreachable, socket missing).
        case connection
        /// A request or a wait took longer than its timeout.
        case timeout
        /// The server's certificate is not the pinned one, or the TLS handshake failed.
        case tls
        /// The SSH host key is unknown or changed, or the SSH login was refused.
        case ssh
        /// LXD answered with an error (`status` holds the HTTP status).
        case api
        /// LXD answered something we cannot read.
        case protocolError
        /// The connection settings are incomplete or invalid.
        case configuration
    }

    public var kind: Kind
    public var message: String
    /// The HTTP status of an `api` error (404 for a missing instance, …).
    public var status: Int?

    public init(_ kind: Kind, _ message: String, status: Int? = nil) {
        self.kind = kind
        self.message = message
        self.status = status
    }

    public var description: String { message }

    public var isNotFound: Bool { kind == .api && status == 404 }
}
