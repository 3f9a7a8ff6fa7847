import Foundation
import IceShelvesBus
import IceShelvesContracts
import IceShelvesLXD
import IceShelvesService
import Logging
import Metrics

/// Deploys one rendered egg to LXD: connect, check the name, profile, place, create, start,
/// wait for cloud-init, report. Progress goes out as events at each step.
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
    let placement = Placement()
    let cancels: CancelRegistry
    /// How long cloud-init may take after the start.
    let cloudInitTimeout: Duration
    /// How long an LXD operation (create from image, start, delete) may take.
    let operationTimeout: Duration

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
            let removed = await cleanUpAfter(job, destination, connection, failure: failure, cancelled: cancelled, logger: logger)
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

    // MARK: The steps

    func deploy(
        _ job: DeploymentRendered,
        _ destination: DeploymentTarget,
        _ connection: ClusterConnection,
        taken: ContinuousClock.Instant,
        logger: Logger
    ) async throws -> [String: String] {
        let id = job.deploymentId
        let name = job.instanceName
        await report(id, .inProgress, step: .connect, "connecting to \(connection)", logger: logger)
        let lxd = try await connect(connection)
        let server = try await step(.connect) { try await lxd.server() }

        var existing = try await step(.inspect) { try await lxd.instance(name) }
        if let found = existing {
            guard InstanceMarker.belongs(found.config, to: id) else {
                let owner = found.config[InstanceMarker.deploymentId].map { "deployment \($0)" } ?? "something IceShelves did not create"
                throw DeployFailure(
                    step: .inspect,
                    message: "an instance named \(name) already exists and belongs to \(owner); choose another name",
                    mayCleanUp: false
                )
            }
            await report(
                id,
                .inProgress,
                step: .resume,
                "instance \(name) exists from an earlier attempt (\(found.status)); continuing",
                logger: logger
            )
            try await waitForPendingOperations(lxd, name)
        } else {
            let image = destination.image ?? job.baseImage
            let isFingerprint = image.count >= 12 && image.allSatisfy(\.isHexDigit)
            if !isFingerprint, try await step(.image, { try await lxd.imageAlias(image) }) == nil {
                throw DeployFailure(
                    step: .image,
                    message: "image '\(image)' is not on the LXD server (no such alias); import it or pick another base_image",
                    mayCleanUp: false
                )
            }
            if let yaml = job.lxdProfile, !yaml.isEmpty {
                try await applyProfile(lxd, yaml: yaml, job: job, logger: logger)
            }
            let profiles = LXDInstancePlan.profiles(for: job)
            let member: String?
            if let wanted = destination.targetMember, !wanted.isEmpty {
                member = wanted
            } else {
                member = try await step(.placement) { try await placement.member(for: lxd, clustered: server.environment?.serverClustered ?? false) }
            }
            let config = LXDInstancePlan.config(for: job)
            try await create(lxd, job, destination, image: image, config: config, profiles: profiles, member: member, taken: taken, logger: logger)
            existing = try await lxd.instance(name)
        }

        if existing?.status.lowercased() != "running" {
            await report(id, .inProgress, step: .start, "starting \(name)", logger: logger)
            let op = try await step(.start) { try await lxd.changeState(name, action: "start") }
            let done = try await step(.start) { try await lxd.wait(op, timeout: operationTimeout) }
            if !done.succeeded { throw DeployFailure(step: .start, message: "LXD could not start \(name): \(done.err ?? done.status)") }
        }

        await report(id, .inProgress, step: .cloudInit, "waiting for cloud-init to finish in \(name)", logger: logger)
        let status = try await waitForCloudInit(lxd, name)
        switch status.outcome {
        case .done:
            break
        case .degraded:
            await report(
                id,
                .inProgress,
                step: .cloudInit,
                level: .warning,
                "cloud-init finished with warnings: \(status.errors.joined(separator: "; "))",
                logger: logger
            )
        case .error:
            throw DeployFailure(
                step: .cloudInit,
                message: "cloud-init reported errors: \(status.errors.isEmpty ? status.detail : status.errors.joined(separator: "; "))"
            )
        case .other(let s):
            throw DeployFailure(step: .cloudInit, message: "cloud-init ended in state '\(s)': \(status.detail)")
        }
        return try await instanceInfo(lxd, name)
    }

    private func connect(_ connection: ClusterConnection) async throws -> LXDClient {
        do {
            return try await clients.client(for: connection)
        } catch {
            throw DeployFailure(step: .connect, message: "\(error)", mayCleanUp: false)
        }
    }

    /// Runs one LXD call, turning an LXD error into a failure of `name`d step.
    private func step<T: Sendable>(_ name: EventStep, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let e as LXDError {
            throw DeployFailure(step: name, message: e.message)
        }
    }

    private func applyProfile(_ lxd: LXDClient, yaml: String, job: DeploymentRendered, logger: Logger) async throws {
        let profile = try ProfileMapper.profile(yaml: yaml, egg: job.eggName, version: job.eggVersion, contentHash: job.eggContentHash)
        try await step(.profile) {
            if let current = try await lxd.profile(profile.name) {
                if current.config != profile.config || current.devices != profile.devices || current.description != profile.description {
                    try await lxd.updateProfile(profile)
                }
            } else {
                do {
                    try await lxd.createProfile(profile)
                } catch let e as LXDError where e.status == 409 || e.message.contains("already exists") {
                    try await lxd.updateProfile(profile)  // a competing deployer created it first
                }
            }
        }
    }

    private func create(
        _ lxd: LXDClient,
        _ job: DeploymentRendered,
        _ destination: DeploymentTarget,
        image: String,
        config: [String: String],
        profiles: [String],
        member: String?,
        taken: ContinuousClock.Instant,
        logger: Logger
    ) async throws {
        var spec = LXDClient.InstanceSpec(name: job.instanceName, image: image, config: config, profiles: profiles)
        // Our own overhead: from taking the job to sending the create request.
        let overhead = ContinuousClock.now - taken
        Timer(label: "iceshelves_lxd_overhead_seconds").recordNanoseconds(Int64(overhead / .nanoseconds(1)))
        var op: LXDOperation
        do {
            op = try await lxd.createInstance(spec, member: member)
            await report(
                job.deploymentId,
                .inProgress,
                step: .create,
                "creating \(job.instanceName) from \(image)\(member.map { " on \($0)" } ?? "")",
                details: ["member": member ?? "", "image": image, "overhead_ms": String(format: "%.2f", Double(overhead / .microseconds(1)) / 1000)],
                logger: logger
            )
        } catch let e as LXDError where e.kind == .api && e.message.contains("cloud-init.") {
            // A server without the cloud-init.* keys: the user.* keys that cloud-init also reads.
            logger.info("LXD refused cloud-init.* keys; using user.* keys", metadata: ["error": "\(e.message)"])
            spec = LXDClient.InstanceSpec(
                name: job.instanceName,
                image: image,
                config: LXDInstancePlan.config(for: job, modernKeys: false),
                profiles: profiles
            )
            op = try await step(.create) { try await lxd.createInstance(spec, member: member) }
        } catch let e as LXDError where e.kind == .api && e.message.contains("already exists") {
            // Another attempt of this deployment is creating it right now (a deployer killed mid-create).
            let found = try await lxd.instance(job.instanceName)
            guard let found, InstanceMarker.belongs(found.config, to: job.deploymentId) else {
                throw DeployFailure(step: .create, message: "an instance named \(job.instanceName) already exists: \(e.message)", mayCleanUp: false)
            }
            try await waitForPendingOperations(lxd, job.instanceName)
            return
        } catch let e as LXDError {
            throw DeployFailure(step: .create, message: e.message)
        }
        let done = try await step(.create) { try await lxd.wait(op, timeout: operationTimeout) }
        if !done.succeeded {
            throw DeployFailure(step: .create, message: "LXD could not create \(job.instanceName): \(done.err ?? done.status)")
        }
    }

    /// Waits for LXD operations that still work on the instance (a create or start that an
    /// earlier, killed attempt began).
    private func waitForPendingOperations(_ lxd: LXDClient, _ name: String) async throws {
        let failed = try await step(.resume) { try await lxd.waitForOperations(onInstance: name, timeout: operationTimeout) }
        if let op = failed.first {
            throw DeployFailure(step: .resume, message: "an earlier LXD operation on \(name) failed: \(op.err ?? op.status)")
        }
    }

    /// `cloud-init status --wait --format json` in the instance, retried while the instance is
    /// still booting far enough to run it.
    private func waitForCloudInit(_ lxd: LXDClient, _ name: String) async throws -> CloudInitStatus {
        let deadline = ContinuousClock.now + cloudInitTimeout
        var lastProblem = ""
        while ContinuousClock.now < deadline {
            try Task.checkCancellation()
            let left = deadline - ContinuousClock.now
            do {
                let r = try await lxd.exec(name, ["cloud-init", "status", "--wait", "--format", "json"], timeout: left)
                if let status = CloudInitStatus.parse(json: r.stdout, exitCode: r.exitCode) { return status }
                if r.exitCode == 127 || r.stdout.isEmpty && r.stderr.isEmpty {
                    lastProblem = "cloud-init is not runnable yet (exit \(r.exitCode))"
                } else if r.stderr.contains("--format") || r.stderr.contains("unrecognized") {
                    // An old cloud-init without JSON output: the exit code says it.
                    let plain = try await lxd.exec(name, ["cloud-init", "status", "--wait", "--long"], timeout: left)
                    return CloudInitStatus(
                        outcome: plain.exitCode == 0 ? .done : .error,
                        errors: plain.exitCode == 0 ? [] : [plain.stdout + plain.stderr],
                        detail: plain.stdout
                    )
                } else {
                    return CloudInitStatus(
                        outcome: .other("unreadable"),
                        errors: [],
                        detail: "exit \(r.exitCode): \(r.stdout) \(r.stderr)".trimmingCharacters(in: .whitespacesAndNewlines)
                    )
                }
            } catch let e as LXDError where e.kind == .api {
                lastProblem = e.message  // the container's init is not ready to run commands yet
            } catch let e as LXDError {
                throw DeployFailure(step: .cloudInit, message: e.message)
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw DeployFailure(
            step: .cloudInit,
            message: "cloud-init did not finish within \(cloudInitTimeout)\(lastProblem.isEmpty ? "" : " (\(lastProblem))")"
        )
    }

    /// Name, status, architecture, IPv4 addresses and member, as the original's instance_info.
    private func instanceInfo(_ lxd: LXDClient, _ name: String) async throws -> [String: String] {
        let instance = try await step(.info) { try await lxd.instance(name) }
        var state = try await step(.info) { try await lxd.instanceState(name) }
        let until = ContinuousClock.now + .seconds(2)
        while state.ipv4.isEmpty && ContinuousClock.now < until {  // DHCP may lag cloud-init by a moment; not worth more than 2 s
            try await Task.sleep(for: .milliseconds(250))
            state = try await step(.info) { try await lxd.instanceState(name) }
        }
        return [
            "name": name,
            "status": state.status,
            "architecture": instance?.architecture ?? "",
            "ipv4": state.ipv4.joined(separator: ","),
            "member": instance?.location ?? "",
        ]
    }

    // MARK: Cleanup and reporting

    /// Removes the instance after a failure or cancel, when it is ours and not to be kept.
    /// Returns `true` when an instance was removed.
    private func cleanUpAfter(
        _ job: DeploymentRendered,
        _ destination: DeploymentTarget,
        _ connection: ClusterConnection,
        failure: DeployFailure,
        cancelled: Bool,
        logger: Logger
    ) async -> Bool {
        guard failure.mayCleanUp, !destination.keepOnFailure else { return false }
        do {
            let lxd = try await clients.client(for: connection)
            let removed = try await InstanceRemover(client: lxd, timeout: operationTimeout).remove(job.instanceName, ifOwnedBy: job.deploymentId)
            if removed {
                await report(
                    job.deploymentId,
                    .inProgress,
                    step: .cleanup,
                    level: .warning,
                    "removed \(job.instanceName) after the \(cancelled ? "cancel" : "failure")",
                    logger: logger
                )
            }
            return removed
        } catch {
            logger.error("cleanup failed; the instance may be left behind", metadata: ["instance": "\(job.instanceName)", "error": "\(error)"])
            await report(
                job.deploymentId,
                .inProgress,
                step: .cleanup,
                level: .error,
                "could not remove \(job.instanceName): \(error)",
                logger: logger
            )
            return false
        }
    }

    private func report(
        _ id: String,
        _ status: DeploymentStatus,
        step: EventStep,
        level: LogLevel = .info,
        _ message: String,
        details: [String: String] = [:],
        logger: Logger
    ) async {
        if level >= .error {
            logger.error("deployment \(status.rawValue)", metadata: ["step": "\(step.rawValue)", "reason": "\(message)"])
        } else {
            logger.info("\(message)", metadata: ["step": "\(step.rawValue)", "status": "\(status.rawValue)"])
        }
        await bus.publishProgress(
            DeploymentEvent(status: status, step: step, level: level, message: message, details: details),
            deploymentId: id,
            logger: logger
        )
    }
}
