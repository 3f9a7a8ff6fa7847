import Foundation
import IceShelvesBus
import IceShelvesContracts
import Logging

/// Moves the ledger along with the deployment events on the bus (a durable queue of the
/// gateway's own, so a restarted gateway catches up on what happened while it was down), and
/// fans them out to live subscribers.
struct EventIngest: Sendable {
    static let queue = "api-gateway.events"
    static let statuses = ["rendering", "queued", "in_progress", "completed", "failed", "cancelled", "timeout"]

    let ledger: Ledger
    let hub: EventHub
    let pipeline: any PipelineClient
    let webhooks: Webhooks

    static var topology: BusTopology {
        BusTopology(exchanges: BusTopology.base.exchanges, queues: [
            .init(name: queue, bindings: statuses.map { (BusNames.eventsExchange, "deployment.*.\($0)") }),
        ])
    }

    func handle(_ envelope: Envelope<DeploymentEvent>, logger: Logger) async throws {
        guard let id = envelope.deploymentId else { return }
        let event = envelope.payload
        guard let status = DeploymentStatus(rawValue: event.status) else {
            logger.warning("ignoring an event with an unknown status", metadata: ["status": "\(event.status.prefix(40))"])
            return
        }
        let info = status == .completed ? event.details : nil
        let previous = try ledger.apply(id, status: status, level: event.level, step: event.step, message: event.message, instanceInfo: info)
        hub.publish(.init(deploymentId: id, event: event, timestamp: Timestamp.string(envelope.timestamp)))
        if let previous {
            if status == .inProgress && previous != .inProgress { await webhooks.notify("deployment.started", deploymentId: id, event: event) }
            if status == .completed { await webhooks.notify("deployment.completed", deploymentId: id, event: event) }
            if status == .failed || status == .timeout { await webhooks.notify("deployment.failed", deploymentId: id, event: event) }
        } else if status == .inProgress, try ledger.get(id)?.status == DeploymentStatus.cancelled.rawValue {
            // A deployer started work the ledger had cancelled (it was down when the cancel went out): say it again.
            try? await pipeline.cancel(DeploymentCancel(deploymentId: id, reason: "cancelled before this deployer took it"))
        }
    }
}
