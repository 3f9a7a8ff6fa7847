import Logging

/// What an RPC handler knows about the call besides its message.
public struct RPCCall: Sendable {
    /// The broker user that published the request (AMQP `user_id`, checked by RabbitMQ against
    /// the publisher's login); `nil` when the request carried none.
    public var caller: String?
    public var logger: Logger

    public init(caller: String?, logger: Logger) {
        self.caller = caller
        self.logger = logger
    }
}
