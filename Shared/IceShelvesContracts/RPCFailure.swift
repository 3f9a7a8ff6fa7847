/// The reply a service sends when it cannot answer a request: an unknown method, a bad request or
/// an internal error. The caller's RPC client turns it into a thrown error.
public struct RPCFailure: BusMessage, Equatable {
    public static let messageType = "rpc.failure"
    public static let messageVersion = 1
    /// A stable, machine-readable reason: `bad_request`, `unknown_method`, `not_found`, `conflict`, `internal`.
    public var code: String
    /// A readable message, safe to show to a user. It never contains secrets.
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}
