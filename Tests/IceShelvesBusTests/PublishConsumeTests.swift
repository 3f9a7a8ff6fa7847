import IceShelvesBus
import IceShelvesContracts
import Testing

@Suite("Publish and consume (real RabbitMQ)", .enabled(if: TestBroker.available, "set ICESHELVES_TEST_AMQP_URL (scripts/test does)"))
struct PublishConsumeTests {
    @Test func confirmedMessagesAreConsumedAndAcked() async throws {
        let client = try await TestBroker.client("pubcon")
        let queue = TestBroker.queue("pubcon")
        try await client.declare(.workQueue(queue))
        for i in 0..<20 {
            try await client.publish(OutgoingMessage(routingKey: queue, body: Array("m\(i)".utf8)))
        }
        #expect(try await client.queueDepth(queue) == 20)

        let consumer = try await client.consume(queue: queue, prefetch: 5)
        var bodies: [String] = []
        for await delivery in consumer.deliveries {
            bodies.append(String(decoding: delivery.body, as: UTF8.self))
            #expect(delivery.properties.persistent)
            client.ack(delivery)
            if bodies.count == 20 { break }
        }
        client.cancel(consumer)
        #expect(bodies == (0..<20).map { "m\($0)" })
        #expect(try await TestBroker.eventually { try await client.queueDepth(queue) == 0 })
        try await client.deleteQueue(queue)
        try await client.deleteQueue(queue + ".dlq")
        await client.shutdown()
    }

    @Test func unroutableMandatoryMessageIsAnError() async throws {
        let client = try await TestBroker.client("unroutable")
        await #expect(throws: AMQPError(.unroutable, "no queue received the message")) {
            try await client.publish(OutgoingMessage(routingKey: TestBroker.queue("nobody-here"), body: [1]))
        }
        // The connection is still usable after the return.
        let queue = TestBroker.queue("after-return")
        try await client.declare(BusTopology(queues: [.init(name: queue, deadLetter: false)]))
        try await client.publish(OutgoingMessage(routingKey: queue, body: [2]))
        try await client.deleteQueue(queue)
        await client.shutdown()
    }

    @Test func unackedMessageIsRedeliveredWhenTheConsumerDies() async throws {
        let queue = TestBroker.queue("redeliver")
        let producer = try await TestBroker.client("redeliver-producer")
        try await producer.declare(.workQueue(queue))
        try await producer.publish(OutgoingMessage(routingKey: queue, body: Array("job".utf8)))

        // The first consumer takes the message and dies without acking.
        let doomed = try await TestBroker.client("redeliver-doomed")
        let first = try await doomed.consume(queue: queue, prefetch: 1)
        var iterator = first.deliveries.makeAsyncIterator()
        let taken = try #require(await iterator.next())
        #expect(!taken.redelivered)
        await doomed.shutdown()

        let survivor = try await TestBroker.client("redeliver-survivor")
        let second = try await survivor.consume(queue: queue, prefetch: 1)
        var it2 = second.deliveries.makeAsyncIterator()
        let again = try #require(await it2.next())
        #expect(again.redelivered)
        #expect(again.body == Array("job".utf8))
        survivor.ack(again)
        survivor.cancel(second)
        #expect(try await TestBroker.eventually { try await producer.queueDepth(queue) == 0 })
        try await producer.deleteQueue(queue)
        try await producer.deleteQueue(queue + ".dlq")
        await survivor.shutdown()
        await producer.shutdown()
    }
}
