import IceShelvesBus
import IceShelvesContracts
import Logging

/// Takes jobs for agent-poll clusters off ``BusNames/agentQueue`` into the broker's store, then
/// acks them (the store holds them from then on) and wakes the cluster's long-polls.
struct JobIntake: Sendable {
    static let queue = BusNames.agentQueue

    let store: JobStore
    let signal: JobSignal
    let reporter: Reporter

    func handle(_ envelope: Envelope<DeploymentRendered>, logger: Logger) async throws {
        let job = envelope.payload
        guard let cluster = job.destination?.clusterId, !cluster.isEmpty else {
            await reporter.event(job.deploymentId, .failed, step: .validate, level: .error, "the job names no cluster", logger: logger)
            return
        }
        if let problem = InstanceNameRule.problem(job.instanceName) {
            await reporter.event(job.deploymentId, .failed, step: .validate, level: .error, problem, logger: logger)
            return
        }
        guard try await store.insert(job, clusterId: cluster) else {
            logger.info("job is stored already (a redelivery)")
            return
        }
        signal.signal(cluster)
        logger.info("job stored for the cluster's agent", metadata: ["cluster": "\(cluster)", "target": "\(job.target.rawValue)"])
    }
}
