import IceShelvesBus
import IceShelvesContracts
import Logging

/// Records the health of agent-poll clusters that the agent-broker publishes
/// (``ClusterStatusChanged``) and fires the `cluster.status_changed` webhook.
struct ClusterStatusIngest: Sendable {
    static let queue = BusNames.gatewayClusterStatusQueue

    let clusters: ClusterStore
    let webhooks: Webhooks

    static var topology: BusTopology {
        BusTopology(
            exchanges: BusTopology.base.exchanges,
            queues: [.init(name: queue, bindings: [(BusNames.eventsExchange, BusNames.everyClusterStatusBinding)])]
        )
    }

    func handle(_ envelope: Envelope<ClusterStatusChanged>, logger: Logger) async throws {
        let change = envelope.payload
        guard let id = Int64(change.clusterId), let cluster = try await clusters.get(id), cluster.method == .agentPoll else { return }
        let status = change.status.rawValue
        let previous = try await clusters.recordAgentHealth(id, status: status, lastSeen: change.lastSeen, message: change.message)
        if let previous {
            logger.info("agent-poll cluster health changed", metadata: ["cluster": "\(id)", "status": "\(status)", "previous": "\(previous)"])
            await webhooks.notify(
                .clusterStatusChanged,
                data: ["cluster_id": id, "name": cluster.name, "previous_status": previous, "status": status]
            )
        }
    }
}
