import Foundation
import IceShelvesBus
import IceShelvesContracts
import Logging

/// Moves the ledger along with the deployment events on the bus (a durable queue of the
/// gateway's own, so a restarted gateway catches up on what happened while it was down), and
/// fans them out to live subscribers.
struct EventIngest: Sendable {
    static let queue = BusNames.gatewayEventsQueue

    let recorder: ProgressRecorder
    let pipeline: any PipelineClient

    static var topology: BusTopology {
        BusTopology(exchanges: BusTopology.base.exchanges, queues: [
            .init(name: queue, bindings: [(BusNames.eventsExchange, BusNames.everyProgressBinding)]),
        ])
    }

    func handle(_ envelope: Envelope<DeploymentEvent>, logger: Logger) async throws {
        guard let id = envelope.deploymentId else { return }
        let event = envelope.payload
        guard let recorded = try await recorder.record(id, event, timestamp: Timestamp.string(envelope.timestamp)) else { return }
        if event.status == .inProgress, recorded.movedFrom == nil, recorded.progress.status == .cancelled {
            // A deployer started work the ledger had cancelled (it was down when the cancel went out): say it again.
            try? await pipeline.cancel(DeploymentCancel(deploymentId: id, reason: "cancelled before this deployer took it"))
        }
    }
}
