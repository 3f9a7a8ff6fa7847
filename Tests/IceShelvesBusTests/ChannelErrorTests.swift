import Foundation
import IceShelvesBus
import IceShelvesContracts
import Testing

/// A channel error on one operation fails that operation only: the connection, its consumers and
/// every other request and publish carry on, and the client does not reconnect.
@Suite(
    "Channel errors stay with their operation (real RabbitMQ)",
    .enabled(if: TestBroker.available, "set ICESHELVES_TEST_AMQP_URL (scripts/test does)")
)
struct ChannelErrorTests {
    /// An RPC server whose `ping` takes `delay`, so that calls are in flight while something fails.
    static func slowServer(_ client: AMQPClient, queue: String, delay: Duration) -> RPCServer {
        var router = RPCRouter()
        router.on(Ping.self) { _, _ in
            try await Task.sleep(for: delay)
            return Pong(service: "slow", version: "1", instanceId: "x", uptimeSeconds: 0)
        }
        return RPCServer(client: client, queue: queue, router: router, concurrency: 64, logger: TestBroker.logger("rpc"))
    }

    /// 50 calls at once through `caller`; returns how many got their own reply.
    static func fiftyCalls(_ caller: AMQPClient, queue: String) async -> Int {
        await withTaskGroup(of: Bool.self) { calls in
            for i in 0..<50 {
                calls.addTask {
                    let reply = try? await caller.call(
                        Envelope(Ping(), correlationId: "c\(i)"),
                        queue: queue,
                        expecting: Pong.self,
                        timeout: .seconds(10)
                    )
                    return reply?.correlationId == "c\(i)"
                }
            }
            var ok = 0
            for await success in calls where success { ok += 1 }
            return ok
        }
    }

    @Test func aPublishToAMissingExchangeFailsAloneWhileFiftyCallsRun() async throws {
        let server = try await TestBroker.client("chan-err-server")
        let caller = try await TestBroker.client("chan-err-caller")
        let queue = TestBroker.queue("chan-err-rpc")
        let sink = TestBroker.queue("chan-err-sink")
        let exchange = "test.chan-err.\(UUID().uuidString.prefix(8).lowercased())"
        try await server.declare(RPCServer.topology(queue: queue))
        try await caller.declare(
            BusTopology(
                exchanges: [.init(name: exchange, type: "direct")],
                queues: [.init(name: sink, deadLetter: false, bindings: [(exchange: exchange, key: "k")])]
            )
        )
        let rpc = Self.slowServer(server, queue: queue, delay: .milliseconds(300))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await rpc.run() }
            let answered = Locked(0)
            let goodPublishes = Locked(0)
            try await withThrowingTaskGroup(of: Void.self) { work in
                work.addTask {
                    let n = await Self.fiftyCalls(caller, queue: queue)
                    answered.withLock { $0 = n }
                }
                // Publishes to a real exchange on the same client, interleaved with the bad ones.
                for i in 0..<20 {
                    work.addTask {
                        try await Task.sleep(for: .milliseconds(20 + 5 * i))
                        try await caller.publish(OutgoingMessage(exchange: exchange, routingKey: "k", body: Array("good \(i)".utf8)))
                        goodPublishes.withLock { $0 += 1 }
                    }
                }
                work.addTask {
                    try await Task.sleep(for: .milliseconds(50))
                    for _ in 0..<3 {
                        await #expect(throws: AMQPError.self) {
                            try await caller.publish(OutgoingMessage(exchange: "test.no-such-exchange", routingKey: "x", body: [1]))
                        }
                    }
                    // A passive look at a queue that does not exist fails the same way: alone.
                    await #expect(throws: AMQPError.self) { _ = try await caller.queueDepth(TestBroker.queue("no-such-queue")) }
                }
                try await work.waitForAll()
            }
            #expect(answered.withLock { $0 } == 50)
            #expect(goodPublishes.withLock { $0 } == 20)
            // After a channel error a publish may be sent again (at least once), never lost.
            #expect(try await caller.queueDepth(sink) >= 20)
            #expect(caller.connections == 1)
            #expect(server.connections == 1)
            group.cancelAll()
        }
        try await server.deleteQueue(queue)
        try await caller.deleteQueue(sink)
        await caller.shutdown()
        await server.shutdown()
    }

    @Test func aRequestWithAMalformedReplyToDoesNotBreakTheServer() async throws {
        let server = try await TestBroker.client("chan-reply-server")
        let caller = try await TestBroker.client("chan-reply-caller")
        let hostile = try await TestBroker.client("chan-reply-hostile")
        let queue = TestBroker.queue("chan-reply-rpc")
        let sink = TestBroker.queue("chan-reply-sink")
        try await server.declare(RPCServer.topology(queue: queue))
        try await server.declare(BusTopology(queues: [.init(name: sink, deadLetter: false)]))
        let rpc = Self.slowServer(server, queue: queue, delay: .milliseconds(300))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await rpc.run() }
            let answered = Locked(0)
            try await withThrowingTaskGroup(of: Void.self) { work in
                work.addTask {
                    // The hostile requests first: their replies go out while the calls wait.
                    try await Task.sleep(for: .milliseconds(50))
                    let n = await Self.fiftyCalls(caller, queue: queue)
                    answered.withLock { $0 = n }
                }
                work.addTask {
                    // A reply-to that names no direct reply-to consumer, and one that names a
                    // queue: the server must not break, and must not reply into the queue.
                    for (i, replyTo) in ["amq.rabbitmq.reply-to.bm90LWEtcGlk.bad", "amq.rabbitmq.reply-to.", sink].enumerated() {
                        let body = try MessageCodec.encode(Envelope(Ping()))
                        var properties = MessageProperties(correlationId: "bad\(i)", type: Ping.messageType, persistent: false)
                        properties.replyTo = replyTo
                        try await hostile.publish(OutgoingMessage(routingKey: queue, body: body, properties: properties))
                    }
                }
                try await work.waitForAll()
            }
            #expect(answered.withLock { $0 } == 50)
            // Every request was answered or dropped and acked, not requeued in a loop.
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await TestBroker.eventually { try await server.queueDepth(queue) == 0 })
            #expect(try await server.queueDepth(sink) == 0, "a reply went into a queue a caller named")
            #expect(server.connections == 1)
            group.cancelAll()
        }
        try await server.deleteQueue(queue)
        try await server.deleteQueue(sink)
        await hostile.shutdown()
        await caller.shutdown()
        await server.shutdown()
    }
}
