import Foundation
import IceShelvesBus
import IceShelvesContracts
import Testing

/// The agent suites share one broker vhost (`ICESHELVES_TEST_AGENT_AMQP_URL`): one suite, one
/// test at a time, so no stack's gateway answers another stack's broker.
@Suite(.serialized) enum AgentSystemTests {}

/// The real catalog, renderer, api-gateway and agent-broker on a broker vhost of their own
/// (`ICESHELVES_TEST_AGENT_AMQP_URL`), and agents played by HTTP requests or by the real
/// `iceshelves-agent`.
final class AgentStack: @unchecked Sendable {
    static let url = ProcessInfo.processInfo.environment["ICESHELVES_TEST_AGENT_AMQP_URL"]
    static var ready: Bool { url != nil && SystemEnvironment.binDir != nil }

    let data = FileManager.default.temporaryDirectory.appendingPathComponent("agent-stack-\(UUID().uuidString.prefix(8))").path
    /// Where each process's output goes (`<folder>/<executable>.log`, kept after the test), with
    /// `ICESHELVES_TEST_SERVICE_LOGS` set; otherwise it is discarded.
    let logFolder = SystemEnvironment.serviceLogFolder("agent-stack")
    let gatewayBase: String
    /// The broker's agent listener, as an agent's `--server` (with `/iceshelves`).
    let agentServer: String
    let brokerPort: Int
    let leaseSeconds: Int
    private(set) var adminKey = ""
    /// The broker vhost every process of the stack uses.
    let url: String?
    private var processes: [Process] = []
    /// How each executable was last launched, so that it can be started again after a kill.
    private var launches: [String: (arguments: [String], environment: [String: String], process: Process)] = [:]
    private(set) var broker: Process?

    /// - Parameters:
    ///   - url: the broker vhost (the agent suites' own by default; the fault suite passes its own).
    ///   - gatewayArguments: extra `api-gateway` flags (e.g. `--allowed-hosts`, `--deployment-timeout`).
    init(leaseSeconds: Int = 4, url: String? = AgentStack.url, gatewayArguments: [String] = []) throws {
        self.leaseSeconds = leaseSeconds
        self.url = url
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let port = Int.random(in: 20000...24999)
        brokerPort = Int.random(in: 25000...29999)
        gatewayBase = "http://127.0.0.1:\(port)/iceshelves"
        agentServer = "http://127.0.0.1:\(brokerPort)/iceshelves"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        _ = try launch("egg-catalog", arguments: ["--metrics-port=-1", "--eggs-dir", root + "/eggs", "--data-dir", data + "/catalog"])
        _ = try launch("cloud-init-renderer", arguments: ["--metrics-port=-1"])
        _ = try launch(
            "api-gateway",
            arguments: ["--metrics-port=-1", "--http-port", "\(port)", "--data-dir", data + "/gw"] + gatewayArguments
        )
        try startBroker()
    }

    /// Starts the agent-broker (again), on the same port and database.
    func startBroker() throws {
        broker = try launch(
            "agent-broker",
            arguments: ["--metrics-port=-1", "--port", "\(brokerPort)", "--data-dir", data + "/broker", "--lease-seconds", "\(leaseSeconds)"]
        )
    }

    /// Stops the agent-broker with SIGKILL (no graceful anything) or SIGTERM.
    func stopBroker(signal: Int32 = SIGTERM) async throws {
        guard let broker else { return }
        kill(broker.processIdentifier, signal)
        _ = try await SystemEnvironment.waitForExit(broker, timeout: .seconds(20))
        self.broker = nil
    }

