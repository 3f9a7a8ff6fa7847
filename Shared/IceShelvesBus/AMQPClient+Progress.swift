import IceShelvesContracts
import Logging

extension AMQPClient {
    /// Publishes a deployment's progress on the events exchange (`deployment.<id>.<status>`),
    /// confirmed. Progress is advisory: a failure is logged, never thrown.
    public func publishProgress(_ event: DeploymentEvent, deploymentId: String, logger: Logger) async {
        let envelope = Envelope(event, deploymentId: deploymentId)
        do {
            try await publish(envelope, exchange: BusNames.eventsExchange, routingKey: event.routingKey(deploymentId: deploymentId), mandatory: false)
        } catch {
            logger.warning("cannot publish a progress event", metadata: ["status": "\(event.status.rawValue)", "error": "\(error)"])
        }
    }
}
