/// `agent.keys`: the agent-broker asks the gateway (on its RPC queue) for the agent-poll clusters
/// and the SHA-256 hashes of their agent keys. The keys themselves never leave the gateway.
public struct AgentKeysRequest: BusMessage, Equatable {
    public static let messageType = "agent.keys"
    public static let messageVersion = 1

    public init() {}
}

/// The answer to ``AgentKeysRequest``: every agent-poll cluster that is active.
public struct AgentKeys: BusMessage, Equatable {
    public static let messageType = "agent.keys.result"
    public static let messageVersion = 1

    /// One agent-poll cluster.
    public struct Cluster: Codable, Sendable, Equatable {
        public var clusterId: String
        /// Lower-case hex SHA-256 of each key valid for this cluster (more than one while a key is rotated).
        public var keyHashes: [String]
        /// The cluster's `agent_poll_interval` in seconds: it drives the cluster's liveness.
        public var pollIntervalSeconds: Int

        public init(clusterId: String, keyHashes: [String], pollIntervalSeconds: Int) {
            self.clusterId = clusterId
            self.keyHashes = keyHashes
            self.pollIntervalSeconds = pollIntervalSeconds
        }

        enum CodingKeys: String, CodingKey {
            case clusterId = "cluster_id"
            case keyHashes = "key_hashes"
            case pollIntervalSeconds = "poll_interval_seconds"
        }
    }

    public var clusters: [Cluster]

    public init(clusters: [Cluster]) { self.clusters = clusters }
}
