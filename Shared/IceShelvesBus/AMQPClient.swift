import Foundation
import IceShelvesContracts
import Logging
import ServiceLifecycle
import Synchronization

/// A reliable AMQP 0-9-1 client over rabbitmq-c.
///
/// - Publishing waits for the broker's confirm; a nack, an unroutable mandatory message or a lost
///   connection is thrown to the caller.
/// - Consumers ack manually, with a bounded prefetch.
/// - After a lost connection it reconnects with backoff, to the next of its brokers when it has
///   several (the nodes of a cluster), declares its topology again and resumes its consumers.
///   Unconfirmed publishes and unanswered requests fail; confirmed publishes are the broker's.
/// - Request/reply uses RabbitMQ's direct reply-to with correlation ids and a timeout.
///
/// It is a `Service`: `run()` owns the connection until graceful shutdown. Tests and tools may
/// instead call ``start()`` and ``shutdown()``.
public final class AMQPClient: Service, Sendable {
    /// Settings for a client.
    public struct Configuration: Sendable {
        /// The brokers to connect to, tried in turn (``AMQPURL/list(parsing:)``): the first, and
        /// after a failed attempt or a lost connection the next. Never empty.
        public var urls: [AMQPURL]
        /// The first broker of ``urls``; setting it makes it the only one.
        public var url: AMQPURL {
            get { urls[0] }
            set { urls = [newValue] }
        }
        /// A short name for logs and the connection thread, for example the service name.
        public var name: String
        /// Broker heartbeat in seconds; a silent broker is detected after about twice this.
        public var heartbeatSeconds: Int
        /// How long to wait for a connection or for the broker to confirm a publish.
        public var publishTimeout: Duration

        /// The delivery limit of every quorum queue this client declares (``BusTopology/Queue/deliveryLimit``);
        /// `nil` keeps each declaration's own (``BusNames/defaultDeliveryLimit`` for the job queues).
        /// Every client that declares a queue must use the same value: the broker refuses a
        /// declaration with another limit.
        public var deliveryLimit: Int?

        /// Settings with the documented defaults.
        public init(
            url: AMQPURL = .default,
            name: String,
            heartbeatSeconds: Int = 10,
            publishTimeout: Duration = .seconds(30),
            deliveryLimit: Int? = nil
        ) {
            self.init(urls: [url], name: name, heartbeatSeconds: heartbeatSeconds, publishTimeout: publishTimeout, deliveryLimit: deliveryLimit)
        }

        /// Settings for the nodes of one cluster, tried in turn; `urls` must not be empty.
        public init(
            urls: [AMQPURL],
            name: String,
            heartbeatSeconds: Int = 10,
            publishTimeout: Duration = .seconds(30),
            deliveryLimit: Int? = nil
        ) {
            precondition(!urls.isEmpty, "an AMQP client needs at least one broker URL")
            self.urls = urls
            self.name = name
            self.heartbeatSeconds = heartbeatSeconds
            self.publishTimeout = publishTimeout
            self.deliveryLimit = deliveryLimit
        }
    }

    /// The settings this client was made with.
    public let configuration: Configuration
    let loop: ConnectionLoop
    let logger: Logger
    private let started = Mutex(false)

