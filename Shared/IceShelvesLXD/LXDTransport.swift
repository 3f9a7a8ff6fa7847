/// One HTTP exchange with LXD's REST API.
public struct LXDHTTPRequest: Sendable {
    public var method: String
    /// The path and query, for example `/1.0/instances?recursion=1`.
    public var path: String
    public var body: [UInt8]?
    /// The whole exchange must finish within this time (a `/wait` adds its own wait to it).
    public var timeout: Duration

    public init(method: String, path: String, body: [UInt8]? = nil, timeout: Duration) {
        self.method = method
        self.path = path
        self.body = body
        self.timeout = timeout
    }
}

public struct LXDHTTPResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
}

/// Carries HTTP requests to one LXD server. ``CurlTransport`` is the implementation: a unix
/// socket, or HTTPS with a client certificate and a pinned server; the SSH method is a unix
/// socket that ``SSHTunnel`` relays.
public protocol LXDTransport: Sendable {
    func send(_ request: LXDHTTPRequest) async throws -> LXDHTTPResponse
    /// Releases connections (and the tunnel, for SSH).
    func close()
}
