import IceShelvesContracts
import Logging

/// The one way a deployment's progress is recorded, whoever reports it (a service on the bus,
/// a cancel or a timeout here): the ledger numbers and applies the event, live subscribers
/// get it, and a move that a webhook wants queues its delivery.
struct ProgressRecorder: Sendable {
    let ledger: Ledger
    let hub: EventHub
    let webhooks: Webhooks

    /// Records `event`; `nil` when there is no such deployment.
    @discardableResult
    func record(_ id: String, _ event: DeploymentEvent, timestamp: String = Timestamp.now()) async throws -> Ledger.Recorded? {
        guard let recorded = try await ledger.record(id, event, timestamp: timestamp) else { return nil }
        hub.publish(recorded.progress)
        if let previous = recorded.movedFrom, let hook = WebhookEvent.forMove(from: previous, to: event.status) {
            await webhooks.notify(hook, progress: recorded.progress)
        }
        return recorded
    }

    /// Announces deployments the ledger has just inserted.
    func announce(_ inserted: [DeploymentProgress]) {
        for p in inserted { hub.publish(p) }
    }
}
