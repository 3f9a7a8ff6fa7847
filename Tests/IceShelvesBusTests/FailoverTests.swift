import Foundation
import IceShelvesBus
import IceShelvesContracts
import Testing

/// A client with several broker URLs moves to the next one when a connect fails or its
/// connection is lost (two separate real brokers stand in for a cluster's nodes here; the
/// cluster itself is Tests/SystemTests/BrokerClusterTests.swift).
@Suite("Failover between broker URLs (real RabbitMQ)", .enabled(if: TestBroker.available, "set ICESHELVES_TEST_AMQP_URL (scripts/test does)"))
struct FailoverTests {
    @Test func aBrokerThatRefusesTheConnectionIsPassedOver() async throws {
        let dead = AMQPURL(host: "127.0.0.1", port: 1, user: TestBroker.url!.user, password: TestBroker.url!.password, vhost: TestBroker.url!.vhost)
        let client = AMQPClient(configuration: .init(urls: [dead, TestBroker.url!], name: "failover-connect"), logger: TestBroker.logger("failover"))
        client.start()
        try await client.waitUntilConnected(timeout: .seconds(10))
        let queue = TestBroker.queue("failover")
        try await client.declare(.workQueue(queue))
        try await client.publish(OutgoingMessage(routingKey: queue, body: Array("one".utf8)))
        #expect(try await TestBroker.eventually { try await client.queueDepth(queue) == 1 })
        #expect(client.connections == 1)
        try await client.deleteQueue(queue)
        try await client.deleteQueue(queue + BusNames.deadLetterSuffix)
        await client.shutdown()
    }

    @Test(
        .enabled(
            if: TestBroker.restartURL != nil && TestBroker.restartCommand != nil,
            "set ICESHELVES_TEST_RESTART_AMQP_URL and ICESHELVES_TEST_RESTART_CMD (scripts/test does)"
        )
    )
    func aLostConnectionMovesToTheNextBrokerWithItsQueuesAndConsumers() async throws {
        let first = try #require(TestBroker.restartURL)
        let second = try #require(TestBroker.url)
        let client = AMQPClient(configuration: .init(urls: [first, second], name: "failover-loss"), logger: TestBroker.logger("failover"))
        client.start()
        try await client.waitUntilConnected()
        let queue = TestBroker.queue("failover-loss")
        try await client.declare(.workQueue(queue))
        let consumer = try await client.consume(queue: queue, prefetch: 4)

        #expect(try await TestBroker.restart() == 0, "the broker restart command failed")
        #expect(try await TestBroker.eventually(timeout: .seconds(20)) { client.connections >= 2 && client.isConnected })

        // The queue was declared again on the second broker, and the consumer resumed there.
        let other = try await TestBroker.client("failover-check", url: second)
        #expect(try await TestBroker.eventually { (try? await other.queueDepth(queue)) != nil }, "no \(queue) on the second broker")
        try await client.publish(OutgoingMessage(routingKey: queue, body: Array("after".utf8)))
        var it = consumer.deliveries.makeAsyncIterator()
        let delivery = try #require(await it.next())
        #expect(String(decoding: delivery.body, as: UTF8.self) == "after")
        client.ack(delivery)
        client.cancel(consumer)
        await client.shutdown()
        for url in [first, second] {
            let cleaner = try await TestBroker.client("failover-clean", url: url)
            try await cleaner.deleteQueue(queue)
            try await cleaner.deleteQueue(queue + BusNames.deadLetterSuffix)
            await cleaner.shutdown()
        }
        await other.shutdown()
    }
}
