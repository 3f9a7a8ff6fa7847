import Foundation
import IceShelvesContracts

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The agent's only way out: HTTP to the agent-broker (our protocol, or the original one on an
/// old server), with `X-Agent-Key` on every request.
struct BrokerClient: Sendable {
    let server: String
    let clusterId: String
    let key: String
    let session: URLSession

    /// What went wrong with a request.
    struct Failure: Error, CustomStringConvertible {
        /// The HTTP status, or 0 when the server was not reached.
        var status: Int
        var message: String
        var description: String { status == 0 ? message : "HTTP \(status): \(message)" }
        /// Worth trying again later (network, 5xx, 429).
        var isTransient: Bool { status == 0 || status >= 500 || status == 429 }
    }

    init(server: String, clusterId: String, key: String) {
        self.server = server
        self.clusterId = clusterId
        self.key = key
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = 90
        config.httpMaximumConnectionsPerHost = 4
        session = URLSession(configuration: config)
    }

    /// A v1 long-poll. `nil` when the server does not know our protocol (an old server: 404/405).
    func poll(_ body: AgentProtocol.Poll, wait: Int) async throws -> AgentProtocol.PollAnswer? {
        let (status, data) = try await post(
            AgentProtocol.pollPath(cluster: clusterId) + "?wait=\(wait)",
            body: try encoder.encode(body),
            timeout: Double(wait) + 30
        )
        if status == 404 || status == 405 { return nil }
        try check(status, data)
        return try decode(AgentProtocol.PollAnswer.self, data)
    }

    /// Renews a lease. Throws a ``Failure`` with status 409 when the lease is lost or the deployment ended.
    func renew(_ deploymentId: String, agentId: String) async throws -> AgentProtocol.LeaseAnswer {
        let (status, data) = try await post(
            AgentProtocol.leasePath(deployment: deploymentId),
            body: try encoder.encode(AgentProtocol.Lease(agentId: agentId)),
            timeout: 30
        )
        try check(status, data)
        return try decode(AgentProtocol.LeaseAnswer.self, data)
    }

    /// Reports progress (our protocol).
    func report(_ deploymentId: String, _ event: DeploymentEvent) async throws {
        let (status, data) = try await post(AgentProtocol.reportPath(deployment: deploymentId), body: try encoder.encode(event), timeout: 30)
        try check(status, data)
    }

    /// The original protocol's poll (an old server): `{"deployments": [...]}`.
    func originalPoll() async throws -> [[String: Any]] {
        let (status, data) = try await post("/api/agent/poll/\(clusterId)", body: Data(), timeout: 30)
        try check(status, data)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return object?["deployments"] as? [[String: Any]] ?? []
    }

    /// The original protocol's status report.
    func originalStatus(_ deploymentId: String, status: String, message: String, instanceInfo: [String: String]?, error: String?) async throws {
        let body: [String: Any] = [
            "status": status, "message": message, "instance_info": instanceInfo ?? NSNull(), "error_message": error ?? NSNull(),
            "details": ["agent_hostname": ProcessInfo.processInfo.hostName, "timestamp": Date().formatted(.iso8601)],
        ]
        let (code, data) = try await post("/api/agent/status/\(deploymentId)", body: try JSONSerialization.data(withJSONObject: body), timeout: 30)
        try check(code, data)
    }

    // MARK: Plumbing

    private var encoder: JSONEncoder { JSONEncoder() }

    private func post(_ path: String, body: Data, timeout: Double) async throws -> (Int, Data) {
        guard let url = URL(string: server + path) else { throw Failure(status: 400, message: "bad URL \(server)\(path)") }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(key, forHTTPHeaderField: "X-Agent-Key")
        request.httpBody = body
        do {
            let (data, response) = try await session.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw Failure(status: 0, message: "cannot reach \(server): \(error.localizedDescription)")
        }
    }

    private func check(_ status: Int, _ data: Data) throws {
        guard (200..<300).contains(status) else {
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            throw Failure(status: status, message: object?["error"] as? String ?? String(decoding: data.prefix(200), as: UTF8.self))
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw Failure(status: 502, message: "the server's answer is not what this agent understands: \(error)")
        }
    }
}
