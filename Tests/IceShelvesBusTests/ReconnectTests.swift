import Foundation
import IceShelvesBus
import IceShelvesContracts
import Synchronization
import Testing

@Suite("Reconnect (real RabbitMQ restarted mid-stream)",
       .enabled(if: TestBroker.restartURL != nil && TestBroker.restartCommand != nil, "set ICESHELVES_TEST_RESTART_AMQP_URL and ICESHELVES_TEST_RESTART_CMD (scripts/test does)"))
struct ReconnectTests {
    @Test func noConfirmedMessageIsLostAcrossABrokerRestart() async throws {
        let url = try #require(TestBroker.restartURL)
        let producer = try await TestBroker.client("reconnect-producer", url: url)
        let consumerClient = try await TestBroker.client("reconnect-consumer", url: url)
        let queue = TestBroker.queue("reconnect")
        try await producer.declare(.workQueue(queue))
        try await consumerClient.declare(.workQueue(queue))

        let received = Locked<Set<String>>([])
        let consumer = try await consumerClient.consume(queue: queue, prefetch: 50)
        var confirmed = Set<String>()
        var failures = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await delivery in consumer.deliveries {
                    received.withLock { _ = $0.insert(String(decoding: delivery.body, as: UTF8.self)) }
                    consumerClient.ack(delivery)
                }
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(400))
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/bin/sh")
                p.arguments = ["-c", TestBroker.restartCommand!]
                try p.run()
                // Process.waitUntilExit spins a run loop, which must not run on the concurrency pool.
                while p.isRunning { try await Task.sleep(for: .milliseconds(50)) }
                #expect(p.terminationStatus == 0, "the broker restart command failed")
            }
            // Publish for a while, across the restart. A failed publish is retried as a new message.
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
            #expect(failures > 0, "the restart should have interrupted some publishes")
            let all = confirmed
            #expect(try await TestBroker.eventually(timeout: .seconds(20)) { received.withLock { all.isSubset(of: $0) } },
                    "every confirmed message must reach the resumed consumer")
            consumerClient.cancel(consumer)
            group.cancelAll()
        }
        #expect(confirmed.count > 100)
        #expect(producer.isConnected)
        try await producer.deleteQueue(queue)
        try await producer.deleteQueue(queue + ".dlq")
        await consumerClient.shutdown()
        await producer.shutdown()
    }
}
