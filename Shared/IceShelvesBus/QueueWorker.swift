import IceShelvesContracts
import Logging
import Metrics
import ServiceLifecycle

/// Consumes a durable work queue with N concurrent handlers and manual acks.
///
/// - The prefetch equals the concurrency, so at most N messages are in flight per process and
///   competing processes share the queue fairly.
/// - A message that cannot be decoded is dead-lettered at once, with the reason in a header; so is
///   one whose publisher (AMQP `user_id`, which the broker checks against the login) is not among
///   `publishers`, when that set is given: only the service meant to send a job can.
/// - A handler error retries the message (republished with an attempt count, confirmed before the
///   original is acked) until `maxAttempts`, then dead-letters it.
/// - On graceful shutdown it cancels its consumer, lets in-flight handlers finish and ack, then returns.
///   When the shutdown budget runs short the service is cancelled: a handler that then fails
///   has its message requeued as it was (no retry counted), for the next consumer.
///
/// Two counts, two kinds of failure: a handler that *throws* is counted here (``BusNames/attemptsHeader``,
/// a fresh copy each time); a consumer that *dies* (crash, kill, lost connection) never settles
/// its message, so the broker hands it out again and counts that itself: a job queue is a quorum
/// queue whose broker dead-letters the message after its delivery limit (reason `delivery_limit`).
/// Handlers must be idempotent per deployment id: a message can come again after a crash.
///
/// A lost connection is not a crash: the handler goes on, and the broker hands its message out
/// again once the worker has reconnected. ``HandledMessages`` holds that copy until the first
/// handling ends and then acks it, so one process never handles a message twice at once.
public struct QueueWorker<Message: BusMessage>: Service {
    /// Handles one decoded message; throwing retries it, then dead-letters it.
    public typealias Handler = @Sendable (Envelope<Message>, Logger) async throws -> Void

    let client: AMQPClient
    let queue: String
    let concurrency: Int
    let maxAttempts: Int
    let logger: Logger
    let topology: BusTopology
    let publishers: Set<String>?
    let handler: Handler
    let handled = HandledMessages()

    /// - Parameters:
    ///   - topology: declared before consuming, for example the queues the handler publishes to;
    ///     the worker's own queue is always declared.
    ///   - publishers: the broker users whose messages are handled; `nil` takes any publisher.
    public init(
        client: AMQPClient,
        queue: String,
        concurrency: Int = 4,
        maxAttempts: Int = 3,
        topology: BusTopology = .init(),
        publishers: Set<String>? = nil,
        logger: Logger,
        handler: @escaping Handler
    ) {
        self.client = client
        self.queue = queue
        self.topology = BusTopology.workQueue(queue).merging(topology)
        self.concurrency = max(1, concurrency)
        self.maxAttempts = max(1, maxAttempts)
        self.publishers = publishers
        self.logger = logger
        self.handler = handler
    }

