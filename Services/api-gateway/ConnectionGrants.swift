import Foundation
import IceShelvesBus
import IceShelvesContracts
import Logging

/// Answers `cluster.connection` (and `agent.keys`) on the gateway's RPC queue: the only way a
/// cluster's secrets (and agent key hashes) leave the gateway. Jobs name the cluster by id, so no queue or dead-letter queue ever holds
/// a private key.
///
/// - Only trusted broker users may ask: the request's AMQP `user_id`, which RabbitMQ checks
///   against the publisher's login, must be one of `deployerUsers`. When every service shares
///   the gateway's own broker account (a development setup), that account is accepted too,
///   because the broker cannot tell the services apart.
/// - A deployment's request must name a deployment of that cluster.
struct ConnectionGrants: Sendable {
    let clusters: ClusterStore
    let ledger: Ledger
    /// Broker users allowed to fetch connections (the deployers and the agent broker).
    let deployerUsers: Set<String>
    /// The gateway's own broker user.
    let ownUser: String
    /// Resolves and checks the endpoint's host; the deployer connects to the checked address.
    let egress: EgressGuard
    let logger: Logger

    /// The agent-poll clusters' key hashes (``AgentKeysRequest``), for the same trusted callers.
    func agentKeys(caller: String?) async throws -> AgentKeys {
        guard let caller, deployerUsers.contains(caller) || caller == ownUser else {
            logger.warning("refused the agent key hashes to an untrusted broker user", metadata: ["caller": "\(caller ?? "none")"])
            throw RPCError(code: "forbidden", message: "broker user \(caller ?? "(none)") may not fetch agent key hashes")
        }
        return try await clusters.agentKeys()
    }

    /// Every cluster's warm pools (``WarmPoolsRequest``), for the same trusted callers.
    func warmPools(caller: String?) async throws -> WarmPoolsConfig {
        guard let caller, deployerUsers.contains(caller) || caller == ownUser else {
            throw RPCError(code: "forbidden", message: "broker user \(caller ?? "(none)") may not fetch warm pools")
        }
        return try await clusters.warmPoolsConfig()
    }

    func grant(_ request: ClusterConnectionRequest, caller: String?) async throws -> ClusterConnectionGrant {
        guard let caller, deployerUsers.contains(caller) || caller == ownUser else {
            logger.warning(
                "refused a cluster connection to an untrusted broker user",
                metadata: ["caller": "\(caller ?? "none")", "cluster_id": "\(request.clusterId.prefix(40))"]
            )
            throw RPCError(code: "forbidden", message: "broker user \(caller ?? "(none)") may not fetch cluster connections")
        }
        guard let id = Int64(request.clusterId), let cluster = try await clusters.get(id) else {
            throw RPCError.notFound("no cluster \(request.clusterId.prefix(40))")
        }
        if request.purpose == .warmPool, !cluster.canHaveWarmPools {
            throw RPCError.conflict("cluster \(cluster.name) cannot have warm pools")
        }
        if request.purpose == .deployment {
            guard let deploymentId = request.deploymentId, let d = try await ledger.get(deploymentId), d.clusterId == id else {
                throw RPCError.notFound("no deployment \(request.deploymentId?.prefix(64) ?? "(none)") on cluster \(id)")
            }
        }
        guard var connection = try clusters.connection(for: cluster) else {
            throw RPCError.conflict("cluster \(cluster.name) is agent-poll: only its agent reaches it")
        }
        let endpoint: (host: String, port: Int)? =
            switch connection.method {
            case .directAPI: connection.endpointURL.flatMap(URLComponents.init(string:)).flatMap { u in u.host.map { ($0, u.port ?? 8443) } }
            case .ssh: connection.sshHost.map { ($0, connection.sshPort) }
            case .libvirt, .unixSocket: nil
            }
        // libvirt connects by the URI's host name itself (TLS and known_hosts check that name):
        // the host is checked, but not pinned to the address.
        if let uri = connection.libvirt.flatMap({ URLComponents(string: $0.uri) }), let host = uri.host, !host.isEmpty {
            do {
                _ = try egress.resolve(host: host, port: uri.port ?? 22)
            } catch {
                throw RPCError(code: "forbidden", message: "cluster \(cluster.name): \(error)")
            }
        }
        if let endpoint {
            do {
                connection.pinnedAddress = try egress.resolve(host: endpoint.host, port: endpoint.port)
            } catch {
                throw RPCError(code: "forbidden", message: "cluster \(cluster.name): \(error)")
            }
        }
        logger.debug(
            "gave a cluster connection",
            metadata: ["caller": "\(caller)", "cluster_id": "\(id)", "deployment_id": "\(request.deploymentId ?? "-")"]
        )
        return ClusterConnectionGrant(connection: connection)
    }
}
