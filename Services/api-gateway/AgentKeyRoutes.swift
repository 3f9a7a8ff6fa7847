import Foundation
import Hummingbird
import IceShelvesContracts

/// An agent-poll cluster's agent key: rotated with an overlap, or revoked (admin). The
/// agent-broker reads the key hashes over `agent.keys` and refreshes them every 30 s, so a
/// change takes effect there within half a minute.
struct AgentKeyRoutes: Sendable {
    let gateway: Gateway

    struct Rotate: Decodable {
        /// Seconds the current key stays valid beside the new one (default 3600, at most a week).
        var overlapSeconds: Int?

        enum CodingKeys: String, CodingKey { case overlapSeconds = "overlap_seconds" }
    }

    func add(to api: RouterGroup<GatewayContext>) {
        api.post("clusters/:id/agent-key") { request, context -> Response in
            let who = try context.require(.admin)
            let c = try await agentPollCluster(context)
            let hasBody = request.headers[.contentLength].map { $0 != "0" } ?? (request.headers[.transferEncoding] != nil)
            let body = hasBody ? try await JSONBody.read(Rotate.self, from: request, limit: gateway.settings.maxBodyBytes) : Rotate()
            let overlap = body.overlapSeconds ?? 3600
            guard (0...604_800).contains(overlap) else { throw APIError.badRequest("overlap_seconds must be 0 to 604800") }
            let key = try await gateway.clusters.rotateAgentKey(c.id, overlap: overlap)
            await gateway.audit.record(who, "cluster.agent_key_rotate", target: "cluster \(c.id)", detail: "overlap \(overlap) s")
            let out: [String: Any] = [
                "cluster_id": c.id, "agent_key": key, "previous_key_valid_seconds": overlap,
                "message": "new agent key for \(c.name), shown once; the previous key stays valid for \(overlap) s",
            ]
            var envelope = out
            envelope["success"] = true
            envelope["data"] = out
            return JSONBody.raw(envelope, status: .created)
        }
        api.delete("clusters/:id/agent-key") { _, context -> Response in
            let who = try context.require(.admin)
            let c = try await agentPollCluster(context)
            try await gateway.clusters.revokeAgentKeys(c.id)
            await gateway.audit.record(who, "cluster.agent_key_revoke", target: "cluster \(c.id)", detail: c.name)
            return JSONBody.raw(
                [
                    "success": true, "cluster_id": c.id,
                    "message":
                        "every agent key of \(c.name) is revoked (the agent-broker stops accepting them within 30 s); make a new one with POST",
                ],
                status: .ok
            )
        }
    }

    private func agentPollCluster(_ context: GatewayContext) async throws -> ClusterStore.Cluster {
        let c = try await ClusterRoutes(gateway: gateway).cluster(context)
        guard c.method == .agentPoll else {
            throw APIError.conflict("cluster \(c.name) is \(c.method.rawValue); only agent-poll clusters have agent keys")
        }
        return c
    }
}
