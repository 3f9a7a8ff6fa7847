import Foundation
import IceShelvesTestSupport
import Synchronization
import Testing

/// The whole platform as real processes on one broker vhost of its own
/// (`ICESHELVES_TEST_E2E_AMQP_URL`), each service logging in as its own broker user: egg-catalog,
/// cloud-init-renderer, api-gateway, N lxd-deployers, a kvm-deployer and the agent-broker, and
/// (once an agent-poll cluster is registered) an `iceshelves-agent`. Tests drive it through
/// REST only, as a user's script would.
///
/// Every process is known by its role (``Role``); ``kill(_:signal:)`` and ``restart(_:)`` stop
/// and start one with the same arguments, port and data folder, for fault tests.
final class PlatformStack: Sendable {
    static let url = ProcessInfo.processInfo.environment["ICESHELVES_TEST_E2E_AMQP_URL"]
    /// The broker, the built services, LXD (socket, HTTPS, sshd, the 2-member cluster) and libvirt.
    static var ready: Bool {
        url != nil && SystemEnvironment.binDir != nil && TestLXD.unixSocket != nil && TestLXD.https != nil && TestLXD.ssh != nil
            && TestLXD.cluster != nil && ProcessInfo.processInfo.environment["ICESHELVES_TEST_KVM_URI"] != nil
    }

    /// A process of the platform: the service's executable, and which one of it.
    struct Role: Hashable, Sendable, CustomStringConvertible {
        var service: String
        var index = 1
        var description: String { index == 1 ? service : "\(service)-\(index)" }

        static let catalog = Role(service: "egg-catalog")
        static let renderer = Role(service: "cloud-init-renderer")
        static let gateway = Role(service: "api-gateway")
        static let kvmDeployer = Role(service: "kvm-deployer")
        static let agentBroker = Role(service: "agent-broker")
        static let agent = Role(service: "iceshelves-agent")
        static func lxdDeployer(_ n: Int) -> Role { Role(service: "lxd-deployer", index: n) }
    }

    private struct Launch: Sendable {
        var arguments: [String]
        var environment: [String: String]
    }

    let data = FileManager.default.temporaryDirectory.appendingPathComponent("platform-\(UUID().uuidString.prefix(8))").path
    /// Where each process's output goes (`<folder>/<role>.log`, kept after the test):
    /// `ICESHELVES_TEST_SERVICE_LOGS` (scripts/test sets it in its results folder); unset: discarded.
    let logFolder = SystemEnvironment.serviceLogFolder("platform")
    /// The gateway's REST base (`http://127.0.0.1:<port>/iceshelves`).
    let base: String
    /// The agent-broker's listener, as an agent's `--server`.
    let agentServer: String
    let lxdDeployers: Int
    /// Each lxd-deployer's metrics port (`GET /metrics`), by its index.
    let deployerMetricsPorts: [Int: Int]
    /// The gateway's admin key (the same after a restart: it lives in the gateway's data folder).
    var key: String { adminKey.withLock { $0 } }
    private let adminKey = Mutex("")
    /// What runs, and how each role was started (fault tests kill and restart from other tasks).
    private let processes = Mutex<[Role: Process]>([:])
    private let launches = Mutex<[Role: Launch]>([:])

    /// Starts every service and waits until the gateway answers with its admin key and the catalog's eggs.
    init(lxdDeployers: Int = 2) async throws {
        self.lxdDeployers = lxdDeployers
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let ports = Self.freePorts(2 + lxdDeployers)
        base = "http://127.0.0.1:\(ports[0])/iceshelves"
        agentServer = "http://127.0.0.1:\(ports[1])/iceshelves"
        deployerMetricsPorts = Dictionary(uniqueKeysWithValues: (1...lxdDeployers).map { ($0, ports[1 + $0]) })
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let off = "--metrics-port=-1"
        var launches: [Role: Launch] = [:]
        launches[.catalog] = Launch(arguments: [off, "--eggs-dir", root + "/eggs", "--data-dir", data + "/catalog"], environment: [:])
        launches[.renderer] = Launch(arguments: [off], environment: [:])
        launches[.gateway] = Launch(
            arguments: [
                off, "--http-port", "\(ports[0])", "--data-dir", data + "/gw", "--allow-insecure-libvirt", "1", "--allowed-hosts", "loopback,private",
            ],
            environment: [:]
        )
        for n in 1...lxdDeployers {
            launches[.lxdDeployer(n)] = Launch(
                arguments: ["--metrics-port", "\(deployerMetricsPorts[n]!)", "--cloud-init-timeout", "180"],
                environment: [:]
            )
        }
        launches[.kvmDeployer] = Launch(arguments: [off, "--cloud-init-timeout", "800", "--allow-insecure", "1"], environment: [:])
        launches[.agentBroker] = Launch(arguments: [off, "--port", "\(ports[1])", "--data-dir", data + "/broker"], environment: [:])
        self.launches.withLock { [launches] in $0 = launches }
        do {
            for role in launches.keys.sorted(by: { $0.description < $1.description }) { try start(role) }
            let key = try await GatewayProcess.adminKey(base: base, data: data + "/gw", until: .now + .seconds(60)) ?? ""
            try #require(!key.isEmpty, "the gateway did not come up")
            adminKey.withLock { $0 = key }
            try await waitUntilUp()
        } catch {
            await stop()
            throw error
        }
    }

