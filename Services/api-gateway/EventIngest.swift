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
        BusTopology(
            exchanges: BusTopology.base.exchanges,
            queues: [
                .init(name: queue, bindings: [(BusNames.eventsExchange, BusNames.everyProgressBinding)])
            ]
        )
    }

    func handle(_ envelope: Envelope<DeploymentEvent>, logger: Logger) async throws {
        guard let id = envelope.deploymentId else { return }
        let event = envelope.payload
        guard let recorded = try await recorder.record(id, event, timestamp: Timestamp.string(envelope.timestamp), messageId: envelope.messageId)
        else {
            return  // no such deployment, or this message was recorded before (a redelivery)
        }
        let settled = recorded.progress.status
        if event.status == .inProgress, recorded.movedFrom == nil, settled.isTerminal, settled != .completed {
            // A deployer works on a deployment the ledger has ended (cancelled, timed out or failed
            // while that deployer was down or the job was queued): tell it again to stop.
            try? await pipeline.cancel(DeploymentCancel(deploymentId: id, reason: "the deployment is already \(settled.rawValue)"))
        }
    }
}
