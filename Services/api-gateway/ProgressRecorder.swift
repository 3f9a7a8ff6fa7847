import GRDB
import IceShelvesContracts
import Logging

/// The one way a deployment's progress is recorded, whoever reports it (a service on the bus,
/// a cancel or a timeout here). In one ledger transaction: the event is numbered and applied,
/// a move that a webhook wants queues its deliveries (so a crash loses neither), the cached
/// answer is dropped, and live subscribers get the event, in `seq` order.
struct ProgressRecorder: Sendable {
    let ledger: Ledger
    let hub: EventHub
    /// Answers of `GET /deployments/{id}`, dropped as events are recorded.
    let answers: DeploymentCache

    /// Records `event`; `nil` when there is no such deployment or the message was recorded before.
    @discardableResult
    func record(
        _ id: String,
        _ event: DeploymentEvent,
        timestamp: String = Timestamp.now(),
        messageId: String? = nil
    ) async throws -> Ledger.Recorded? {
        let recorded = try await ledger.record(id, event, timestamp: timestamp, messageId: messageId, observe: observer)
        // Once more after the commit: a read that began inside the transaction saw the state before it.
        if recorded != nil { answers.advance(id) }
        return recorded
    }

    /// What every transaction of the ledger does after its change.
    var observer: @Sendable (Database, Ledger.Recorded) throws -> Void {
        { [hub, answers] db, recorded in
            let progress = recorded.progress
            if let previous = recorded.movedFrom, let hook = WebhookEvent.forMove(from: previous, to: progress.status) {
                try Webhooks.enqueue(hook, progress: progress, in: db)
            }
            answers.advance(progress.deploymentId)
            hub.publish(progress)
        }
    }
}
