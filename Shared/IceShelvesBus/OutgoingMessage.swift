/// A message to publish.
public struct OutgoingMessage: Sendable {
    /// The exchange; `""` is the default exchange, which routes by queue name.
    public var exchange: String
    /// The routing key; with the default exchange, the queue name.
    public var routingKey: String
    /// The message body.
    public var body: [UInt8]
    /// The AMQP basic properties.
    public var properties: MessageProperties
    /// When `true`, a message that no queue receives fails with ``AMQPError/Kind/unroutable``.
    public var mandatory: Bool

    /// A message, mandatory by default (work messages must reach a queue).
    public init(exchange: String = "", routingKey: String, body: [UInt8], properties: MessageProperties = .init(), mandatory: Bool = true) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.properties = properties
        self.mandatory = mandatory
    }
}
