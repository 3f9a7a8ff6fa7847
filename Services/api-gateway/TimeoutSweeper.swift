import Foundation
import IceShelvesContracts
import Logging
import ServiceLifecycle

/// Ends deployments that ran out of time (``Ledger/overdue(now:deploymentTimeout:queueTimeout:grace:)``)
/// as `timeout`, and tells their deployer to stop and clean up.
///
/// Time in the queue and time with a deployer are measured apart: the deployment clock starts
/// when a deployer takes the job, and never cuts the deployer's own budget short. After a
/// restart it first reads the events that waited for the gateway, so a deployment that finished
/// while the gateway was down ends `completed`, not `timeout`.
struct TimeoutSweeper: Service {
    let ledger: Ledger
    let recorder: ProgressRecorder
    let pipeline: any PipelineClient
    /// DEPLOYMENT_TIMEOUT: the least time a deployment has once a deployer took it.
    let timeout: Duration
    /// QUEUE_TIMEOUT: how long a deployment may wait for a deployer.
    let queueTimeout: Duration
    /// Events waiting for the gateway (the depth of its events queue).
    let pendingEvents: @Sendable () async throws -> Int
    let logger: Logger

    func run() async throws {
        await drain()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await sweep()
            try? await Task.sleep(for: .seconds(min(5, max(1, min(timeout, queueTimeout).components.seconds / 10))))
        }
    }

    /// Waits (up to a minute) until the events that arrived while the gateway was down are recorded.
    func drain() async {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline && !Task.isShuttingDownGracefully && !Task.isCancelled {
            if let depth = try? await pendingEvents(), depth == 0 {
                try? await Task.sleep(for: .milliseconds(500))  // the one in hand gets recorded too
                if (try? await pendingEvents()) == 0 { return }
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        logger.warning("events still waiting after a minute; sweeping for timeouts anyway")
    }

    func sweep() async {
        let overdue =
            (try? await ledger.overdue(
                now: Date(),
                deploymentTimeout: Int(timeout.components.seconds),
                queueTimeout: Int(queueTimeout.components.seconds)
            )) ?? []
        for (id, message) in overdue {
            let event = DeploymentEvent(status: .timeout, step: .timeout, level: .error, message: message)
            if let recorded = try? await recorder.record(id, event), recorded.movedFrom != nil {
                logger.warning("deployment timed out", metadata: ["deployment_id": "\(id)", "reason": "\(message)"])
                try? await pipeline.cancel(DeploymentCancel(deploymentId: id, reason: "timed out"))
            }
        }
    }
}
