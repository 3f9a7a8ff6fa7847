/// The AMQP basic properties the bus uses.
public struct MessageProperties: Sendable, Equatable {
    /// The MIME type of the body.
    public var contentType: String?
    /// The message id; set for every published message.
    public var messageId: String?
    /// Ties a reply to its request.
    public var correlationId: String?
    /// Where a request wants its reply.
    public var replyTo: String?
    /// Per-message TTL in milliseconds, as a decimal string (AMQP's form).
    public var expiration: String?
    /// The message type (the envelope's `type`), so tools can see it without decoding the body.
    public var type: String?
    /// The broker user that published the message, as RabbitMQ validated it (AMQP `user_id`).
    /// Set on received messages; the connection stamps its own user on every message it sends.
    public var userId: String?
    /// `true` for delivery mode 2 (persistent).
    public var persistent: Bool
    /// Application headers, for example the attempt count and the dead-letter reason.
    public var headers: [String: HeaderValue]

    /// Properties with JSON content and persistent delivery by default.
    public init(
        contentType: String? = "application/json",
        messageId: String? = nil,
        correlationId: String? = nil,
        replyTo: String? = nil,
        expiration: String? = nil,
        type: String? = nil,
        userId: String? = nil,
        persistent: Bool = true,
        headers: [String: HeaderValue] = [:]
    ) {
        self.contentType = contentType
        self.messageId = messageId
        self.correlationId = correlationId
        self.replyTo = replyTo
        self.expiration = expiration
        self.type = type
        self.userId = userId
        self.persistent = persistent
        self.headers = headers
    }
}
