import IceShelvesBus
import IceShelvesContracts
import IceShelvesDeploy
import Logging

/// Publishes the deploy steps' progress on the bus, as the deployers do.
struct BusReporter: DeploymentReporter {
    let bus: AMQPClient

    func report(_ deploymentId: String, _ event: DeploymentEvent, logger: Logger) async {
        if event.level >= .error {
            logger.error("deployment \(event.status.rawValue)", metadata: ["step": "\(event.step.rawValue)", "reason": "\(event.message)"])
        } else {
            logger.info("\(event.message)", metadata: ["step": "\(event.step.rawValue)", "status": "\(event.status.rawValue)"])
        }
        await bus.publishProgress(event, deploymentId: deploymentId, logger: logger)
    }
}
