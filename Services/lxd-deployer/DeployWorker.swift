import Foundation
import IceShelvesBus
import IceShelvesContracts
import IceShelvesDeploy
import IceShelvesLXD
import IceShelvesService
import Logging
import Metrics

/// Deploys one rendered egg to LXD: connect, then the steps of ``LXDDeployment`` (shared with
/// `iceshelves-agent`), then report. Progress goes out as events at each step.
///
/// Idempotent per deployment id: every instance carries ``InstanceMarker/deploymentId``; a
/// redelivered job finds its instance and continues from where it stopped. On failure or
/// cancel it removes what it created, unless the deployment asked to keep it.
struct DeployWorker: Sendable {
    static let queue = TargetType.lxd.deployQueue

    let bus: AMQPClient
    let clients: ClientCache
    /// Gives the cluster's connection for a job: jobs carry the cluster id only.
    let connections: any ConnectionSource
    let cancels: CancelRegistry
    /// How long cloud-init may take after the start.
    let cloudInitTimeout: Duration
    /// How long an LXD operation (create from image, start, delete) may take.
    let operationTimeout: Duration
    /// Where matching deployments claim never-started instances.
    var warmPools: WarmPoolClaims?
    /// Counts the running deployments, so that filling the warm pools waits for them.
    var activity = DeployActivity()

    var steps: LXDDeployment {
        LXDDeployment(reporter: BusReporter(bus: bus), cloudInitTimeout: cloudInitTimeout, operationTimeout: operationTimeout, warmPools: warmPools)
    }

    /// The queue handler. Business failures are reported and acked; nothing is retried by the bus.
    func handle(_ envelope: Envelope<DeploymentRendered>, logger: Logger) async throws {
        let taken = ContinuousClock.now
        let job = envelope.payload
        let id = job.deploymentId
        guard let destination = job.destination else {
            await report(id, .failed, step: .validate, level: .error, "the job names no cluster connection (destination)", logger: logger)
            return
        }
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
        // Creating, starting and removing may each take an operation timeout; cloud-init its own.
        let budget = (operationTimeout * 3 + cloudInitTimeout).components.seconds
        await report(
            id,
            .inProgress,
            step: .accept,
            "a deployer took the job; it may take up to \(budget) s",
            details: [DeploymentEvent.budgetKey: "\(budget)"],
            logger: logger
        )
        let connection: ClusterConnection
        do {
            connection = try await connections.connection(clusterId: destination.clusterId, deploymentId: id, purpose: .deployment)
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
        activity.begin()
        defer { activity.end() }
        let work = Task { try await deploy(job, destination, connection, taken: taken, logger: logger) }
        cancels.register(id) { work.cancel() }
        defer { cancels.unregister(id) }
        let result = await work.result
        switch result {
        case .success(let info):
            await report(id, .completed, step: .done, "\(job.instanceName) is running and cloud-init finished", details: info, logger: logger)
            Counter(label: "iceshelves_lxd_deployments_total", dimensions: [("result", DeploymentStatus.completed.rawValue)]).increment()
        case .failure(let error):
            let cancelled = work.isCancelled
            let failure = error as? DeployFailure ?? DeployFailure(step: cancelled ? .cancel : .deploy, message: "\(error)")
            let clients = clients
            let removed = await steps.cleanUp(
                after: job,
                keepOnFailure: destination.keepOnFailure,
                failure: failure,
                cancelled: cancelled,
                client: { try await clients.client(for: connection) },
                logger: logger
            )
            let cancelMessage =
                "deployment cancelled; "
                + (removed ? "its instance was removed" : destination.keepOnFailure ? "the instance was kept" : "nothing was left to remove")
            await report(
                id,
                cancelled ? .cancelled : .failed,
                step: failure.step,
                level: cancelled ? .warning : .error,
                cancelled ? cancelMessage : failure.message,
                logger: logger
            )
            Counter(label: "iceshelves_lxd_deployments_total", dimensions: [("result", (cancelled ? DeploymentStatus.cancelled : .failed).rawValue)])
                .increment()
        }
    }

    /// Connects, then runs the shared steps.
    func deploy(
        _ job: DeploymentRendered,
        _ destination: DeploymentTarget,
        _ connection: ClusterConnection,
        taken: ContinuousClock.Instant,
        logger: Logger
    ) async throws -> [String: String] {
        await report(job.deploymentId, .inProgress, step: .connect, "connecting to \(connection)", logger: logger)
        let lxd: LXDClient
        do {
            lxd = try await clients.client(for: connection)
        } catch {
            throw DeployFailure(step: .connect, message: "\(error)", mayCleanUp: false)
        }
        return try await steps.run(job, on: lxd, destination: destination, taken: taken, logger: logger)
    }
}

extension DeployWorker: DeploymentReporter {
    /// Publishes the event on the bus (``BusReporter``); the shared extension builds it from its parts.
    func report(_ deploymentId: String, _ event: DeploymentEvent, logger: Logger) async {
        await BusReporter(bus: bus).report(deploymentId, event, logger: logger)
    }
}
