import Foundation
import Hummingbird
import IceShelvesContracts
import Logging

/// What the agent endpoints do: check the key, lease jobs, turn reports into progress events.
struct AgentService: Sendable {
    let store: JobStore
    let signal: JobSignal
    let keys: KeyVerifier
    let health: ClusterHealth
    let reporter: Reporter
    let settings: Settings
    let logger: Logger

    struct Settings: Sendable {
        /// How long a lease lasts without a report or renewal.
        var lease: Duration = .seconds(300)
        /// Jobs handed to the original agent per poll (it works them one after another).
        var originalBatch = 5
        /// The `accept` event's budget: what our agent may take (3 LXD operations of 300 s and
        /// cloud-init's 600 s, as `lxd-deployer`), and far more than the original agent needs.
        var budgetSeconds = 1500
        /// The lease holder name of the original protocol.
        static let originalHolder = "original"
    }

    static let invalidKey = "Invalid agent key"

    // MARK: The original protocol

    func originalPoll(cluster: String, key: String?) async -> Response {
        guard let c = await keys.verify(key: key, clusterId: cluster) else { return AgentRoutes.error(.unauthorized, Self.invalidKey) }
        health.seen(c.clusterId, interval: c.pollIntervalSeconds)
        do {
            // The original agent fails every KVM job: it only ever gets LXD ones.
            let jobs = try await store.claim(
                clusterId: c.clusterId,
                targets: [.lxd],
                holder: Settings.originalHolder,
                lease: settings.lease,
                limit: settings.originalBatch
            )
            for job in jobs { await handedOut(job, to: "the original agent") }
            return AgentRoutes.json(encoding: OriginalProtocol.PollAnswer(deployments: jobs.map { OriginalProtocol.Item($0.rendered) }))
        } catch {
            logger.error("poll failed", metadata: ["cluster": "\(c.clusterId)", "error": "\(error)"])
            return AgentRoutes.error(.serviceUnavailable, "the broker cannot read its jobs; try again")
        }
    }

    func originalStatus(deployment: String, key: String?, body: Data?) async -> Response {
        let job: JobStore.Job
        switch await authorize(deployment: deployment, key: key) {
        case .success(let j): job = j
        case .failure(let e): return e.response
        }
        guard let body, let report = try? JSONDecoder().decode(OriginalProtocol.StatusReport.self, from: body) else {
            return AgentRoutes.error(.badRequest, "Invalid JSON")
        }
        guard let status = OriginalProtocol.Status(rawValue: report.status) else {
            return AgentRoutes.error(.badRequest, "Invalid status: use in_progress, completed or failed")
        }
        let host = report.details?["agent_hostname"]?.text.prefix(253) ?? ""
        let message = String((report.message ?? "").prefix(4096))
        let event: DeploymentEvent
        switch status {
        case .inProgress:
            event = DeploymentEvent(
                status: .inProgress,
                step: .deploy,
                message: message.isEmpty ? "the agent started the deployment" : message,
                details: ["agent_hostname": String(host), "agent": "original"]
            )
        case .completed:
            var details = OriginalProtocol.flatten(report.instanceInfo ?? [:])
            details["cloud_init"] = "not verified"
            details["agent_hostname"] = String(host)
            details["agent"] = "original"
            event = DeploymentEvent(
                status: .completed,
                step: .done,
                level: .warning,
                message: "\(message.isEmpty ? "the agent started \(job.rendered.instanceName)" : message) "
                    + "(reported by the original agent: the instance started; cloud-init was not verified)",
                details: details
            )
        case .failed:
            let reason = String((report.errorMessage ?? message).prefix(4096))
            event = DeploymentEvent(
                status: .failed,
                step: .deploy,
                level: .error,
                message: reason.isEmpty ? "the agent reported a failure without a reason" : reason,
                details: ["agent_hostname": String(host), "agent": "original"]
            )
        }
        if let failure = await record(job, event, holder: Settings.originalHolder) { return failure }
        return AgentRoutes.json(["success": true, "message": "Status updated"])
    }

    // MARK: Our protocol (v1)

    func poll(cluster: String, key: String?, body: Data?, wait: Int) async -> Response {
        guard let c = await keys.verify(key: key, clusterId: cluster) else { return AgentRoutes.error(.unauthorized, Self.invalidKey) }
        guard let body, let poll = try? JSONDecoder().decode(AgentProtocol.Poll.self, from: body),
            !poll.agentId.isEmpty, poll.agentId.utf8.count <= 128, (0...64).contains(poll.maxJobs)
        else {
            return AgentRoutes.error(.badRequest, "the body must be a poll: agent_id, agent_version, hostname, capabilities, max_jobs (0-64)")
        }
        let waitSeconds = max(0, min(wait, AgentProtocol.maxWaitSeconds))
        // Up to wait/16 off, so that agents started together do not stay in step.
        let hold = Duration.milliseconds(waitSeconds * 1000 - Int.random(in: 0...max(0, waitSeconds * 1000 / 16)))
        let deadline = ContinuousClock.now + hold
        let holder = "agent:" + poll.agentId
        let targets = Set(poll.capabilities)
        while true {
            health.seen(c.clusterId, interval: c.pollIntervalSeconds, agentVersion: poll.agentVersion)
            let seen = signal.generation(c.clusterId)
            do {
                let commands = try await store.cancels(clusterId: c.clusterId, holder: holder).map {
                    AgentProtocol.Command(kind: .cancel, deploymentId: $0)
                }
                let jobs =
                    poll.maxJobs > 0
                    ? try await store.claim(clusterId: c.clusterId, targets: targets, holder: holder, lease: settings.lease, limit: poll.maxJobs) : []
                for job in jobs { await handedOut(job, to: "agent \(poll.hostname.prefix(64)) (\(poll.agentVersion.prefix(32)))") }
                if !jobs.isEmpty || !commands.isEmpty || ContinuousClock.now >= deadline || Task.isCancelled || signal.isClosed {
                    return AgentRoutes.json(
                        encoding: AgentProtocol.PollAnswer(jobs: jobs.map(\.rendered), commands: commands, leaseSeconds: Int(settings.lease.seconds))
                    )
                }
            } catch {
                logger.error("poll failed", metadata: ["cluster": "\(c.clusterId)", "error": "\(error)"])
                return AgentRoutes.error(.serviceUnavailable, "the broker cannot read its jobs; try again")
            }
            await signal.wait(cluster: c.clusterId, after: seen, for: deadline - ContinuousClock.now)
        }
    }

