import Foundation
import IceShelvesBus
import IceShelvesContracts
import IceShelvesLXD
import Logging
import Testing

/// egg-catalog, cloud-init-renderer and lxd-deployer processes on a broker vhost of their own
/// (so no other suite's consumer takes their messages), and a client to drive them.
final class LXDStack: @unchecked Sendable {
    static let url = ProcessInfo.processInfo.environment["ICESHELVES_TEST_LXD_AMQP_URL"]
    static var ready: Bool { url != nil && SystemEnvironment.binDir != nil }

    let client: AMQPClient
    /// The vhost's URL (or a cluster's URLs, comma-separated), and what every process started
    /// here gets in its environment besides.
    let url: String
    let environment: [String: String]
    private var processes: [Process] = []
    private var standIn: Task<Void, any Error>?
    private let data = FileManager.default.temporaryDirectory.appendingPathComponent("lxd-stack-\(UUID().uuidString)").path

    /// - Parameter gatewayStandIn: answer the deployers' `cluster.connection` calls from
    ///   ``ClusterDirectory`` (off when the test runs a real gateway on the vhost).
    init(gatewayStandIn: Bool = true, url: String? = LXDStack.url, environment: [String: String] = [:]) async throws {
        self.url = url!
        self.environment = environment
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        processes.append(
            try SystemEnvironment.launch(
                "egg-catalog",
                arguments: ["--metrics-port=-1", "--eggs-dir", root + "/eggs", "--data-dir", data],
                url: url,
                extraEnvironment: environment
            )
        )
        processes.append(
            try SystemEnvironment.launch("cloud-init-renderer", arguments: ["--metrics-port=-1"], url: url, extraEnvironment: environment)
        )
        let logger = {
            var l = Logger(label: "lxd-stack")
            l.logLevel = .warning
            return l
        }()
        let limit = environment["ICESHELVES_DELIVERY_LIMIT"].flatMap(Int.init)
        client = AMQPClient(
            configuration: .init(urls: try AMQPURL.list(parsing: url!), name: "lxd-stack-test", deliveryLimit: limit),
            logger: logger
        )
        client.start()
        try await client.waitUntilConnected()
        if gatewayStandIn {
            let server = RPCServer(client: client, queue: ServiceName.apiGateway.rpcQueue, router: ClusterDirectory.shared.router, logger: logger)
            standIn = Task { try await server.run() }
        }
        try await waitFor(.eggCatalog)
        try await waitFor(.cloudInitRenderer)
    }

    /// Starts one more deployer process.
    @discardableResult
    func startDeployer(_ extra: [String] = []) async throws -> Process {
        let p = try SystemEnvironment.launch(
            "lxd-deployer",
            arguments: ["--metrics-port=-1", "--cloud-init-timeout", "180"] + extra,
            url: url,
            extraEnvironment: environment
        )
        processes.append(p)
        try await waitFor(.lxdDeployer)
        return p
    }

    func waitFor(_ service: ServiceName) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if (try? await client.call(Envelope(Ping()), service: service, expecting: Pong.self, timeout: .milliseconds(500))) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("\(service.rawValue) did not answer ping")
    }

    /// Publishes a deployment request and collects its events until a final status.
    func deploy(
        _ request: DeploymentRequested,
        timeout: Duration = .seconds(240),
        onEvent: (DeploymentEvent) async throws -> Void = { _ in }
    ) async throws -> [DeploymentEvent] {
        let id = request.deploymentId
        let queue = "test.events.\(id)"
        try await client.declare(.eventListener(queue, binding: BusNames.progressBinding(deploymentId: id)))
        let consumer = try await client.consume(queue: queue, prefetch: 50)
        defer { client.cancel(consumer) }
        try await client.publish(Envelope(request, deploymentId: id), routingKey: BusNames.renderQueue)
        var events: [DeploymentEvent] = []
        let final = Set(DeploymentStatus.terminal)
        let deadline = ContinuousClock.now + timeout
        let watchdog = Task { [client] in
            try await Task.sleep(until: deadline)
            client.cancel(consumer)  // ends the stream below
        }
        defer { watchdog.cancel() }
        for await delivery in consumer.deliveries {
            client.ack(delivery)
            guard let e = try? MessageCodec.decode(DeploymentEvent.self, from: delivery.body) else { continue }
            events.append(e.payload)
            try await onEvent(e.payload)
            if final.contains(e.payload.status) { break }
        }
        return events
    }

    func stop() async {
        await client.shutdown()
        standIn?.cancel()
        for p in processes where p.isRunning { kill(p.processIdentifier, SIGTERM) }
        for p in processes { _ = try? await SystemEnvironment.waitForExit(p, timeout: .seconds(30)) }
        try? FileManager.default.removeItem(atPath: data)
    }
}
