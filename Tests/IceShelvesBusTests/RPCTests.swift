import IceShelvesBus
import IceShelvesContracts
import Testing

@Suite("Request/reply (real RabbitMQ)", .enabled(if: TestBroker.available, "set ICESHELVES_TEST_AMQP_URL (scripts/test does)"))
struct RPCTests {
    @Test func callGetsTheReplyWithTheSameCorrelationId() async throws {
        let server = try await TestBroker.client("rpc-server")
        let caller = try await TestBroker.client("rpc-caller")
        let queue = TestBroker.queue("rpc")
        var router = RPCRouter()
        router.on(Ping.self) { _, _ in Pong(service: "test", version: "1", instanceId: "x", uptimeSeconds: 1) }
        let rpc = RPCServer(client: server, queue: queue, router: router, logger: TestBroker.logger("rpc"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await rpc.run() }
            try await server.declare(RPCServer.topology(queue: queue))
            let request = Envelope(Ping(), correlationId: "corr-42")
            let reply = try await caller.call(request, queue: queue, expecting: Pong.self, timeout: .seconds(5))
            #expect(reply.correlationId == "corr-42")
            #expect(reply.payload.service == "test")
            // Many calls at once are matched to their own replies.
            try await withThrowingTaskGroup(of: Void.self) { calls in
                for i in 0..<50 {
                    calls.addTask {
                        let r = try await caller.call(Envelope(Ping(), correlationId: "c\(i)"), queue: queue, expecting: Pong.self)
                        #expect(r.correlationId == "c\(i)")
                    }
                }
                try await calls.waitForAll()
            }
            group.cancelAll()
        }
        try await server.deleteQueue(queue)
        await caller.shutdown()
        await server.shutdown()
    }

    @Test func callTimesOutWhenNobodyAnswers() async throws {
        let caller = try await TestBroker.client("rpc-timeout")
        let queue = TestBroker.queue("rpc-silent")
        try await caller.declare(RPCServer.topology(queue: queue))
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try await caller.call(Envelope(Ping()), queue: queue, expecting: Pong.self, timeout: .milliseconds(300))
            Issue.record("a call to a silent queue returned")
        } catch let error as AMQPError {
            #expect(error.kind == .timeout)
        }
        #expect(clock.now - start < .seconds(2))
        // The request expires with its TTL instead of piling up.
        #expect(try await TestBroker.eventually(timeout: .seconds(3)) { try await caller.queueDepth(queue) == 0 })
        try await caller.deleteQueue(queue)
        await caller.shutdown()
    }

    @Test func unknownMethodAndBadRequestGetAFailureReply() async throws {
        let server = try await TestBroker.client("rpc-fail-server")
        let queue = TestBroker.queue("rpc-fail")
        let rpc = RPCServer(client: server, queue: queue, router: RPCRouter(), logger: TestBroker.logger("rpc"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await rpc.run() }
            try await server.declare(RPCServer.topology(queue: queue))
            await #expect(throws: RPCError(code: "unknown_method", message: "\(queue) does not answer 'ping'")) {
                _ = try await server.call(Envelope(Ping()), queue: queue, expecting: Pong.self)
            }
            let raw = try await server.request(OutgoingMessage(routingKey: queue, body: Array("garbage".utf8)), timeout: .seconds(5))
            #expect(raw.properties.type == RPCFailure.messageType)
            let failure = try MessageCodec.decode(RPCFailure.self, from: raw.body)
            #expect(failure.payload.code == "bad_request")
            group.cancelAll()
        }
        try await server.deleteQueue(queue)
        await server.shutdown()
    }
}
