import Foundation
import IceShelvesContracts
import IceShelvesDeploy
import IceShelvesKVMDeploy
import IceShelvesLXD
import IceShelvesLibvirt
import Logging

/// Runs one job on the local LXD with the same steps as `lxd-deployer` (``LXDDeployment``), or
/// a KVM job on the local libvirt with the same steps as `kvm-deployer` (``KVMDeployment``),
/// renewing its lease while it works, and reports the outcome.
struct JobRunner: Sendable {
    let broker: BrokerClient
    let agentId: String
    let lxd: LocalLXD
    let steps: LXDDeployment
    let libvirt: LocalLibvirt
    let kvmSteps: KVMDeployment
    let reporter: HTTPReporter
    /// 0 for an old server (the original protocol has no leases).
    var leaseSeconds: Int

    /// How a job ended on this agent.
    enum Ending: Sendable { case finished, cancelled, leaseLost, shutdown }

    private enum Signal: Sendable {
        case done(Result<[String: String], any Error>)
        case renewal(Ending?)
    }

    /// Deploys, renewing the lease meanwhile; reports the outcome. Returns how it ended.
    @discardableResult
    func run(_ job: DeploymentRendered, logger: Logger) async -> Ending {
        var scoped = logger
        scoped[metadataKey: "deployment_id"] = "\(job.deploymentId)"
        let logger = scoped
        let destination = job.destination ?? DeploymentTarget(clusterId: broker.clusterId)
        let (outcome, stop) = await withTaskGroup(of: Signal.self) { group -> (Result<[String: String], any Error>, Ending?) in
            group.addTask {
                do {
                    return .done(.success(try await deploy(job, destination, logger: logger)))
                } catch {
                    return .done(.failure(error))
                }
            }
            if leaseSeconds > 0 { group.addTask { .renewal(await renewLease(job.deploymentId, logger: logger)) } }
            var outcome: Result<[String: String], any Error> = .failure(CancellationError())
            var stop: Ending?
            for await signal in group {
                switch signal {
                case .done(let r):
                    outcome = r
                    group.cancelAll()  // the renewals end
                case .renewal(let e?):
                    stop = e
                    group.cancelAll()  // the deployment stops
                case .renewal(nil):
                    break
                }
            }
            return (outcome, stop)
        }
        if Task.isCancelled {
            // SIGTERM: leave everything as it is; the lease runs out and the next run continues where this one stopped.
            logger.notice("stopped mid-deployment; the broker hands it out again when its lease runs out")
            return .shutdown
        }
        switch stop {
        case .leaseLost?:
            logger.warning("another agent holds the deployment now; this one stopped without touching the instance")
            return .leaseLost
        case .cancelled?:
            let removed = await cleanUp(job, destination, DeployFailure(step: .cancel, message: "cancelled"), cancelled: true, logger: logger)
            let message =
                "deployment cancelled; "
                + (removed ? "its instance was removed" : destination.keepOnFailure ? "the instance was kept" : "nothing was left to remove")
            await reporter.report(
                job.deploymentId,
                DeploymentEvent(status: .cancelled, step: .cancel, level: .warning, message: message),
                logger: logger
            )
            return .cancelled
        default:
            await finish(job, destination, outcome, logger: logger)
            return .finished
        }
    }

    private func deploy(_ job: DeploymentRendered, _ destination: DeploymentTarget, logger: Logger) async throws -> [String: String] {
        await reporter.report(
            job.deploymentId,
            DeploymentEvent(status: .inProgress, step: .connect, message: "the agent on \(ProcessInfo.processInfo.hostName) took the deployment"),
            logger: logger
        )
        if job.target == .kvm {
            let connection: LibvirtConnection
            do {
                connection = try await libvirt.connection()
            } catch {
                throw DeployFailure(step: .connect, message: "cannot reach the local libvirt: \(error)", mayCleanUp: false)
            }
            return try await kvmSteps.run(job, on: connection, settings: libvirt.settings, logger: logger)
        }
        let client: LXDClient
        do {
            client = try await lxd.client()
        } catch {
            throw DeployFailure(step: .connect, message: "cannot reach the local LXD: \(error)", mayCleanUp: false)
        }
        return try await steps.run(job, on: client, destination: destination, logger: logger)
    }

    /// Removes what the job created (the shared steps' cleanup of its target); `true` when something was removed.
    private func cleanUp(
        _ job: DeploymentRendered,
        _ destination: DeploymentTarget,
        _ failure: DeployFailure,
        cancelled: Bool,
        logger: Logger
    ) async -> Bool {
        if job.target == .kvm {
            let libvirt = libvirt
            return await kvmSteps.cleanUp(
                after: job,
                keepOnFailure: destination.keepOnFailure,
                failure: failure,
                cancelled: cancelled,
                pool: libvirt.settings.storagePool,
                connection: { try await libvirt.connection() },
                logger: logger
            )
        }
        let lxd = lxd
        return await steps.cleanUp(
            after: job,
            keepOnFailure: destination.keepOnFailure,
            failure: failure,
            cancelled: cancelled,
            client: { try await lxd.client() },
            logger: logger
        )
    }

    /// Renews the lease every third of it until cancelled. Cancels the work when the broker says
    /// the deployment was cancelled or the lease is lost.
    private func renewLease(_ id: String, logger: Logger) async -> Ending? {
        let every = Duration.seconds(max(1, leaseSeconds / 3))
        while !Task.isCancelled {
            try? await Task.sleep(for: every)
            if Task.isCancelled { return nil }
            do {
                let answer = try await broker.renew(id, agentId: agentId)
                if answer.cancel { return .cancelled }
            } catch let f as BrokerClient.Failure where f.status == 409 {
                logger.warning("lease lost", metadata: ["error": "\(f)"])
                return .leaseLost
            } catch {
                logger.warning("lease renewal failed; trying again", metadata: ["error": "\(error)"])
            }
        }
        return nil
    }

    private func finish(
        _ job: DeploymentRendered,
        _ destination: DeploymentTarget,
        _ outcome: Result<[String: String], any Error>,
        logger: Logger
    ) async {
        let id = job.deploymentId
        switch outcome {
        case .success(let info):
            await reporter.report(
                id,
                DeploymentEvent(status: .completed, step: .done, message: "\(job.instanceName) is running and cloud-init finished", details: info),
                logger: logger
            )
        case .failure(let error):
            let failure = error as? DeployFailure ?? DeployFailure(step: .deploy, message: "\(error)")
            _ = await cleanUp(job, destination, failure, cancelled: false, logger: logger)
            await reporter.report(id, DeploymentEvent(status: .failed, step: failure.step, level: .error, message: failure.message), logger: logger)
        }
    }
}