    /// Starts (or starts again) a role with the arguments it was first given.
    func start(_ role: Role) throws {
        guard let launch = launches.withLock({ $0[role] }) else { throw CancellationError() }
        let output = SystemEnvironment.serviceLog(logFolder, "\(role)")
        defer { try? output?.close() }
        let p = try SystemEnvironment.launch(
            role.service,
            arguments: launch.arguments,
            url: Self.url,
            output: output,
            extraEnvironment: launch.environment
        )
        processes.withLock { $0[role] = p }
    }

    /// The last `lines` lines a role's process wrote (with ``logFolder`` set), for a failure message.
    func logTail(_ role: Role, lines: Int = 20) -> String {
        guard let folder = logFolder, let text = try? String(contentsOfFile: folder + "/\(role).log", encoding: .utf8) else {
            return "(no log: set ICESHELVES_TEST_SERVICE_LOGS)"
        }
        let tail = text.split(separator: "\n").suffix(lines).joined(separator: "\n")
        return "\(folder)/\(role).log, last lines:\n" + (tail.isEmpty ? "(empty)" : tail)
    }

    /// Sends `signal` to a role's process (SIGKILL: no graceful anything) and waits for it to end.
    func kill(_ role: Role, signal: Int32 = SIGKILL) async throws {
        guard let p = processes.withLock({ $0[role] }), p.isRunning else { return }
        Glibc.kill(p.processIdentifier, signal)
        _ = try await SystemEnvironment.waitForExit(p, timeout: .seconds(30))
    }

    /// Kills a role with `signal` and starts it again, the same way.
    func restart(_ role: Role, signal: Int32 = SIGKILL) async throws {
        try await kill(role, signal: signal)
        try start(role)
    }

    func process(_ role: Role) -> Process? { processes.withLock { $0[role] } }

    /// Starts the `iceshelves-agent` for an agent-poll cluster (the local LXD daemon is its hypervisor).
    func startAgent(cluster: Int, agentKey: String) throws {
        let socket = TestLXD.unixSocket?.socketPath ?? "/var/lib/lxd/unix.socket"
        launches.withLock {
            $0[.agent] = Launch(
                arguments: ["--poll-interval", "2", "--cloud-init-timeout", "180"],
                environment: [
                    "ICESHELVES_SERVER": agentServer,
                    "ICESHELVES_CLUSTER_ID": String(cluster),
                    "ICESHELVES_AGENT_KEY": agentKey,
                    "LXD_DIR": (socket as NSString).deletingLastPathComponent,
                ]
            )
        }
        try start(.agent)
    }

    /// Waits for the gateway, the catalog's test egg and the agent-broker to answer (after a start or restart).
    func waitUntilUp(within: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline, (try? await HTTP.call("GET", base + "/healthz"))?.status != 200 {
            try await Task.sleep(for: .milliseconds(100))
        }
        while ContinuousClock.now < deadline, try await call("GET", "/api/eggs/debian-hello").status != 200 {
            try await Task.sleep(for: .milliseconds(100))
        }
        let health = agentServer.replacingOccurrences(of: "/iceshelves", with: "/healthz")
        while ContinuousClock.now < deadline, (try? await HTTP.call("GET", health))?.status != 200 {
            try await Task.sleep(for: .milliseconds(100))
        }
        try #require(ContinuousClock.now < deadline, "the platform did not come up within \(within)")
    }

    // MARK: REST

    /// A REST call with the admin key; `path` starts with `/api/`.
    func call(_ method: String, _ path: String, body: [String: Any]? = nil) async throws -> HTTP.Reply {
        let text = try body.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
        return try await HTTP.call(method, base + path, key: key, body: text)
    }

