import IceShelvesContracts
import IceShelvesDeploy
import Logging

/// Sends the deploy steps' progress to the agent-broker, which publishes it as the deployers'
/// events. A report is tried a few times; a lost progress line is logged, never fatal.
struct HTTPReporter: DeploymentReporter {
    let broker: BrokerClient
    /// Report with the original protocol's status calls (an old server): in_progress, completed, failed.
    var original = false

    func report(_ deploymentId: String, _ event: DeploymentEvent, logger: Logger) async {
        if event.level >= .error {
            logger.error("deployment \(event.status.rawValue)", metadata: ["step": "\(event.step.rawValue)", "reason": "\(event.message)"])
        } else {
            logger.info("\(event.message)", metadata: ["step": "\(event.step.rawValue)", "status": "\(event.status.rawValue)"])
        }
        var delay = Duration.milliseconds(500)
        for attempt in 1...(event.status.isTerminal ? 8 : 3) {
            do {
                if original {
                    try await reportOriginal(deploymentId, event)
                } else {
                    try await broker.report(deploymentId, event)
                }
                return
            } catch let f as BrokerClient.Failure where f.isTransient {
                logger.warning("report not delivered; trying again", metadata: ["attempt": "\(attempt)", "error": "\(f)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(15))
            } catch {
                logger.warning("report refused", metadata: ["error": "\(error)"])
                return
            }
        }
    }

    private func reportOriginal(_ id: String, _ event: DeploymentEvent) async throws {
        switch event.status {
        case .completed:
            try await broker.originalStatus(id, status: "completed", message: event.message, instanceInfo: event.details, error: nil)
        case .failed, .cancelled, .timeout:
            try await broker.originalStatus(id, status: "failed", message: "", instanceInfo: nil, error: event.message)
        default:
            try await broker.originalStatus(id, status: "in_progress", message: event.message, instanceInfo: nil, error: nil)
        }
    }
}