    /// Makes a client; nothing connects until ``start()`` or ``run()``.
    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.loop = ConnectionLoop(
            settings: .init(urls: configuration.urls, heartbeatSeconds: Int32(configuration.heartbeatSeconds), name: configuration.name),
            logger: logger
        )
    }

    // MARK: Lifecycle

    /// Starts the connection thread. Idempotent.
    public func start() {
        let first = started.withLock { s -> Bool in
            defer { s = true }
            return !s
        }
        if first { loop.start() }
    }

    /// Stops the connection after sending queued acks, and waits for the thread to end.
    public func shutdown() async {
        loop.send(.stop)
        await loop.waitFinished()
    }

    /// Runs until graceful shutdown or cancellation, then closes the connection.
    public func run() async throws {
        start()
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Waits until the client is connected, or throws ``AMQPError/Kind/timeout``.
    public func waitUntilConnected(timeout: Duration = .seconds(10)) async throws {
        let ok = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
                    let now = self.loop.inbox.withLock { box -> Bool? in
                        if box.connected { return true }
                        if box.stopped { return false }
                        box.connectWaiters.append { c.resume(returning: $0) }
                        return nil
                    }
                    if let now { c.resume(returning: now) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        guard ok else { throw AMQPError(.timeout, "not connected to \(configuration.urls.map(\.redacted).joined(separator: ",")) within \(timeout)") }
    }

    /// `true` while the connection is up.
    public var isConnected: Bool { loop.inbox.withLock { $0.connected } }

    /// How many connections this client has opened: 1 after the first, one more for each
    /// reconnect. A channel error on one operation does not reconnect (see ``AMQPError``).
    public var connections: UInt64 { loop.inbox.withLock { $0.connections } }

    // MARK: Topology

    /// Declares exchanges and queues now and after every reconnect.
    public func declare(_ topology: BusTopology) async throws {
        let topology = topology.withDeliveryLimit(configuration.deliveryLimit)
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            loop.send(.declare(topology, done: { c.resume(with: $0) }))
        }
    }

    /// The number of ready messages in a queue (for tests and tools).
    public func queueDepth(_ queue: String) async throws -> Int {
        Int(try await queueOp(.depth, queue))
    }

    /// Removes every ready message from a queue (for tests and tools).
    public func purge(_ queue: String) async throws { _ = try await queueOp(.purge, queue) }

    /// Deletes a queue (for tests and tools).
    public func deleteQueue(_ queue: String) async throws { _ = try await queueOp(.delete, queue) }

    private func queueOp(_ op: ConnectionLoop.QueueOp, _ name: String) async throws -> UInt32 {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<UInt32, any Error>) in
            loop.send(.queueOp(op, name: name, done: { c.resume(with: $0) }))
        }
    }

    // MARK: Publishing

    /// Publishes and waits for the broker's confirm.
    public func publish(_ message: OutgoingMessage) async throws {
        var message = message
        if message.properties.messageId == nil { message.properties.messageId = UUID().uuidString.lowercased() }
        let deadline = ContinuousClock.now + configuration.publishTimeout
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            loop.send(.publish(message, deadline: deadline, done: { c.resume(with: $0) }))
        }
    }

    /// Publishes without waiting for a confirm (RPC replies, which are not stored anywhere).
    public func publishUnconfirmed(_ message: OutgoingMessage) {
        loop.send(.publish(message, deadline: ContinuousClock.now + configuration.publishTimeout, done: nil))
    }

    // MARK: Consuming

    /// A running consumer: its deliveries, and its tag for ``cancel(_:)``.
    public struct Consumer: Sendable {
        /// The consumer tag, unique per consumer.
        public let tag: String
        /// The deliveries, in order; the stream ends after cancel or shutdown.
        public let deliveries: DeliveryStream
    }

    /// Starts consuming `queue` with manual ack and at most `prefetch` unacked deliveries.
    /// The stream ends after ``cancel(_:)`` or shutdown.
    public func consume(queue: String, prefetch: UInt16) async throws -> Consumer {
        // A consumer tag is an AMQP short string (at most 255 bytes): keep the readable parts short.
        let tag = "\(configuration.name.prefix(60))-\(queue.prefix(120))-\(UUID().uuidString.prefix(8))"
        let (stream, continuation) = AsyncStream<[Delivery]>.makeStream()
        let spec = ConnectionLoop.ConsumerSpec(
            tag: tag,
            queue: queue,
            prefetch: prefetch,
            noAck: false,
            deliver: { continuation.yield($0) },
            finish: { continuation.finish() }
        )
        do {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                loop.send(.consume(spec, done: { c.resume(with: $0) }))
            }
        } catch {
            continuation.finish()
            throw error
        }
        return Consumer(tag: tag, deliveries: DeliveryStream(batches: stream))
    }

    /// Stops a consumer. Deliveries already received stay in its stream; the stream then ends.
    public func cancel(_ consumer: Consumer) { loop.send(.cancel(tag: consumer.tag)) }

    /// Stops a consumer by tag.
    public func cancel(tag: String) { loop.send(.cancel(tag: tag)) }

    /// Acknowledges a delivery. An ack for a delivery from a lost connection is dropped: the broker
    /// has requeued that message already.
    public func ack(_ delivery: Delivery) { loop.ack(generation: delivery.generation, tag: delivery.deliveryTag) }

    /// Rejects a delivery; without requeue, a queue with a dead-letter exchange dead-letters it.
    public func reject(_ delivery: Delivery, requeue: Bool) {
        loop.send(.reject(generation: delivery.generation, tag: delivery.deliveryTag, requeue: requeue))
    }

    // MARK: Request/reply

    /// Sends a request and waits for the reply with the same correlation id (RabbitMQ's direct
    /// reply-to). The request carries a TTL equal to `timeout`, so nobody answers it late.
    public func request(_ message: OutgoingMessage, timeout: Duration) async throws -> Delivery {
        var message = message
        let correlationId = message.properties.correlationId ?? UUID().uuidString.lowercased()
        message.properties.correlationId = correlationId
        if message.properties.messageId == nil { message.properties.messageId = correlationId }
        message.properties.persistent = false
        message.properties.expiration = String(max(1, Int((timeout / .milliseconds(1)).rounded(.up))))
        let request = message
        let deadline = ContinuousClock.now + timeout
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Delivery, any Error>) in
                loop.send(.request(request, deadline: deadline, done: { c.resume(with: $0) }))
            }
        } onCancel: {
            loop.send(.cancelRequest(correlationId: correlationId))
        }
    }
}
