import IceShelvesContracts

/// A message received from a queue. Ack or reject it through the ``AMQPClient`` that delivered it.
public struct Delivery: Sendable {
    /// The message body.
    public let body: [UInt8]
    /// The AMQP basic properties.
    public let properties: MessageProperties
    /// The exchange it was published to (`""` for the default exchange).
    public let exchange: String
    /// The routing key it was published with.
    public let routingKey: String
    /// `true` when the broker delivered this message before and it was not acked.
    public let redelivered: Bool
    let deliveryTag: UInt64
    /// The connection incarnation (1, 2, … after each reconnect) that delivered it; acks for an older one are dropped
    /// (the broker has already requeued the message).
    public let generation: UInt64

    init(
        body: [UInt8],
        properties: MessageProperties,
        exchange: String,
        routingKey: String,
        redelivered: Bool,
        deliveryTag: UInt64,
        generation: UInt64
    ) {
        self.body = body
        self.properties = properties
        self.exchange = exchange
        self.routingKey = routingKey
        self.redelivered = redelivered
        self.deliveryTag = deliveryTag
        self.generation = generation
    }

    /// How many times a worker has retried this message after a handler error.
    public var attempts: Int { Int(properties.headers[BusNames.attemptsHeader]?.intValue ?? 0) }
}
