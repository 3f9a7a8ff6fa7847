import Foundation
import IceShelvesContracts
import Logging
import ServiceLifecycle

/// Removes the instances that failed deployments left behind because their host could not be
/// reached when the deployer cleaned up (an LXD member or libvirt host that was down).
///
/// The deployer reports such a removal as a `cleanup` event at level `error`; the ledger then
/// sets the deployment's `cleanup_retry_at` (``Ledger/record(_:_:timestamp:messageId:observe:)``).
/// Once the deployment has ended, this asks the cluster's deployer to remove the instance again
/// (`lxd.cleanup` or `kvm.cleanup`, which removes only an instance with this deployment's
/// marker) after 10 s, 20 s, 40 s and then every minute until it succeeds; the removal is
/// recorded as a `cleanup` event, which settles it. The state is in the ledger, so a restart of
/// the gateway loses no pending removal.
struct LeftoverCleaner: Service {
    /// The wait before the first try, counted from the failed removal.
    static let firstDelay: TimeInterval = 10
    /// The longest wait between two tries.
    static let longestDelay: TimeInterval = 60

    let ledger: Ledger
    let clusters: ClusterStore
    let recorder: ProgressRecorder
    let pipeline: any PipelineClient
    let logger: Logger

    /// The wait after the deployer's failed removal and `attempts` failed tries here: doubling
    /// from ``firstDelay`` up to ``longestDelay``.
    static func delay(afterAttempts attempts: Int) -> TimeInterval {
        min(longestDelay, firstDelay * pow(2, Double(min(max(attempts, 0), 10))))
    }

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await sweep()
            try? await Task.sleep(for: .seconds(2))
        }
    }

    func sweep(now: Date = Date()) async {
        let due: [(deployment: Ledger.Deployment, attempts: Int)]
        do {
            due = try await ledger.cleanupsDue(now: now)
        } catch {
            logger.error("cannot read the pending removals", metadata: ["error": "\(error)"])
            return
        }
        for (d, attempts) in due { await retry(d, attempts: attempts) }
    }

    /// One more try for one deployment.
    func retry(_ d: Ledger.Deployment, attempts: Int) async {
        let cluster: ClusterStore.Cluster?
        do {
            cluster = try await clusters.get(d.clusterId)
        } catch {
            return await postpone(d, attempts: attempts, error)
        }
        guard let cluster else {
            return await settle(d, .warning, "\(d.instanceName) may be left behind: its cluster was deleted, so IceShelves no longer removes it")
        }
        guard (try? clusters.connection(for: cluster)) != nil else {
            return await settle(
                d,
                .warning,
                "\(d.instanceName) may be left behind: cluster \(cluster.name) is agent-poll, and its agent does not remove instances; "
                    + "remove it on the hypervisor (\(cluster.manualRemoval(of: d.instanceName)))"
            )
        }
        do {
            let result = try await pipeline.removeInstance(of: d, on: cluster)
            logger.info(
                "a left-behind instance is settled",
                metadata: ["deployment_id": "\(d.id)", "instance": "\(d.instanceName)", "removed": "\(result.removed)"]
            )
            await settle(d, .info, "after \(attempts + 1) more tries: \(result.message)")
        } catch let e as APIError where [400, 403, 404].contains(e.status.code) {
            await settle(d, .warning, "\(d.instanceName) may be left behind: its removal was refused (\(e.message))")
        } catch {
            await postpone(d, attempts: attempts, error)
        }
    }

    /// Records the end of the retries as a `cleanup` event (which clears `cleanup_retry_at`).
    private func settle(_ d: Ledger.Deployment, _ level: LogLevel, _ message: String) async {
        do {
            try await recorder.record(d.id, DeploymentEvent(status: d.status, step: .cleanup, level: level, message: message))
        } catch {
            logger.error("cannot record a removal", metadata: ["deployment_id": "\(d.id)", "error": "\(error)"])
        }
    }

    private func postpone(_ d: Ledger.Deployment, attempts: Int, _ error: any Error) async {
        let wait = Self.delay(afterAttempts: attempts + 1)
        logger.warning(
            "a left-behind instance still cannot be removed; trying again",
            metadata: [
                "deployment_id": "\(d.id)", "instance": "\(d.instanceName)", "tries": "\(attempts + 1)", "next_in_s": "\(Int(wait))",
                "error": "\(error)",
            ]
        )
        try? await ledger.postponeCleanup(d.id, attempts: attempts + 1, retryAt: Date().addingTimeInterval(wait))
        recorder.answers.advance(d.id)  // the cached detail shows the new time
    }
}