    /// Declares the topology, consumes until graceful shutdown, then drains in-flight work.
    public func run() async throws {
        try await client.declare(topology)
        let consumer = try await client.consume(queue: queue, prefetch: UInt16(clamping: concurrency))
        logger.info("consuming", metadata: ["queue": "\(queue)", "concurrency": "\(concurrency)"])
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await delivery in consumer.deliveries {
                    group.addTask { await process(delivery) }
                }
            }
        } onGracefulShutdown: {
            client.cancel(consumer)
        }
        logger.info("stopped consuming; in-flight work finished", metadata: ["queue": "\(queue)"])
    }

    func process(_ delivery: Delivery) async {
        let envelope: Envelope<Message>
        do {
            envelope = try MessageCodec.decode(Message.self, from: delivery.body)
        } catch {
            Counter(label: "iceshelves_bus_dead_lettered_total", dimensions: [("queue", queue), ("reason", "undecodable")]).increment()
            await deadLetter(delivery, reason: "cannot decode: \(error)")
            return
        }
        var logger = logger
        logger[metadataKey: "message_id"] = "\(envelope.messageId)"
        if let id = envelope.deploymentId { logger[metadataKey: "deployment_id"] = "\(id)" }
        if let publishers, !publishers.contains(delivery.properties.userId ?? "") {
            Counter(label: "iceshelves_bus_dead_lettered_total", dimensions: [("queue", queue), ("reason", "publisher")]).increment()
            let sender = delivery.properties.userId.map { "'\($0.prefix(64))'" } ?? "an unnamed user"
            await deadLetter(delivery, reason: "not a trusted publisher: \(sender) may not send jobs to \(queue)")
            return
        }
        if let returns = delivery.properties.headers[BusNames.deliveryCountHeader]?.intValue, returns > 0 {
            // A consumer died holding it before; at the queue's delivery limit the broker dead-letters it.
            logger.warning("taking a message whose consumer died before", metadata: ["returns": "\(returns)"])
        }
        let key = HandledMessages.Key(messageId: envelope.messageId, attempts: delivery.attempts)
        if await handled.admit(key, generation: delivery.generation, redelivered: delivery.redelivered) == .alreadySettled {
            logger.warning("the broker handed out again a message this worker settled while its connection was down; acking the copy")
            client.ack(delivery)
            return
        }
        var settled = true
        defer { handled.finish(key, generation: delivery.generation, settled: settled) }
        do {
            try await handler(envelope, logger)
            client.ack(delivery)
            Counter(label: "iceshelves_bus_handled_total", dimensions: [("queue", queue)]).increment()
        } catch {
            guard !Task.isCancelled else {
                logger.warning("handler cancelled by the shutdown; message requeued", metadata: ["error": "\(error)"])
                client.reject(delivery, requeue: true)
                settled = false
                return
            }
            let attempt = delivery.attempts + 1
            if attempt < maxAttempts {
                logger.warning(
                    "handler failed; retrying",
                    metadata: ["attempt": "\(attempt)", "max_attempts": "\(maxAttempts)", "error": "\(error)"]
                )
                settled = await retry(delivery, attempt: attempt)
            } else {
                logger.error("handler failed; dead-lettering", metadata: ["attempts": "\(attempt)", "error": "\(error)"])
                Counter(label: "iceshelves_bus_dead_lettered_total", dimensions: [("queue", queue), ("reason", "handler")]).increment()
                settled = await deadLetter(delivery, reason: "handler failed \(attempt) times: \(error)")
            }
        }
    }

    /// Republishes with the attempt count, then acks the original once the copy is confirmed;
    /// `false` when the copy could not be published and the original went back to the queue.
    @discardableResult
    func retry(_ delivery: Delivery, attempt: Int) async -> Bool {
        var properties = delivery.properties
        properties.headers[BusNames.attemptsHeader] = .int(Int64(attempt))
        // The copy is a new message: the broker's count of crashed deliveries starts again.
        properties.headers[BusNames.deliveryCountHeader] = nil
        do {
            try await client.publish(OutgoingMessage(routingKey: queue, body: delivery.body, properties: properties))
            client.ack(delivery)
            return true
        } catch {
            // The original stays unacked and comes back after requeue: nothing is lost.
            logger.error("cannot republish for retry; requeueing", metadata: ["error": "\(error)"])
            client.reject(delivery, requeue: true)
            return false
        }
    }

    /// The dead letter's properties: the message's own, with this consumer's reason, and without
    /// the broker's death headers, which the publisher may have forged (a job refused for its
    /// publisher must not pass for one the broker gave up on: that one an admin may requeue).
    static func deadLetterProperties(_ original: MessageProperties, reason: String) -> MessageProperties {
        var properties = original
        for name in BusNames.brokerDeathHeaders { properties.headers[name] = nil }
        properties.headers[BusNames.deadReasonHeader] = .string(String(reason.prefix(1000)))
        return properties
    }

    /// Publishes to the dead-letter exchange with the reason, then acks; falls back to the broker's
    /// own dead-lettering (reject without requeue) when that publish fails. `true` when the dead
    /// letter was confirmed; after the fallback a copy the broker hands out again is handled again.
    @discardableResult
    func deadLetter(_ delivery: Delivery, reason: String) async -> Bool {
        logger.error("dead-lettering message", metadata: ["queue": "\(queue)", "reason": "\(reason.prefix(500))"])
        let properties = Self.deadLetterProperties(delivery.properties, reason: reason)
        do {
            try await client.publish(
                OutgoingMessage(exchange: BusNames.deadLetterExchange, routingKey: queue, body: delivery.body, properties: properties)
            )
            client.ack(delivery)
            return true
        } catch {
            client.reject(delivery, requeue: false)
            return false
        }
    }
}