    /// Waits for the gateway (and its admin key), the catalog's eggs and the broker's listener.
    func waitUntilUp() async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        adminKey = try await GatewayProcess.adminKey(base: gatewayBase, data: data + "/gw", until: deadline) ?? ""
        try #require(!adminKey.isEmpty, "the gateway did not come up")
        while ContinuousClock.now < deadline, (try? await HTTP.call("GET", gatewayBase + "/api/eggs/debian-hello", key: adminKey))?.status != 200 {
            try await Task.sleep(for: .milliseconds(100))
        }
        try await waitForBroker(until: deadline)
    }

    func waitForBroker(until deadline: ContinuousClock.Instant = .now + .seconds(30)) async throws {
        while ContinuousClock.now < deadline {
            if (try? await HTTP.call("GET", "http://127.0.0.1:\(brokerPort)/healthz"))?.status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the agent-broker did not come up")
    }

    /// Registers an agent-poll cluster; returns its id and agent key.
    func registerAgentCluster(_ name: String, interval: Int = 5) async throws -> (id: Int, key: String) {
        let r = try await HTTP.call(
            "POST",
            gatewayBase + "/api/clusters",
            key: adminKey,
            body: #"{"name":"\#(name)","connection_method":"agent-poll","agent_poll_interval":\#(interval)}"#
        )
        try #require(r.status == 201, "\(r.json)")
        return (try #require(r.json["cluster_id"] as? Int), try #require(r.json["agent_key"] as? String))
    }

    /// `POST /api/deploy` of the offline test egg; returns the deployment id.
    func deploy(cluster: Int, instance: String) async throws -> String {
        let r = try await HTTP.call(
            "POST",
            gatewayBase + "/api/deploy",
            key: adminKey,
            body: #"{"egg_id":"debian-hello","cluster_id":\#(cluster),"instance_name":"\#(instance)","variables":{"greeting":"agent"}}"#
        )
        try #require(r.status == 201, "\(r.json)")
        return try #require(r.json["deployment_id"] as? String)
    }

    func deployment(_ id: String) async throws -> [String: Any] {
        try await HTTP.call("GET", gatewayBase + "/api/deployments/\(id)", key: adminKey).json
    }

    func waitForStatus(_ id: String, _ wanted: String, within: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            if try await deployment(id)["status"] as? String == wanted { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Launches a process that stops with the stack.
    func launch(_ name: String, arguments: [String], environment: [String: String] = [:]) throws -> Process {
        let output = SystemEnvironment.serviceLog(logFolder, name)
        defer { try? output?.close() }
        let p = try SystemEnvironment.launch(name, arguments: arguments, url: url, output: output, extraEnvironment: environment)
        processes.append(p)
        launches[name] = (arguments, environment, p)
        return p
    }

    /// Kills the executable `name` last launched with SIGKILL (no graceful anything) and waits until it is gone.
    func killProcess(named name: String) async throws {
        let last = try #require(launches[name], "\(name) was never launched")
        kill(last.process.processIdentifier, SIGKILL)
        _ = try await SystemEnvironment.waitForExit(last.process, timeout: .seconds(10))
    }

    /// Launches the executable `name` again exactly as it was last launched (same port, data and flags).
    @discardableResult
    func relaunch(_ name: String) async throws -> Process {
        let last = try #require(launches[name], "\(name) was never launched")
        let p = try launch(name, arguments: last.arguments, environment: last.environment)
        if name == "agent-broker" { broker = p }
        return p
    }

    /// Waits until the stack is up, runs `body`, and stops the stack whatever happens.
    func run(_ body: () async throws -> Void) async throws {
        do {
            try await waitUntilUp()
            try await body()
        } catch {
            await stop()
            throw error
        }
        await stop()
    }

    func stop() async {
        for p in processes where p.isRunning { kill(p.processIdentifier, SIGTERM) }
        for p in processes { _ = try? await SystemEnvironment.waitForExit(p, timeout: .seconds(20)) }
        try? FileManager.default.removeItem(atPath: data)
    }
}

/// The agents' requests, made with curl exactly as the original agent's python-requests makes them.
enum AgentHTTP {
    struct Reply: @unchecked Sendable {
        var status: Int
        var json: [String: Any]
        var text: String
    }

    static func post(_ url: String, agentKey: String?, body: String, timeout: Int = 60) async throws -> Reply {
        var args = ["-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "\(timeout)", "-X", "POST", url, "-H", "Content-Type: application/json"]
        if let agentKey { args += ["-H", "X-Agent-Key: \(agentKey)"] }
        args += ["--data-binary", body]  // "" sends Content-Length: 0, as requests does
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        while p.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? 0
        let bodyText = lines.dropLast().joined(separator: "\n")
        let json = (try? JSONSerialization.jsonObject(with: Data(bodyText.utf8))) as? [String: Any] ?? [:]
        return Reply(status: status, json: json, text: bodyText)
    }
}
