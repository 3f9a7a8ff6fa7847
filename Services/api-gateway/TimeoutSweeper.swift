import Foundation
import IceShelvesContracts
import Logging
import ServiceLifecycle

/// Enforces `DEPLOYMENT_TIMEOUT`: an unfinished deployment older than that becomes `timeout`,
/// and its deployer is told to stop and clean up.
struct TimeoutSweeper: Service {
    let ledger: Ledger
    let recorder: ProgressRecorder
    let pipeline: any PipelineClient
    let timeout: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await sweep()
            try? await Task.sleep(for: .seconds(min(5, max(1, timeout.components.seconds / 10))))
        }
    }

    func sweep() async {
        let cutoff = Timestamp.string(Date().addingTimeInterval(-Double(timeout.components.seconds)))
        guard let overdue = try? await ledger.overdue(before: cutoff) else { return }
        for id in overdue {
            let message = "no result within \(timeout.components.seconds) s (DEPLOYMENT_TIMEOUT)"
            let event = DeploymentEvent(status: .timeout, step: .timeout, level: .error, message: message)
            if let recorded = try? await recorder.record(id, event), recorded.movedFrom != nil {
                logger.warning("deployment timed out", metadata: ["deployment_id": "\(id)"])
                try? await pipeline.cancel(DeploymentCancel(deploymentId: id, reason: "timed out"))
            }
        }
    }
}
