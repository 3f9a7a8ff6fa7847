import IceShelvesBus
import IceShelvesContracts
import Logging

/// Publishes agents' reports as the same progress events the deployers publish.
struct Reporter: Sendable {
    let bus: AMQPClient

    /// Publishes and waits for the broker's confirm; throws when the bus did not take it.
    func publish(_ id: String, _ event: DeploymentEvent) async throws {
        try await bus.publish(
            Envelope(event, deploymentId: id),
            exchange: BusNames.eventsExchange,
            routingKey: event.routingKey(deploymentId: id),
            mandatory: false
        )
    }

    /// Publishes, logging rather than throwing.
    func event(
        _ id: String,
        _ status: DeploymentStatus,
        step: EventStep,
        level: LogLevel = .info,
        _ message: String,
        details: [String: String] = [:],
        logger: Logger
    ) async {
        await bus.publishProgress(
            DeploymentEvent(status: status, step: step, level: level, message: message, details: details),
            deploymentId: id,
            logger: logger
        )
    }
}
