import IceShelvesBus
import IceShelvesContracts
import Logging
import ServiceLifecycle

/// Takes every dead-lettered job off the job queues' `<queue>.dlq` into the gateway's SQLite
/// (``DeadLetters``), and marks its deployment `failed` with the reason, unless it has ended already.
///
/// Store, record, then ack: a gateway that dies in between gets the dead letter again, and both
/// steps are idempotent (the dead letter's id, and the ledger's message id `dead-letter-<id>`),
/// so the deployment fails once, with one webhook from the outbox.
struct DeadLetterIngest: Service {
    let client: AMQPClient
    let deadLetters: DeadLetters
    let ledger: Ledger
    let recorder: ProgressRecorder
    /// The job queues' delivery limit, for a dead letter whose count the broker did not say.
    let deliveryLimit: Int
    /// The broker users whose messages may sit in a dead-letter queue: those that send jobs (the
    /// broker's own dead-lettering keeps the publisher's `user_id`) and those that consume them
    /// (a consumer dead-letters as itself). Anything else was put there by hand, is logged and dropped.
    let senders: Set<String>
    let logger: Logger

    /// The dead-letter queues of every job queue, bound to the dead-letter exchange as each job
    /// queue's own declaration binds them.
    static var topology: BusTopology {
        BusTopology(
            exchanges: BusTopology.base.exchanges,
            queues: BusNames.jobQueues.map {
                .init(name: $0 + BusNames.deadLetterSuffix, deadLetter: false, bindings: [(BusNames.deadLetterExchange, $0)])
            }
        )
    }

    func run() async throws {
        try await client.declare(Self.topology)
        var started: [(queue: String, consumer: AMQPClient.Consumer)] = []
        for queue in BusNames.jobQueues {
            started.append((queue, try await client.consume(queue: queue + BusNames.deadLetterSuffix, prefetch: 8)))
        }
        let consumers = started
        logger.info("taking dead-lettered jobs", metadata: ["queues": "\(BusNames.jobQueues.joined(separator: ","))"])
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for (queue, consumer) in consumers {
                    group.addTask {
                        for await delivery in consumer.deliveries { await take(delivery, from: queue) }
                    }
                }
            }
        } onGracefulShutdown: {
            for c in consumers { client.cancel(c.consumer) }
        }
    }

    func take(_ delivery: Delivery, from queue: String) async {
        guard senders.contains(delivery.properties.userId ?? "") else {
            logger.error(
                "dropped a message on a dead-letter queue from a broker user that neither sends nor takes jobs",
                metadata: ["queue": "\(queue)", "user": "\(delivery.properties.userId.map { String($0.prefix(64)) } ?? "none")"]
            )
            client.ack(delivery)
            return
        }
        let letter = DeadLetter(delivery: delivery, queue: queue, deliveryLimit: deliveryLimit)
        do {
            try await handle(letter)
            client.ack(delivery)
        } catch {
            logger.error("cannot store a dead-lettered job; it stays on its queue", metadata: ["id": "\(letter.id)", "error": "\(error)"])
            try? await Task.sleep(for: .seconds(1))
            client.reject(delivery, requeue: true)
        }
    }

    /// Stores the dead letter and fails its deployment, once.
    func handle(_ letter: DeadLetter) async throws {
        let new = try await deadLetters.add(letter)
        if new {
            logger.warning(
                "job dead-lettered",
                metadata: [
                    "id": "\(letter.id)", "queue": "\(letter.queue)", "reason": "\(letter.reason)",
                    "deployment_id": "\(letter.deploymentId ?? "-")", "count": "\(letter.count)",
                ]
            )
        }
        guard let id = letter.deploymentId, let deployment = try await ledger.get(id), !deployment.status.isTerminal else { return }
        let event = DeploymentEvent(
            status: .failed,
            step: letter.queue == BusNames.renderQueue ? .render : .deploy,
            level: .error,
            message: "the job was dead-lettered from \(letter.queue) (\(letter.reason)): \(letter.detail)",
            details: ["dead_letter_id": letter.id, "queue": letter.queue, "reason": letter.reason, "count": "\(letter.count)"]
        )
        try await recorder.record(id, event, messageId: "dead-letter-\(letter.id)")
    }
}
