import Foundation
import IceShelvesBus
import IceShelvesContracts
import Logging
import Testing

/// A graceful shutdown ends within its budget (`--shutdown-grace-seconds`) even while a job is
/// in flight, and the job goes back to its queue for the next consumer (issue 10, part 4).
@Suite(
    "Shutdown within its budget (real renderer, RabbitMQ)",
    .serialized,
    .enabled(
        if: SystemEnvironment.ready && SystemEnvironment.gatewayURL != nil,
        "set ICESHELVES_TEST_GW_AMQP_URL and ICESHELVES_BIN_DIR (scripts/test does)"
    )
)
struct ShutdownBudgetTests {
    @Test func sigtermWithAJobInFlightExitsInTimeAndTheJobIsRedelivered() async throws {
        let url = try #require(SystemEnvironment.gatewayURL)
        var logger = Logger(label: "shutdown-test")
        logger.logLevel = .warning
        let client = AMQPClient(configuration: .init(url: try AMQPURL(parsing: url), name: "shutdown-test"), logger: logger)
        client.start()
        try await client.waitUntilConnected()
        // The renderer asks the catalogue for the egg; nobody answers, so the job stays in flight
        // until the request's 5 s timeout (a busy renderer, as far as the shutdown can tell).
        try await client.declare(RPCServer.topology(queue: ServiceName.eggCatalog.rpcQueue))
        try await client.declare(.workQueue(BusNames.renderQueue))

        let budget = 4
        let renderer = try SystemEnvironment.launch(
            "cloud-init-renderer",
            arguments: ["--metrics-port=-1", "--shutdown-grace-seconds", "\(budget)", "--concurrency", "1"],
            url: url
        )
        defer { if renderer.isRunning { kill(renderer.processIdentifier, SIGKILL) } }
        let up = ContinuousClock.now + .seconds(30)
        var answered = false
        while ContinuousClock.now < up, !answered {
            let pong = try? await client.call(Envelope(Ping()), service: .cloudInitRenderer, expecting: Pong.self, timeout: .seconds(1)).payload
            answered = pong?.instanceId.contains("-\(renderer.processIdentifier)-") == true
            if !answered { try await Task.sleep(for: .milliseconds(100)) }
        }
        try #require(answered, "the renderer did not answer ping")

        let id = "shutdown-\(UUID().uuidString.prefix(8).lowercased())"
        let events = "test.shutdown.\(id)"
        try await client.declare(.eventListener(events, binding: BusNames.progressBinding(deploymentId: id)))
        let listener = try await client.consume(queue: events, prefetch: 10)
        let job = Envelope(DeploymentRequested(deploymentId: id, eggName: "debian-hello", instanceName: "hello-1", target: .lxd), deploymentId: id)
        try await client.publish(job, routingKey: BusNames.renderQueue)
        // In flight once the renderer says `rendering`.
        var iterator = listener.deliveries.makeAsyncIterator()
        let first = try #require(await iterator.next())
        client.ack(first)
        #expect(try MessageCodec.decode(DeploymentEvent.self, from: first.body).payload.status == .rendering)
        client.cancel(listener)

        let signalled = ContinuousClock.now
        kill(renderer.processIdentifier, SIGTERM)
        let exited = try await SystemEnvironment.waitForExit(renderer, timeout: .seconds(budget + 10))
        let took = ContinuousClock.now - signalled
        #expect(exited)
        #expect(took < .seconds(budget) + .milliseconds(1500), "the renderer took \(took) to stop; its budget is \(budget) s")
        #expect(renderer.terminationReason == .exit)
        #expect(renderer.terminationStatus == 0, "the job's handler gave up when cancelled, so no forced exit was needed")

        // The next consumer gets the same job, as it was: requeued, not retried and not lost.
        let next = try await client.consume(queue: BusNames.renderQueue, prefetch: 10)
        var redelivered: Delivery?
        let watchdog = Task { [client] in
            try await Task.sleep(for: .seconds(10))
            client.cancel(next)
        }
        for await delivery in next.deliveries where delivery.properties.messageId == job.messageId {
            redelivered = delivery
            client.ack(delivery)
            break
        }
        watchdog.cancel()
        client.cancel(next)
        let again = try #require(redelivered, "the job in flight was lost")
        #expect(again.redelivered)
        #expect(again.attempts == 0)
        try? await client.deleteQueue(events)
        await client.shutdown()
    }
}
