import IceShelvesBus
import Testing

/// Acks are buffered without a wake-up each (ConnectionLoop+Acks.swift); these make sure a
/// buffered ack never waits for the loop's long poll timeout, so the prefetch window keeps moving.
@Suite("Buffered acks and batched deliveries (real RabbitMQ)", .enabled(if: TestBroker.available, "set ICESHELVES_TEST_AMQP_URL (scripts/test does)"))
struct AckBufferTests {
    /// With prefetch 1 the next message comes only after the ack reaches the broker: a lone ack
    /// to a sleeping loop must wake it at once (the loop's poll timeout is 1 s).
    @Test func aLoneAckWakesTheLoop() async throws {
        let client = try await TestBroker.client("lone-ack")
        let queue = TestBroker.queue("lone-ack")
        try await client.declare(.workQueue(queue))
        for i in 0..<4 { try await client.publish(OutgoingMessage(routingKey: queue, body: [UInt8(i)])) }
        let consumer = try await client.consume(queue: queue, prefetch: 1)
        var iterator = consumer.deliveries.makeAsyncIterator()
        var bodies: [[UInt8]] = []
        let clock = ContinuousClock()
        var lastAck: ContinuousClock.Instant?
        while bodies.count < 4 {
            let delivery = try #require(await iterator.next())
            if let lastAck {
                #expect(clock.now - lastAck < .milliseconds(500), "the next delivery waited for the poll timeout")
            }
            bodies.append(delivery.body)
            // Long enough for the loop to go idle and sleep deeply before the ack comes.
            try await Task.sleep(for: .milliseconds(30))
            lastAck = clock.now
            client.ack(delivery)
        }
        client.cancel(consumer)
        #expect(bodies == [[0], [1], [2], [3]])
        try await client.deleteQueue(queue)
        try await client.deleteQueue(queue + ".dlq")
        await client.shutdown()
    }

    /// A full window whose handlers finish one by one, after the loop went idle: each ack must
    /// move the window on promptly even though acks below the wake threshold do not wake a nap.
    @Test func slowHandlersStillMoveAFullWindow() async throws {
        let client = try await TestBroker.client("slow-window")
        let queue = TestBroker.queue("slow-window")
        try await client.declare(.workQueue(queue))
        for i in 0..<12 { try await client.publish(OutgoingMessage(routingKey: queue, body: [UInt8(i)])) }
        let consumer = try await client.consume(queue: queue, prefetch: 4)
        var iterator = consumer.deliveries.makeAsyncIterator()
        var held: [Delivery] = []
        var seen: [UInt8] = []
        let clock = ContinuousClock()
        let start = clock.now
        while seen.count < 12 {
            while held.count < 4, seen.count < 12 {
                let d = try #require(await iterator.next())
                held.append(d)
                seen.append(d.body[0])
            }
            try await Task.sleep(for: .milliseconds(20))
            client.ack(held.removeFirst())
        }
        held.forEach(client.ack)
        client.cancel(consumer)
        #expect(seen == Array(0..<12))
        // 9 window moves of about 20 ms each; a move that waited for the 1 s poll timeout would show.
        #expect(clock.now - start < .milliseconds(900))
        #expect(try await TestBroker.eventually { try await client.queueDepth(queue) == 0 })
        try await client.deleteQueue(queue)
        try await client.deleteQueue(queue + ".dlq")
        await client.shutdown()
    }

    /// Many messages with a large window: acks coalesce, nothing is lost or redelivered.
    @Test func aLargeWindowIsConsumedCompletelyAndAckedOnce() async throws {
        let client = try await TestBroker.client("large-window")
        let queue = TestBroker.queue("large-window")
        try await client.declare(.workQueue(queue))
        let count = 2_000
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<count {
                group.addTask { try await client.publish(OutgoingMessage(routingKey: queue, body: Array("\(i)".utf8))) }
            }
            try await group.waitForAll()
        }
        let consumer = try await client.consume(queue: queue, prefetch: 500)
        var received = Set<String>()
        var redelivered = 0
        for await delivery in consumer.deliveries {
            received.insert(String(decoding: delivery.body, as: UTF8.self))
            if delivery.redelivered { redelivered += 1 }
            client.ack(delivery)
            if received.count == count { break }
        }
        client.cancel(consumer)
        #expect(received.count == count)
        #expect(redelivered == 0)
        #expect(try await TestBroker.eventually { try await client.queueDepth(queue) == 0 })
        try await client.deleteQueue(queue)
        try await client.deleteQueue(queue + ".dlq")
        // After shutdown nothing comes back: every ack reached the broker.
        await client.shutdown()
        let checker = try await TestBroker.client("large-window-check")
        try await checker.declare(.workQueue(queue))
        #expect(try await checker.queueDepth(queue) == 0)
        try await checker.deleteQueue(queue)
        try await checker.deleteQueue(queue + ".dlq")
        await checker.shutdown()
    }

    /// Publishes of one pass go out corked; a queue operation behind them must flush them, not
    /// wait for the kernel's 200 ms cork timeout.
    @Test func aReplyCommandBehindCorkedPublishesIsNotHeldBack() async throws {
        let client = try await TestBroker.client("cork")
        let queue = TestBroker.queue("cork")
        try await client.declare(BusTopology(queues: [.init(name: queue, deadLetter: false)]))
        let clock = ContinuousClock()
        let start = clock.now
        for round in 1...5 {
            for _ in 0..<20 { client.publishUnconfirmed(OutgoingMessage(routingKey: queue, body: [1])) }
            #expect(try await TestBroker.eventually { try await client.queueDepth(queue) == round * 20 })
        }
        #expect(clock.now - start < .milliseconds(900), "a corked pass held a queue operation back")
        try await client.deleteQueue(queue)
        await client.shutdown()
    }

    /// A consumer loop on an actor iterates in the actor's isolation and gets every delivery in order.
    @Test func anActorIsolatedConsumerGetsEveryDeliveryInOrder() async throws {
        let client = try await TestBroker.client("actor-consumer")
        let queue = TestBroker.queue("actor-consumer")
        try await client.declare(.workQueue(queue))
        for i in 0..<50 { try await client.publish(OutgoingMessage(routingKey: queue, body: [UInt8(i)])) }
        let sink = Sink()
        let consumer = try await client.consume(queue: queue, prefetch: 10)
        await sink.drain(consumer.deliveries, count: 50, client: client)
        client.cancel(consumer)
        #expect(await sink.bodies == (0..<50).map { [UInt8($0)] })
        try await client.deleteQueue(queue)
        try await client.deleteQueue(queue + ".dlq")
        await client.shutdown()
    }

    actor Sink {
        var bodies: [[UInt8]] = []

        func drain(_ deliveries: DeliveryStream, count: Int, client: AMQPClient) async {
            for await delivery in deliveries {
                bodies.append(delivery.body)
                client.ack(delivery)
                if bodies.count == count { break }
            }
        }
    }
}
