import Foundation
import IceShelvesContracts
import IceShelvesDeploy
import Logging
import ServiceLifecycle
import Synchronization

/// Polls the agent-broker (long-poll by default, plain polls against an old server), runs each
/// job it is handed, and survives network errors with backoff and jitter. On graceful shutdown
/// it stops polling and stops its deployments where they are: their leases run out and the
/// broker hands them out again, and the deploy steps continue from what exists.
struct AgentLoop: Service {
    let broker: BrokerClient
    let runner: JobRunner
    /// The runner for an old server: original status reports, no lease renewals.
    let originalRunner: JobRunner
    let pollInterval: Int
    let capacity: Int
    let logger: Logger
    static let version = "0.1.0"

    func run() async throws {
        await cancelWhenGracefulShutdown { await loop() }
    }

    private func loop() async {
        await withDiscardingTaskGroup { group in
            let running = RunningSet()
            var backoff = Backoff()
            var original = false
            let agentId = runner.agentId
            logger.info("agent started", metadata: ["server": "\(broker.server)", "cluster": "\(broker.clusterId)", "agent_id": "\(agentId)"])
            while !Task.isCancelled {
                do {
                    let jobs: [DeploymentRendered]
                    var lease = 0
                    if original {
                        jobs = try await originalPoll()
                    } else {
                        let asked = ContinuousClock.now
                        let poll = AgentProtocol.Poll(
                            agentId: agentId,
                            agentVersion: Self.version,
                            hostname: ProcessInfo.processInfo.hostName,
                            capabilities: [.lxd, .kvm],
                            maxJobs: max(0, capacity - running.count)
                        )
                        if let answer = try await broker.poll(poll, wait: running.count >= capacity ? 10 : AgentProtocol.maxWaitSeconds) {
                            jobs = answer.jobs
                            lease = answer.leaseSeconds
                            if jobs.isEmpty && ContinuousClock.now - asked < .seconds(1) {
                                // A long-poll answered at once with nothing: the broker is shutting
                                // down (it releases held polls). Do not hammer it until it is gone.
                                try await Task.sleep(for: .milliseconds(Int.random(in: 1000...2000)))
                            }
                        } else {
                            logger.notice("the server does not speak our protocol; using the original agent protocol with plain polls")
                            original = true
                            continue
                        }
                    }
                    backoff.reset()
                    var chosen = original ? originalRunner : runner
                    if !original { chosen.leaseSeconds = lease }
                    let runner = chosen
                    for job in jobs where running.insert(job.deploymentId) {
                        group.addTask { [logger] in
                            await runner.run(job, logger: logger)
                            running.remove(job.deploymentId)
                        }
                    }
                    if original { try await Task.sleep(for: .seconds(pollInterval)) }
                } catch is CancellationError {
                    break
                } catch let f as BrokerClient.Failure where !f.isTransient {
                    logger.error("the server refused the poll", metadata: ["error": "\(f)"])
                    try? await Task.sleep(for: .seconds(pollInterval))
                } catch {
                    let wait = backoff.next()
                    logger.warning("poll failed; retrying", metadata: ["error": "\(error)", "in": "\(wait)"])
                    try? await Task.sleep(for: wait)
                }
            }
            logger.info("agent stopping")
        }
    }

    /// The original protocol: the original server's items, as far as they go (the image is the
    /// local alias `ubuntu/24.04`, as the original agent used).
    private func originalPoll() async throws -> [DeploymentRendered] {
        try await broker.originalPoll().compactMap { item in
            guard let id = item["deployment_id"].map({ "\($0)" }), let name = item["instance_name"] as? String,
                item["deployment_type"] as? String == "lxd", let userData = item["cloud_init"] as? String, !userData.isEmpty
            else { return nil }
            let overrides = (item["config_overrides"] as? [String: String] ?? [:]).filter {
                !$0.key.hasPrefix("cloud-init.") && !$0.key.hasPrefix("user.iceshelves.") && $0.key != "user.meta-data"
            }
            return DeploymentRendered(
                deploymentId: id,
                instanceName: name,
                target: .lxd,
                eggName: item["egg_name"] as? String ?? "",
                eggVersion: "",
                eggContentHash: "",
                baseImage: "ubuntu/24.04",
                userData: userData,
                metaData: "instance-id: \(name)\nlocal-hostname: \(name)\n",
                destination: DeploymentTarget(clusterId: broker.clusterId, configOverrides: overrides)
            )
        }
    }
}

/// The deployments this agent works on, so one deployment never runs twice at once here.
final class RunningSet: Sendable {
    private let ids = Mutex(Set<String>())

    /// `false` when it runs already.
    func insert(_ id: String) -> Bool { ids.withLock { $0.insert(id).inserted } }
    func remove(_ id: String) { _ = ids.withLock { $0.remove(id) } }
    var count: Int { ids.withLock { $0.count } }
}