    /// Registers a cluster; returns its id and, for agent-poll, its agent key.
    func registerCluster(_ fields: [String: Any]) async throws -> (id: Int, agentKey: String?) {
        let r = try await call("POST", "/api/clusters", body: fields)
        try #require(r.status == 201, "register \(fields["name"] ?? ""): \(r.status) \(r.json)")
        return (try #require(r.json["cluster_id"] as? Int), r.json["agent_key"] as? String)
    }

    /// `POST /api/deploy`; returns the deployment ids with their instance names (one, or `count`).
    func deploy(_ fields: [String: Any]) async throws -> [(id: String, name: String)] {
        let r = try await call("POST", "/api/deploy", body: fields)
        try #require(r.status == 201, "deploy: \(r.status) \(r.json)")
        let body = r.json["data"] as? [String: Any] ?? r.json
        if let batch = body["deployments"] as? [[String: Any]] {
            return batch.compactMap { d in (d["deployment_id"] as? String).map { ($0, d["instance_name"] as? String ?? "") } }
        }
        return [(try #require(body["deployment_id"] as? String), body["instance_name"] as? String ?? "")]
    }

    /// `GET /api/deployments/{id}` (the deployment's fields at the top, as the API answers them).
    func deployment(_ id: String) async throws -> [String: Any] {
        let r = try await call("GET", "/api/deployments/\(id)")
        return r.json["data"] as? [String: Any] ?? r.json
    }

    /// Polls until every deployment is terminal or the time is up; returns each one's last status.
    func waitForTerminal(_ ids: [String], within: Duration) async throws -> [String: String] {
        let terminal: Set<String> = ["completed", "failed", "cancelled", "timeout"]
        let deadline = ContinuousClock.now + within
        var statuses: [String: String] = [:]
        while true {
            for id in ids where !terminal.contains(statuses[id] ?? "") {
                statuses[id] = try await deployment(id)["status"] as? String ?? "?"
            }
            if ids.allSatisfy({ terminal.contains(statuses[$0] ?? "") }) || ContinuousClock.now > deadline { return statuses }
            try await Task.sleep(for: .seconds(1))
        }
    }

    /// `iceshelves_lxd_deployments_total{result="completed"}` of one lxd-deployer, from its metrics endpoint.
    func completedByDeployer(_ n: Int) async throws -> Int {
        let reply = try Tool.run("/usr/bin/curl", ["-sf", "--max-time", "5", "http://127.0.0.1:\(deployerMetricsPorts[n]!)/metrics"])
        if reply.status != 0 {
            let running = process(.lxdDeployer(n))?.isRunning ?? false
            let port = deployerMetricsPorts[n]!
            Issue.record(
                "\(Role.lxdDeployer(n))'s metrics on port \(port) did not answer (curl \(reply.status); running: \(running)); \(logTail(.lxdDeployer(n)))"
            )
        }
        let metrics = reply.output
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("iceshelves_lxd_deployments_total") && $0.contains("result=\"completed\"") }
        return line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }.map { Int($0) } ?? 0
    }

    // MARK: Lifecycle

    /// Starts a platform, runs `body`, and stops the platform whatever happens.
    static func with(lxdDeployers: Int = 2, _ body: (PlatformStack) async throws -> Void) async throws {
        let stack = try await PlatformStack(lxdDeployers: lxdDeployers)
        try await SystemEnvironment.run({ try await body(stack) }, finally: { await stack.stop() })
    }

    /// SIGTERM to every process (the agent first, the gateway last), then removes the data folder.
    func stop() async {
        let all = processes.withLock { $0 }
        let order = all.keys.sorted {
            ($0 == .agent ? 0 : $0 == .gateway ? 2 : 1, $0.description) < ($1 == .agent ? 0 : $1 == .gateway ? 2 : 1, $1.description)
        }
        for role in order where all[role]!.isRunning { Glibc.kill(all[role]!.processIdentifier, SIGTERM) }
        for role in order { _ = try? await SystemEnvironment.waitForExit(all[role]!, timeout: .seconds(30)) }
        for p in all.values where p.isRunning { Glibc.kill(p.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: data)
    }

    /// `count` distinct loopback ports that were free a moment ago.
    static func freePorts(_ count: Int) -> [Int] {
        var ports: [Int] = []
        while ports.count < count {
            let port = HealthEndpointTests.freePort()
            if port > 0 && !ports.contains(port) { ports.append(port) }
        }
        return ports
    }
}
