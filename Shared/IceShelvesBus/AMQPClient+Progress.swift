import IceShelvesContracts
import Logging

extension AMQPClient {
    /// How long ``publishProgress(_:deploymentId:logger:)`` keeps trying: a deployment's last event
    /// (completed, failed, cancelled, timeout) is the only word the gateway gets of its end, so it
    /// is tried for up to five minutes; a step on the way for up to 30 s.
    public static func progressPatience(for status: DeploymentStatus) -> Duration {
        status.isTerminal ? .seconds(300) : .seconds(30)
    }

    /// Publishes a deployment's progress on the events exchange (`deployment.<id>.<status>`),
    /// confirmed. A publish that fails (the connection dropped, or the broker nacked it while a
    /// quorum queue elected a new leader) is sent again with the same message id, which the
    /// gateway records once, until ``progressPatience(for:)`` has passed; then the failure is
    /// logged, never thrown.
    public func publishProgress(_ event: DeploymentEvent, deploymentId: String, logger: Logger) async {
        let envelope = Envelope(event, deploymentId: deploymentId)
        let deadline = ContinuousClock.now + Self.progressPatience(for: event.status)
        var wait = Duration.milliseconds(200)
        var tries = 0
        while true {
            tries += 1
            do {
                try await publish(
                    envelope,
                    exchange: BusNames.eventsExchange,
                    routingKey: event.routingKey(deploymentId: deploymentId),
                    mandatory: false
                )
                if tries > 1 { logger.info("a progress event went out after \(tries) tries", metadata: ["status": "\(event.status.rawValue)"]) }
                return
            } catch {
                guard ContinuousClock.now + wait < deadline, !Task.isCancelled else {
                    logger.error(
                        "cannot publish a progress event; giving up",
                        metadata: ["status": "\(event.status.rawValue)", "tries": "\(tries)", "error": "\(error)"]
                    )
                    return
                }
                logger.warning(
                    "cannot publish a progress event; trying again",
                    metadata: ["status": "\(event.status.rawValue)", "tries": "\(tries)", "error": "\(error)"]
                )
                try? await Task.sleep(for: wait)
                wait = min(wait * 2, .seconds(5))
            }
        }
    }
}
