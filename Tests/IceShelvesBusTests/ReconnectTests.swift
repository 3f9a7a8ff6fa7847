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

    /// Seen in the 3-node cluster test: deployments stayed `in_progress` after a broker node went
    /// away, because a progress event whose publish the broker refused (`basic.nack`, as a quorum
    /// queue does while it elects a leader) was only logged. Here the listener's queue holds one
    /// message and refuses more (a policy: max-length 1, overflow reject-publish) until its
    /// consumer starts 1.5 s later: every event must still arrive.
    @Test(
        .enabled(if: TestBroker.restartCtl != nil, "set ICESHELVES_TEST_RESTART_CTL (scripts/test does)")
    )
    func aRefusedProgressEventIsSentAgain() async throws {
        let url = try #require(TestBroker.restartURL)
        let queue = TestBroker.queue("progress")
        let policy = "test-" + queue
        let set = try await TestBroker.ctl(
            "set_policy --apply-to queues '\(policy)' '^\(queue)$' '{\"max-length\":1,\"overflow\":\"reject-publish\"}'"
        )
        try #require(set == 0, "rabbitmqctl set_policy failed")
        let producer = try await TestBroker.client("progress-producer", url: url)
        let listener = try await TestBroker.client("progress-listener", url: url)
        let prefix = "p\(UUID().uuidString.prefix(6).lowercased())"
        try await listener.declare(
            BusTopology(
                exchanges: BusTopology.base.exchanges,
                queues: [.init(name: queue, durable: false, deadLetter: false, bindings: [(BusNames.eventsExchange, "deployment.#")])]
            )
        )
        let received = Locked<Set<String>>([])
        let sent = (0..<3).map { "\(prefix)-\($0)" }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await Task.sleep(for: .milliseconds(1500))
                let consumer = try await listener.consume(queue: queue, prefetch: 10)
                for await delivery in consumer.deliveries {
                    if let envelope = try? MessageCodec.decode(DeploymentEvent.self, from: delivery.body),
                        let id = envelope.deploymentId, id.hasPrefix(prefix)
                    {
                        received.withLock { _ = $0.insert(id) }
                    }
                    listener.ack(delivery)
                    if received.withLock({ $0.count }) == sent.count { listener.cancel(consumer) }
                }
            }
            for id in sent {
                await producer.publishProgress(
                    DeploymentEvent(status: .completed, step: .done, message: "done"),
                    deploymentId: id,
                    logger: TestBroker.logger("progress")
                )
            }
            let arrived = try await TestBroker.eventually(timeout: .seconds(10)) { received.withLock { $0.count == sent.count } }
            #expect(arrived, "lost: \(Set(sent).subtracting(received.withLock { $0 }).sorted())")
            group.cancelAll()
        }
        _ = try await TestBroker.ctl("clear_policy '\(policy)'")
        try await producer.deleteQueue(queue)
        await listener.shutdown()
        await producer.shutdown()
    }

    /// Seen in the fault suite's broker restart: a deployer's connection dropped while it deployed,
    /// the broker handed the job out again once the deployer had reconnected, and the same
    /// process started a second deploy of it next to the first. One started the instance, the
    /// other failed ("already running") and removed it. Here the worker's connection is closed
    /// while its handler runs: the copy must wait for the first handling, then be acked, not
    /// handled a second time.
    @Test(
        .enabled(if: TestBroker.restartCtl != nil, "set ICESHELVES_TEST_RESTART_CTL (scripts/test does)")
    )
    func aJobHandedOutAgainAfterALostConnectionIsNotHandledTwice() async throws {
        let url = try #require(TestBroker.restartURL)
        let client = try await TestBroker.client("copy-worker", url: url)
        let queue = TestBroker.queue("copy")
        try await client.declare(.workQueue(queue))
        let running = Locked(0)
        let mostAtOnce = Locked(0)
        let calls = Locked(0)
        let worker = QueueWorker<Ping>(client: client, queue: queue, concurrency: 2, logger: TestBroker.logger("copy")) { _, _ in
            calls.withLock { $0 += 1 }
            running.withLock { $0 += 1 }
            let now = running.withLock { $0 }
            mostAtOnce.withLock { $0 = max($0, now) }
            try? await Task.sleep(for: .seconds(4))
            running.withLock { $0 -= 1 }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            try await client.publish(Envelope(Ping(), deploymentId: "dep-copy"), routingKey: queue)
            #expect(try await TestBroker.eventually { calls.withLock { $0 } == 1 })
            #expect(try await TestBroker.ctl("close_all_connections 'test: a lost connection'") == 0)
            // The handler ends 4 s after it started; give the copy time to come and be settled.
            #expect(try await TestBroker.eventually(timeout: .seconds(15)) { running.withLock { $0 } == 0 && client.isConnected })
            try await Task.sleep(for: .seconds(2))
            group.cancelAll()
        }
        #expect(mostAtOnce.withLock { $0 } == 1, "the copy was handled while the first handling ran")
        #expect(calls.withLock { $0 } == 1, "the copy was handled again after the first handling had settled it")
        await client.shutdown()
        // Nothing is left: the copy was acked, not requeued when the worker's connection closed.
        let inspector = try await TestBroker.client("copy-inspector", url: url)
        let consumer = try await inspector.consume(queue: queue, prefetch: 1)
        let leftover = Locked(0)
        let watch = Task {
            for await delivery in consumer.deliveries {
                leftover.withLock { $0 += 1 }
                inspector.ack(delivery)
            }
        }
        try await Task.sleep(for: .seconds(1))
        inspector.cancel(consumer)
        watch.cancel()
        #expect(leftover.withLock { $0 } == 0, "the job's copy was left in the queue")
        try await inspector.deleteQueue(queue)
        try await inspector.deleteQueue(queue + ".dlq")
        await inspector.shutdown()
    }
}
