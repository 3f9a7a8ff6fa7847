/// Names of the exchanges and queues every service agrees on. `docs/messages.md` describes each.
public enum BusNames {
    /// Direct exchange that receives rejected messages; each work queue `Q` dead-letters to `Q.dlq`.
    public static let deadLetterExchange = "iceshelves.dlx"
    /// Topic exchange for deployment progress and other events (routing key `deployment.<id>.<kind>`).
    public static let eventsExchange = "iceshelves.events"
    /// The suffix of a work queue's dead-letter queue.
    public static let deadLetterSuffix = ".dlq"
    /// The RabbitMQ pseudo-queue for direct reply-to, used by RPC clients.
    public static let directReplyTo = "amq.rabbitmq.reply-to"
    /// The header that counts how often a work message was retried after a handler error.
    public static let attemptsHeader = "x-iceshelves-attempts"
    /// The header that says why a message was dead-lettered by a consumer.
    public static let deadReasonHeader = "x-iceshelves-dead-reason"
}
