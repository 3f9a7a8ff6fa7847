import Foundation
import IceShelvesBus
import IceShelvesContracts
import Logging
import Testing

/// Each service logs in as its own broker user (`scripts/broker-users`). A service that uses
/// another's user is refused by the broker: the renderer's user cannot swallow the gateway's
/// events or a deployer's requests, or forge a deployer's event.
@Suite(
    "Broker users per service",
    .enabled(
        if: SystemEnvironment.gatewayURL != nil && SystemEnvironment.brokerUsers != nil,
        "set ICESHELVES_TEST_GW_AMQP_URL and ICESHELVES_TEST_BROKER_USERS (scripts/test does)"
    )
)
struct BrokerUserTests {
    /// A connected client logged in as `service`'s broker user, on the gateway tests' vhost.
    func client(as service: String) async throws -> AMQPClient {
        let url = try #require(SystemEnvironment.serviceURL(service, SystemEnvironment.gatewayURL))
        #expect(!url.contains("guest:"))
        let client = AMQPClient(configuration: .init(url: try AMQPURL(parsing: url), name: "users-test"), logger: Logger(label: "users-test"))
        client.start()
        try await client.waitUntilConnected()
        return client
    }

    func event(_ key: String) -> OutgoingMessage {
        OutgoingMessage(exchange: BusNames.eventsExchange, routingKey: key, body: Array("{}".utf8), mandatory: false)
    }

    @Test func theRenderersUserMayDoItsOwnWork() async throws {
        let renderer = try await client(as: "cloud-init-renderer")
        try await renderer.declare(.base)
        try await renderer.publish(event("deployment.users-test.queued"))
        // A queue of its own (not deploy.render, where the gateway tests' renderer works).
        let own = "cloud-init-renderer.users-test-\(UUID().uuidString.prefix(8))"
        try await renderer.declare(.eventListener(own, binding: BusNames.everyCancelBinding))
        let consumer = try await renderer.consume(queue: own, prefetch: 1)
        renderer.cancel(consumer)
        await renderer.shutdown()
    }

    @Test func theRenderersUserCannotForgeACompletedEvent() async throws {
        let renderer = try await client(as: "cloud-init-renderer")
        await #expect(throws: (any Error).self) { try await renderer.publish(event("deployment.users-test.completed")) }
        await renderer.shutdown()
    }

    @Test func theRenderersUserCannotSwallowEventsOrDeployerRequests() async throws {
        for queue in [BusNames.gatewayEventsQueue, ServiceName.lxdDeployer.rpcQueue] {
            let renderer = try await client(as: "cloud-init-renderer")
            await #expect(throws: (any Error).self) { _ = try await renderer.consume(queue: queue, prefetch: 1) }
            await renderer.shutdown()
        }
    }

    @Test func theCataloguesUserCannotPublishEventsOrReadTheGatewaysQueue() async throws {
        let catalog = try await client(as: "egg-catalog")
        await #expect(throws: (any Error).self) { try await catalog.publish(event("deployment.users-test.failed")) }
        await catalog.shutdown()
        let again = try await client(as: "egg-catalog")
        await #expect(throws: (any Error).self) { _ = try await again.consume(queue: BusNames.gatewayEventsQueue, prefetch: 1) }
        await again.shutdown()
    }

    @Test func aWrongPasswordIsRefused() async throws {
        let url = try #require(SystemEnvironment.gatewayURL)
        let bad = try AMQPURL(parsing: url.replacingOccurrences(of: "guest:guest@", with: "lxd-deployer:not-the-password@"))
        let client = AMQPClient(configuration: .init(url: bad, name: "users-test"), logger: Logger(label: "users-test"))
        client.start()
        try await Task.sleep(for: .seconds(2))
        #expect(!client.isConnected)
        await client.shutdown()
    }
}
