/// `cluster.status_changed`: a cluster's health changed, on the `iceshelves.events` exchange with
/// routing key `cluster.<id>.status` (``BusNames/clusterStatusKey(clusterId:)``).
///
/// The agent-broker publishes it for agent-poll clusters from their agents' polls; the gateway
/// records it and fires the `cluster.status_changed` webhook.
public struct ClusterStatusChanged: BusMessage, Equatable {
    public static let messageType = "cluster.status_changed"
    public static let messageVersion = 1

    /// The health an agent-poll cluster can have.
    public enum Status: String, Codable, Sendable, CaseIterable {
        /// No agent has polled since the broker started.
        case unknown
        /// An agent polled within twice the cluster's poll interval.
        case active
        /// The agent has been silent for longer than twice the poll interval.
        case inactive
    }

    public var clusterId: String
    public var status: Status
    public var previousStatus: Status
    /// When the agent last polled (ISO 8601, UTC), if it ever did.
    public var lastSeen: String?
    /// A sentence for humans.
    public var message: String

    public init(clusterId: String, status: Status, previousStatus: Status, lastSeen: String?, message: String) {
        self.clusterId = clusterId
        self.status = status
        self.previousStatus = previousStatus
        self.lastSeen = lastSeen
        self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case status, message
        case clusterId = "cluster_id"
        case previousStatus = "previous_status"
        case lastSeen = "last_seen"
    }
}
