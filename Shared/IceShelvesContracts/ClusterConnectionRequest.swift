/// `cluster.connection`: a deployer asks the gateway, which keeps the sealed secrets, for a
/// cluster's connection (on `rpc.api-gateway`). Answered with ``ClusterConnectionGrant``.
///
/// Jobs and other RPCs name a cluster by id only, so no private key ever sits in a queue or a
/// dead-letter queue. The gateway answers only broker users it trusts as deployers (the
/// request's AMQP `user_id`), and only for a deployment that belongs to that cluster.
public struct ClusterConnectionRequest: BusMessage, Equatable {
    public static let messageType = "cluster.connection"
    public static let messageVersion = 1

    /// Why the deployer needs the connection.
    public enum Purpose: String, Codable, Sendable {
        /// Deploying, cancelling or cleaning up a deployment: `deployment_id` is required.
        case deployment
        /// The gateway's own "test connection" call.
        case test
        /// Filling a cluster's warm pools: only for a cluster that can have them (LXD, reached by the
        /// lxd-deployer, not agent-poll).
        case warmPool = "warm-pool"
    }

    public var clusterId: String
    public var deploymentId: String?
    public var purpose: Purpose

    public init(clusterId: String, deploymentId: String?, purpose: Purpose = .deployment) {
        self.clusterId = clusterId
        self.deploymentId = deploymentId
        self.purpose = purpose
    }

    enum CodingKeys: String, CodingKey {
        case purpose
        case clusterId = "cluster_id"
        case deploymentId = "deployment_id"
    }
}

/// The answer to ``ClusterConnectionRequest``: the connection, secrets included. It travels
/// only on the caller's direct reply-to channel (never a queue); keep it in memory, never log
/// it (``ClusterConnection/description`` hides the secrets).
public struct ClusterConnectionGrant: BusMessage, Equatable {
    public static let messageType = "cluster.connection.result"
    public static let messageVersion = 1

    public var connection: ClusterConnection

    public init(connection: ClusterConnection) { self.connection = connection }
}
