import Foundation
import IceShelvesBus
import IceShelvesContracts
import IceShelvesLibvirt
import Logging
import Testing

/// egg-catalog, cloud-init-renderer and kvm-deployer processes on a broker vhost of their own
/// (so no other suite's consumer takes their messages), and a client to drive them.
final class KVMStack: @unchecked Sendable {
    static let url = ProcessInfo.processInfo.environment["ICESHELVES_TEST_KVM_AMQP_URL"]
    static var ready: Bool {
        url != nil && SystemEnvironment.binDir != nil && ProcessInfo.processInfo.environment["ICESHELVES_TEST_KVM_URI"] != nil
    }

    let client: AMQPClient
    private var processes: [Process] = []
    private let data = FileManager.default.temporaryDirectory.appendingPathComponent("kvm-stack-\(UUID().uuidString)").path

    init() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        processes.append(
            try SystemEnvironment.launch(
                "egg-catalog",
                arguments: ["--metrics-port=-1", "--eggs-dir", root + "/eggs", "--data-dir", data],
                url: Self.url
            )
        )
        processes.append(try SystemEnvironment.launch("cloud-init-renderer", arguments: ["--metrics-port=-1"], url: Self.url))
        let logger = {
            var l = Logger(label: "kvm-stack")
            l.logLevel = .warning
            return l
        }()
        client = AMQPClient(configuration: .init(url: try AMQPURL(parsing: Self.url!), name: "kvm-stack-test"), logger: logger)
        client.start()
        try await client.waitUntilConnected()
        try await waitFor(.eggCatalog)
        try await waitFor(.cloudInitRenderer)
    }

    /// Starts one more deployer process.
    @discardableResult
    func startDeployer() async throws -> Process {
        let p = try SystemEnvironment.launch(
            "kvm-deployer",
            arguments: ["--metrics-port=-1", "--cloud-init-timeout", "800", "--allow-insecure", "1"],
            url: Self.url
        )
        processes.append(p)
        try await waitFor(.kvmDeployer)
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
        try await events(timeout: timeout, onEvent: onEvent) { [client] in
            try await client.publish(Envelope(request, deploymentId: request.deploymentId), routingKey: BusNames.renderQueue)
            return request.deploymentId
        }
    }

    /// Listens to every progress event, runs `start` (which returns the deployment id, e.g. from
    /// a REST deploy), and collects that deployment's events until a final status.
    func events(
        timeout: Duration,
        onEvent: (DeploymentEvent) async throws -> Void = { _ in },
        start: () async throws -> String
    ) async throws -> [DeploymentEvent] {
        let queue = "test.events.\(UUID().uuidString.prefix(8))"
        try await client.declare(.eventListener(queue, binding: BusNames.everyProgressBinding))
        let consumer = try await client.consume(queue: queue, prefetch: 50)
        defer { client.cancel(consumer) }
        let id = try await start()
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
            guard let e = try? MessageCodec.decode(DeploymentEvent.self, from: delivery.body), e.deploymentId == id else { continue }
            events.append(e.payload)
            try await onEvent(e.payload)
            if final.contains(e.payload.status) { break }
        }
        return events
    }

    /// Runs `body` with a stack, and stops the stack's processes afterwards, also when `body` throws.
    static func with(_ body: (KVMStack) async throws -> Void) async throws {
        let stack = try await KVMStack()
        try await SystemEnvironment.run({ try await body(stack) }, finally: { await stack.stop() })
    }

    func stop() async {
        await client.shutdown()
        for p in processes where p.isRunning { kill(p.processIdentifier, SIGTERM) }
        for p in processes { _ = try? await SystemEnvironment.waitForExit(p, timeout: .seconds(30)) }
        try? FileManager.default.removeItem(atPath: data)
    }
}
