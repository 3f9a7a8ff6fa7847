import IceShelvesBus
import IceShelvesContracts
import Logging
import Synchronization
import Testing

@Suite("Queue worker (real RabbitMQ)", .enabled(if: TestBroker.available, "set ICESHELVES_TEST_AMQP_URL (scripts/test does)"))
struct WorkerTests {
    /// Runs `worker` until `body` returns, then stops it.
    func running(_ worker: QueueWorker<Ping>, _ body: () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            try await body()
            group.cancelAll()
        }
    }

    @Test func undecodableMessageGoesToTheDeadLetterQueueWithAReason() async throws {
        let client = try await TestBroker.client("dlq")
        let queue = TestBroker.queue("dlq")
        let handled = Locked(0)
        let worker = QueueWorker<Ping>(client: client, queue: queue, concurrency: 2, logger: TestBroker.logger("dlq")) { _, _ in
            handled.withLock { $0 += 1 }
        }
        try await client.declare(.workQueue(queue))
        try await running(worker) {
            try await client.publish(OutgoingMessage(routingKey: queue, body: Array("this is not an envelope".utf8)))
            try await client.publish(Envelope(Ping()), routingKey: queue)
            #expect(try await TestBroker.eventually { handled.withLock { $0 } == 1 })
            #expect(try await TestBroker.eventually { try await client.queueDepth(queue + ".dlq") == 1 })
        }
        let inspector = try await client.consume(queue: queue + ".dlq", prefetch: 1)
        var it = inspector.deliveries.makeAsyncIterator()
        let dead = try #require(await it.next())
        #expect(dead.body == Array("this is not an envelope".utf8))
        #expect(dead.properties.headers[BusNames.deadReasonHeader]?.stringValue?.contains("cannot decode") == true)
        client.ack(dead)
        #expect(try await client.queueDepth(queue) == 0)
        try await client.deleteQueue(queue)
        try await client.deleteQueue(queue + ".dlq")
        await client.shutdown()
    }

    @Test func failingHandlerIsRetriedABoundedNumberOfTimesThenDeadLettered() async throws {
        let client = try await TestBroker.client("retry")
        let queue = TestBroker.queue("retry")
        let calls = Locked(0)
        struct Boom: Error {}
        let worker = QueueWorker<Ping>(client: client, queue: queue, concurrency: 1, maxAttempts: 3, logger: TestBroker.logger("retry")) { _, _ in
            calls.withLock { $0 += 1 }
            throw Boom()
        }
        try await client.declare(.workQueue(queue))
        try await running(worker) {
            try await client.publish(Envelope(Ping(), deploymentId: "dep-1"), routingKey: queue)
            #expect(try await TestBroker.eventually { try await client.queueDepth(queue + ".dlq") == 1 })
        }
        #expect(calls.withLock { $0 } == 3)
        #expect(try await client.queueDepth(queue) == 0)
        try await client.deleteQueue(queue)
        try await client.deleteQueue(queue + ".dlq")
        await client.shutdown()
    }

    @Test func competingWorkersShareTheQueueAndHandleEachMessageOnce() async throws {
        let producer = try await TestBroker.client("compete-producer")
        let a = try await TestBroker.client("compete-a")
        let b = try await TestBroker.client("compete-b")
        let queue = TestBroker.queue("compete")
        let seen = Locked<[String: Int]>([:])
        let byWorker = Locked<[String: Int]>([:])
        func worker(_ client: AMQPClient, _ name: String) -> QueueWorker<Ping> {
            QueueWorker<Ping>(client: client, queue: queue, concurrency: 4, logger: TestBroker.logger(name)) { envelope, _ in
                try await Task.sleep(for: .milliseconds(5))
                seen.withLock { $0[envelope.messageId, default: 0] += 1 }
                byWorker.withLock { $0[name, default: 0] += 1 }
            }
        }
        try await producer.declare(.workQueue(queue))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker(a, "a").run() }
            group.addTask { try await worker(b, "b").run() }
            for _ in 0..<200 { try await producer.publish(Envelope(Ping()), routingKey: queue) }
            #expect(try await TestBroker.eventually(timeout: .seconds(20)) { seen.withLock { $0.count } == 200 })
            group.cancelAll()
        }
        #expect(seen.withLock { $0.values.allSatisfy { $0 == 1 } })
        #expect(byWorker.withLock { $0.count } == 2)
        try await producer.deleteQueue(queue)
        try await producer.deleteQueue(queue + ".dlq")
        for c in [a, b, producer] { await c.shutdown() }
    }
}
