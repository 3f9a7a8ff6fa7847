/// A message to publish.
public struct OutgoingMessage: Sendable {
    /// The exchange; `""` is the default exchange, which routes by queue name.
    public var exchange: String
    public var routingKey: String
    public var body: [UInt8]
    public var properties: MessageProperties
    /// When `true`, a message that no queue receives fails with ``AMQPError/Kind/unroutable``.
    public var mandatory: Bool

    public init(exchange: String = "", routingKey: String, body: [UInt8], properties: MessageProperties = .init(), mandatory: Bool = true) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.properties = properties
        self.mandatory = mandatory
    }
}
