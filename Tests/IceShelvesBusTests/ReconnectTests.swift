import Foundation
import IceShelvesBus
import IceShelvesContracts
import Synchronization
import Testing

@Suite(
    "Reconnect (real RabbitMQ restarted mid-stream)",
    .enabled(
        if: TestBroker.restartURL != nil && TestBroker.restartCommand != nil,
        "set ICESHELVES_TEST_RESTART_AMQP_URL and ICESHELVES_TEST_RESTART_CMD (scripts/test does)"
    )
)
struct ReconnectTests {
    @Test func noConfirmedMessageIsLostAcrossABrokerRestart() async throws {
        let url = try #require(TestBroker.restartURL)
        let producer = try await TestBroker.client("reconnect-producer", url: url)
        let consumerClient = try await TestBroker.client("reconnect-consumer", url: url)
        let queue = TestBroker.queue("reconnect")
        try await producer.declare(.workQueue(queue))
        try await consumerClient.declare(.workQueue(queue))

        let received = Locked<Set<String>>([])
        let newestGeneration = Locked<UInt64>(0)
        let consumer = try await consumerClient.consume(queue: queue, prefetch: 50)
        var confirmed = Set<String>()
        var failures = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await delivery in consumer.deliveries {
                    received.withLock { _ = $0.insert(String(decoding: delivery.body, as: UTF8.self)) }
                    newestGeneration.withLock { $0 = max($0, delivery.generation) }
                    consumerClient.ack(delivery)
                }
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(400))
                #expect(try await TestBroker.restart() == 0, "the broker restart command failed")
            }
            // Publish for a while, across the restart. A publish in flight when the connection drops
            // fails (the caller retries it as a new message); one sent while reconnecting waits.
            let deadline = ContinuousClock.now + .seconds(12)
            var i = 0
            while ContinuousClock.now < deadline {
                let id = "msg-\(i)"
                i += 1
                do {
                    try await producer.publish(OutgoingMessage(routingKey: queue, body: Array(id.utf8)))
                    confirmed.insert(id)
                } catch {
                    failures += 1
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            let all = confirmed
            #expect(
                try await TestBroker.eventually(timeout: .seconds(20)) { received.withLock { all.isSubset(of: $0) } },
                "every confirmed message must reach the resumed consumer"
            )
            #expect(newestGeneration.withLock { $0 } > 1, "the consumer should have been resumed on a new connection")
            consumerClient.cancel(consumer)
            group.cancelAll()
        }
        #expect(confirmed.count > 100, "only \(confirmed.count) confirmed, \(failures) failed")
        #expect(producer.isConnected)
        try await producer.deleteQueue(queue)
        try await producer.deleteQueue(queue + ".dlq")
        await consumerClient.shutdown()
        await producer.shutdown()
    }
}
