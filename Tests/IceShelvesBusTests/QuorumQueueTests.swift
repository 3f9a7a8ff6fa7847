import IceShelvesBus
import IceShelvesContracts
import Testing

@Suite("Quorum queues (real RabbitMQ)", .enabled(if: TestBroker.available, "set ICESHELVES_TEST_AMQP_URL (scripts/test does)"))
struct QuorumQueueTests {
    /// A consumer that dies holding the message (its connection closes without an ack) is what the
    /// delivery limit counts: after limit + 1 deliveries the broker dead-letters the message.
    @Test func aMessageWhoseConsumersKeepDyingIsDeadLetteredAfterTheDeliveryLimit() async throws {
        let queue = TestBroker.queue("poison")
        let limit = 2
        let admin = try await TestBroker.client("poison-admin")
        try await admin.declare(.quorumQueue(queue, deliveryLimit: limit))
        try await admin.publish(Envelope(Ping(), deploymentId: "dep-poison"), routingKey: queue)
        var deliveries = 0
        for _ in 0..<(limit + 1) {
            let crashing = try await TestBroker.client("poison-consumer")
            let consumer = try await crashing.consume(queue: queue, prefetch: 1)
            var it = consumer.deliveries.makeAsyncIterator()
            if await it.next() != nil { deliveries += 1 }
            await crashing.shutdown()  // no ack: the broker takes the message back and counts it
        }
        #expect(deliveries == limit + 1)
        #expect(try await TestBroker.eventually { try await admin.queueDepth(queue + BusNames.deadLetterSuffix) == 1 })
        #expect(try await admin.queueDepth(queue) == 0)
        let inspector = try await admin.consume(queue: queue + BusNames.deadLetterSuffix, prefetch: 1)
        var it = inspector.deliveries.makeAsyncIterator()
        let dead = try #require(await it.next())
        #expect(dead.properties.headers[BusNames.firstDeathReasonHeader] == .string("delivery_limit"))
        #expect(dead.properties.headers[BusNames.firstDeathQueueHeader] == .string(queue), "\(dead.properties.headers)")
        admin.ack(dead)
        try await admin.deleteQueue(queue)
        try await admin.deleteQueue(queue + BusNames.deadLetterSuffix)
        await admin.shutdown()
    }

    /// A broker that holds a classic queue of a job queue's name (state from before quorum job
    /// queues) refuses the quorum declaration; the error says what to do.
    @Test func aClassicQueueOfTheSameNameIsAClearError() async throws {
        let queue = TestBroker.queue("upgrade")
        let client = try await TestBroker.client("upgrade")
        try await client.declare(BusTopology(queues: [.init(name: queue, quorum: false)]))
        let error = await #expect(throws: AMQPError.self) { try await client.declare(.quorumQueue(queue, deliveryLimit: 5)) }
        #expect(error?.message.contains("rabbitmqctl delete_queue -p <vhost> \(queue)") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("406 PRECONDITION_FAILED - inequivalent arg") == true)
        try await client.waitUntilConnected()
        try await client.deleteQueue(queue)
        try await client.deleteQueue(queue + BusNames.deadLetterSuffix)
        await client.shutdown()
    }
}
