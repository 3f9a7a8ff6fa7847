import IceShelvesContracts
import Logging
import Metrics
import ServiceLifecycle

/// Answers requests on a service's RPC queue, several at a time.
///
/// Replies go to the caller's `reply_to` with the request's correlation id. A request of an
/// unknown type or that cannot be decoded is answered with an ``RPCFailure``, never dropped.
public struct RPCServer: Service {
    let client: AMQPClient
    let queue: String
    let router: RPCRouter
    let concurrency: Int
    let topology: BusTopology
    let logger: Logger

    /// A server answering `queue` with up to `concurrency` requests at a time. The queue is
    /// declared as `topology`, by default ``topology(queue:)``.
    public init(client: AMQPClient, queue: String, router: RPCRouter, concurrency: Int = 16, topology: BusTopology? = nil, logger: Logger) {
        self.client = client
        self.queue = queue
        self.router = router
        self.concurrency = max(1, concurrency)
        self.topology = topology ?? Self.topology(queue: queue)
        self.logger = logger
    }

    /// The RPC queue: durable, with no dead-lettering (requests expire by their TTL).
    public static func topology(queue: String) -> BusTopology {
        BusTopology(queues: [.init(name: queue, durable: true, deadLetter: false)])
    }

    /// The queue of one instance: exclusive, so it goes when the instance's connection goes.
    public static func instanceTopology(queue: String) -> BusTopology {
        BusTopology(queues: [.init(name: queue, durable: false, deadLetter: false, exclusive: true)])
    }

    /// Declares the queue and answers requests until graceful shutdown.
    public func run() async throws {
        try await client.declare(topology)
        let consumer = try await client.consume(queue: queue, prefetch: UInt16(clamping: concurrency))
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for await delivery in consumer.deliveries {
                    group.addTask { await handle(delivery) }
                }
            }
        } onGracefulShutdown: {
            client.cancel(consumer)
        }
    }

    func handle(_ delivery: Delivery) async {
        defer { client.ack(delivery) }
        guard let replyTo = delivery.properties.replyTo, let correlationId = delivery.properties.correlationId else {
            logger.warning("RPC request without reply_to or correlation_id dropped after ack", metadata: ["queue": "\(queue)"])
            return
        }
        // Replies go to a caller's direct reply-to only, never into a queue the caller names
        // (through the default exchange that could be any queue, a job queue among them), and
        // only to an address the broker can decode without losing the connection (DirectReplyTo).
        guard DirectReplyTo.isWellFormed(replyTo) else {
            logger.warning("RPC request whose reply_to is not a direct reply-to address dropped after ack", metadata: ["queue": "\(queue)"])
            return
        }
        let reply: (type: String, body: [UInt8])
        do {
            let header = try MessageCodec.header(from: delivery.body)
            guard let handler = router.handlers[header.type] else {
                Counter(label: "iceshelves_rpc_requests_total", dimensions: [("queue", queue), ("type", "unknown")]).increment()
                throw RPCError(code: "unknown_method", message: "\(queue) does not answer '\(header.type.prefix(64))'")
            }
            // Only known types become label values, so hostile callers cannot grow the metrics.
            Counter(label: "iceshelves_rpc_requests_total", dimensions: [("queue", queue), ("type", header.type)]).increment()
            reply = try await handler(delivery.body, delivery.properties.userId, logger)
        } catch {
            let failure: RPCError
            if let e = error as? RPCError {
                failure = e
            } else if let e = error as? ContractError {
                failure = .badRequest(e.description)
            } else {
                logger.error("RPC handler failed", metadata: ["queue": "\(queue)", "error": "\(error)"])
                failure = RPCError(code: "internal", message: "the service could not answer; see its log")
            }
            let envelope = Envelope(failure.failure, correlationId: correlationId)
            reply = (RPCFailure.messageType, (try? MessageCodec.encode(envelope)) ?? [])
        }
        client.publishUnconfirmed(
            OutgoingMessage(
                routingKey: replyTo,
                body: reply.body,
                properties: MessageProperties(correlationId: correlationId, type: reply.type, persistent: false),
                mandatory: false
            )
        )
    }
}
