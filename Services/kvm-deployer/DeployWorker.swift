import Foundation
import IceShelvesBus
import IceShelvesContracts
import IceShelvesDeploy
import IceShelvesKVMDeploy
import IceShelvesLibvirt
import IceShelvesService
import Logging
import Metrics

/// Deploys one rendered egg as a VM: connect, check the name, base image, overlay volume, seed
/// upload, console volume, define, start, wait for the cloud-init marker on the serial console,
/// report. Progress goes out as events at each step.
///
/// Idempotent per deployment id: the domain carries the deployment id in its `<metadata>`; a
/// redelivered job that finds its domain continues from where it stopped and never defines a
/// second one. On failure or cancel it destroys and undefines the domain and deletes its volumes,
/// unless the deployment asked to keep them.
struct DeployWorker: Sendable {
    static let queue = TargetType.kvm.deployQueue

    let bus: AMQPClient
    /// Gives the cluster's connection for a job: jobs carry the cluster id only.
    let connections: any ConnectionSource
    let opener: LibvirtOpener
    let cancels: CancelRegistry
    let cloudInitTimeout: Duration
    /// How long the libvirt calls of one job may take at most, besides cloud-init (connect, create, upload, define, start).
    var operationBudget: Duration = .seconds(300)
    /// The deploy steps, shared with `iceshelves-agent`.
    var steps: KVMDeployment { KVMDeployment(reporter: self, cloudInitTimeout: cloudInitTimeout) }

    func handle(_ envelope: Envelope<DeploymentRendered>, logger: Logger) async throws {
        let taken = ContinuousClock.now
        let job = envelope.payload
        let id = job.deploymentId
        if let problem = InstanceNameRule.problem(job.instanceName) {
            await report(id, .failed, step: .validate, level: .error, problem, logger: logger)
            return
        }
        if cancels.wasCancelled(id) {
            await report(
                id,
                .cancelled,
                step: .cancel,
                level: .warning,
                "deployment was cancelled before it started; nothing was created",
                logger: logger
            )
            return
        }
        guard let destination = job.destination else {
            await report(id, .failed, step: .validate, level: .error, "the job names no cluster (destination)", logger: logger)
            return
        }
        let budget = (operationBudget + cloudInitTimeout).components.seconds
        await report(
            id,
            .inProgress,
            step: .accept,
            "a deployer took the job; it may take up to \(budget) s",
            details: [DeploymentEvent.budgetKey: "\(budget)"],
            logger: logger
        )
        let settings: LibvirtSettings
        do {
            let connection = try await connections.connection(clusterId: destination.clusterId, deploymentId: id, purpose: .deployment)
            guard let libvirt = connection.libvirt else {
                await report(id, .failed, step: .connect, level: .error, "cluster \(destination.clusterId) is not a KVM cluster", logger: logger)
                return
            }
            settings = libvirt
        } catch {
            await report(
                id,
                .failed,
                step: .connect,
                level: .error,
                "cannot get cluster \(destination.clusterId)'s connection: \(error)",
                logger: logger
            )
            return
        }
        let work = Task { try await deploy(job, settings, taken: taken, logger: logger) }
        cancels.register(id) { work.cancel() }
        defer { cancels.unregister(id) }
        switch await work.result {
        case .success(let info):
            await report(id, .completed, step: .done, "\(job.instanceName) is running and cloud-init finished", details: info, logger: logger)
            Counter(label: "iceshelves_kvm_deployments_total", dimensions: [("result", DeploymentStatus.completed.rawValue)]).increment()
        case .failure(let error):
            let cancelled = work.isCancelled
            let failure = error as? DeployFailure ?? DeployFailure(step: cancelled ? .cancel : .deploy, message: "\(error)")
            let keep = job.destination?.keepOnFailure ?? false
            let removed = await cleanUp(job, settings, failure: failure, cancelled: cancelled, logger: logger)
            let cancelMessage =
                "deployment cancelled; " + (removed ? "its VM and volumes were removed" : keep ? "the VM was kept" : "nothing was left to remove")
            await report(
                id,
                cancelled ? .cancelled : .failed,
                step: failure.step,
                level: cancelled ? .warning : .error,
                cancelled ? cancelMessage : failure.message,
                logger: logger
            )
            Counter(label: "iceshelves_kvm_deployments_total", dimensions: [("result", (cancelled ? DeploymentStatus.cancelled : .failed).rawValue)])
                .increment()
        }
    }

    // MARK: The steps

    /// Connects, then runs the shared KVM steps (``KVMDeployment``, the agent's too).
    func deploy(
        _ job: DeploymentRendered,
        _ settings: LibvirtSettings,
        taken: ContinuousClock.Instant,
        logger: Logger
    ) async throws -> [String: String] {
        await report(job.deploymentId, .inProgress, step: .connect, "connecting to \(settings)", logger: logger)
        let libvirt: LibvirtConnection
        do {
            libvirt = try await opener.open(settings)
        } catch {
            throw DeployFailure(step: .connect, message: "\(error)", mayCleanUp: false)
        }
        return try await steps.run(job, on: libvirt, settings: settings, taken: taken, logger: logger)
    }

    private func cleanUp(
        _ job: DeploymentRendered,
        _ settings: LibvirtSettings,
        failure: DeployFailure,
        cancelled: Bool,
        logger: Logger
    ) async -> Bool {
        let opener = opener
        return await steps.cleanUp(
            after: job,
            keepOnFailure: job.destination?.keepOnFailure ?? false,
            failure: failure,
            cancelled: cancelled,
            pool: settings.storagePool,
            connection: { try await opener.open(settings) },
            logger: logger
        )
    }
}

extension DeployWorker: DeploymentReporter {
    /// Logs the event and publishes it on the bus (the shared steps report through this too).
    func report(_ deploymentId: String, _ event: DeploymentEvent, logger: Logger) async {
        if event.level >= .error {
            logger.error("deployment \(event.status.rawValue)", metadata: ["step": "\(event.step.rawValue)", "reason": "\(event.message)"])
        } else {
            logger.info("\(event.message)", metadata: ["step": "\(event.step.rawValue)", "status": "\(event.status.rawValue)"])
        }
        await bus.publishProgress(event, deploymentId: deploymentId, logger: logger)
    }
}