    func renew(deployment: String, key: String?, body: Data?) async -> Response {
        let job: JobStore.Job
        switch await authorize(deployment: deployment, key: key) {
        case .success(let j): job = j
        case .failure(let e): return e.response
        }
        guard let body, let lease = try? JSONDecoder().decode(AgentProtocol.Lease.self, from: body) else {
            return AgentRoutes.error(.badRequest, "the body must be {\"agent_id\": …}")
        }
        let holder = "agent:" + lease.agentId
        if job.state == .finished {
            return AgentRoutes.json(encoding: AgentProtocol.LeaseAnswer(leaseSeconds: 0, cancel: true), status: .conflict)
        }
        if job.leaseHolder != holder, let until = job.leaseUntil, until > Date() {
            return AgentRoutes.error(.conflict, "the lease is held by another agent; stop working on this deployment")
        }
        do {
            let renewed = try await store.renew(job.deploymentId, holder: holder, lease: settings.lease)
            return AgentRoutes.json(
                encoding: AgentProtocol.LeaseAnswer(leaseSeconds: Int(settings.lease.seconds), cancel: renewed?.cancelRequested ?? true)
            )
        } catch {
            return AgentRoutes.error(.serviceUnavailable, "the broker cannot renew the lease now; try again")
        }
    }

    func report(deployment: String, key: String?, body: Data?) async -> Response {
        let job: JobStore.Job
        switch await authorize(deployment: deployment, key: key) {
        case .success(let j): job = j
        case .failure(let e): return e.response
        }
        guard let body, var event = try? JSONDecoder().decode(DeploymentEvent.self, from: body) else {
            return AgentRoutes.error(.badRequest, "the body must be a deployment event: status, step, level, message, details")
        }
        guard [.inProgress, .completed, .failed, .cancelled].contains(event.status) else {
            return AgentRoutes.error(.badRequest, "an agent reports in_progress, completed, failed or cancelled")
        }
        event.message = String(event.message.prefix(8192))
        if let failure = await record(job, event, holder: nil) { return failure }
        return AgentRoutes.json(["success": true, "message": "Status updated"])
    }

    // MARK: Shared

    /// The job, when the key belongs to its cluster. Another cluster's key, or an unknown
    /// deployment, answers the same 404 to a valid key and 401 to any other: nothing is learned.
    private func authorize(deployment: String, key: String?) async -> Result<JobStore.Job, ResponseError> {
        let job = deployment.utf8.count <= 64 ? try? await store.get(deployment) : nil
        if let job, await keys.verify(key: key, clusterId: job.clusterId) != nil { return .success(job) }
        if await keys.verifyAny(key: key) { return .failure(ResponseError(AgentRoutes.error(.notFound, "Deployment not found"))) }
        return .failure(ResponseError(AgentRoutes.error(.unauthorized, Self.invalidKey)))
    }

    /// Publishes the event (confirmed), then keeps or ends the lease. `nil` on success.
    private func record(_ job: JobStore.Job, _ event: DeploymentEvent, holder: String?) async -> Response? {
        do {
            try await reporter.publish(job.deploymentId, event)
        } catch {
            logger.warning("cannot publish an agent's report", metadata: ["deployment_id": "\(job.deploymentId)", "error": "\(error)"])
            return AgentRoutes.error(.serviceUnavailable, "the message broker did not take the report; send it again")
        }
        do {
            if event.status.isTerminal {
                try await store.finish(job.deploymentId)
            } else if job.state != .finished {
                _ = try await store.renew(job.deploymentId, holder: holder ?? job.leaseHolder ?? Settings.originalHolder, lease: settings.lease)
            }
        } catch {
            logger.error("cannot update a job after a report", metadata: ["deployment_id": "\(job.deploymentId)", "error": "\(error)"])
        }
        return nil
    }

    private func handedOut(_ job: JobStore.Job, to whom: String) async {
        let again = job.handedOut > 1 ? " again (attempt \(job.handedOut): the previous lease ran out)" : ""
        // Like a deployer's accept: the deployment clock starts, with the agent's budget.
        await reporter.event(
            job.deploymentId,
            .inProgress,
            step: .accept,
            "handed to \(whom)\(again); it may take up to \(settings.budgetSeconds) s",
            details: ["attempt": String(job.handedOut), DeploymentEvent.budgetKey: String(settings.budgetSeconds)],
            logger: logger
        )
    }
}

/// A ready response carried through a `Result`.
struct ResponseError: Error {
    let response: Response
    init(_ response: Response) { self.response = response }
}
