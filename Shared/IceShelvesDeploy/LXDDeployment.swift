import Foundation
import IceShelvesContracts
import IceShelvesLXD
import Logging
import Metrics

/// Where a deployment's progress goes: the bus for `lxd-deployer`, the agent-broker over HTTP
/// for `iceshelves-agent`.
public protocol DeploymentReporter: Sendable {
    func report(_ deploymentId: String, _ event: DeploymentEvent, logger: Logger) async
}

extension DeploymentReporter {
    /// Reports an event made of its parts.
    public func report(
        _ id: String,
        _ status: DeploymentStatus,
        step: EventStep,
        level: LogLevel = .info,
        _ message: String,
        details: [String: String] = [:],
        logger: Logger
    ) async {
        await report(id, DeploymentEvent(status: status, step: step, level: level, message: message, details: details), logger: logger)
    }
}

/// The LXD deploy steps that `lxd-deployer` and `iceshelves-agent` both run (one code path):
/// check the name, profile, place, create, start, wait for cloud-init, read the instance's facts.
///
/// Idempotent per deployment id: every instance carries ``InstanceMarker/deploymentId``; a job
/// handed out again finds its instance and continues from where it stopped.
public struct LXDDeployment: Sendable {
    let reporter: any DeploymentReporter
    let placement = Placement()
    /// How long cloud-init may take after the start.
    let cloudInitTimeout: Duration
    /// How long an LXD operation (create from image, start, delete) may take.
    let operationTimeout: Duration
    /// Where a matching deployment claims a never-started instance instead of creating one.
    let warmPools: (any WarmPoolClaimer)?

    public init(
        reporter: any DeploymentReporter,
        cloudInitTimeout: Duration,
        operationTimeout: Duration,
        warmPools: (any WarmPoolClaimer)? = nil
    ) {
        self.reporter = reporter
        self.cloudInitTimeout = cloudInitTimeout
        self.operationTimeout = operationTimeout
        self.warmPools = warmPools
    }

    /// Deploys `job` with an LXD client already connected to its cluster; returns the instance's
    /// facts (the original's `instance_info`). Throws ``DeployFailure``, or `CancellationError`.
    public func run(
        _ job: DeploymentRendered,
        on lxd: LXDClient,
        destination: DeploymentTarget,
        taken: ContinuousClock.Instant = .now,
        logger: Logger
    ) async throws -> [String: String] {
        let id = job.deploymentId
        let name = job.instanceName
        let server = try await step(.connect) { try await lxd.server() }

        var existing = try await step(.inspect) { try await lxd.instance(name) }
        if let found = existing, !InstanceMarker.belongs(found.config, to: id), WarmPoolMarker.isUnfinishedClaim(found),
            warmPools?.isPoolName(name) == false
        {
            // A claim renamed this pool instance, then its deployer stopped before preparing it.
            await reporter.report(
                id,
                .inProgress,
                step: .resume,
                "\(name) is a warm-pool instance an earlier attempt claimed; finishing the claim",
                logger: logger
            )
            try await step(.create) { try await ClaimedInstance(lxd: lxd).prepare(job) }
            existing = try await step(.inspect) { try await lxd.instance(name) }
        } else if let found = existing {
            guard InstanceMarker.belongs(found.config, to: id) else {
                let owner = found.config[InstanceMarker.deploymentId].map { "deployment \($0)" } ?? "something IceShelves did not create"
                throw DeployFailure(
                    step: .inspect,
                    message: "an instance named \(name) already exists and belongs to \(owner); choose another name",
                    mayCleanUp: false
                )
            }
            await reporter.report(
                id,
                .inProgress,
                step: .resume,
                "instance \(name) exists from an earlier attempt (\(found.status)); continuing",
                logger: logger
            )
            try await waitForPendingOperations(lxd, name)
            // That attempt may have started it meanwhile.
            existing = try await step(.inspect) { try await lxd.instance(name) }
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
            let wanted = destination.targetMember.flatMap { $0.isEmpty ? nil : $0 }
            if try await claim(lxd, job, image: image, profiles: profiles, member: wanted, logger: logger) {
                existing = try await step(.inspect) { try await lxd.instance(name) }
            } else {
                let member: String?
                if let wanted {
                    member = wanted
                } else {
                    member = try await step(.placement) {
                        try await placement.member(for: lxd, clustered: server.environment?.serverClustered ?? false)
                    }
                }
                let config = LXDInstancePlan.config(for: job)
                try await create(
                    lxd,
                    job,
                    destination,
                    image: image,
                    config: config,
                    profiles: profiles,
                    member: member,
                    taken: taken,
                    logger: logger
                )
                existing = try await lxd.instance(name)
            }
        }

        if existing?.status.lowercased() != "running" {
            await reporter.report(id, .inProgress, step: .start, "starting \(name)", logger: logger)
            try await start(lxd, name, deploymentId: id, logger: logger)
        }

        await reporter.report(id, .inProgress, step: .cloudInit, "waiting for cloud-init to finish in \(name)", logger: logger)
        try await LXDCloudInitWait(lxd: lxd, name: name, timeout: cloudInitTimeout).wait().accept(id, reporter: reporter, logger: logger)
        return try await instanceInfo(lxd, name)
    }

    /// Claims a warm-pool instance when a pool matches, and says in the event log which path
    /// the deployment takes (`warm_pool`: `hit` or `miss`). Returns `true` on a hit, once the
    /// instance carries the deployment's config and seed.
    private func claim(
        _ lxd: LXDClient,
        _ job: DeploymentRendered,
        image: String,
        profiles: [String],
        member: String?,
        logger: Logger
    )
        async throws -> Bool
    {
        guard let warmPools else { return false }
        switch await warmPools.claim(job, image: image, profiles: profiles, member: member, on: lxd, logger: logger) {
        case .noPool:
            return false
        case .miss:
            await reporter.report(
                job.deploymentId,
                .inProgress,
                step: .create,
                "no free warm-pool instance for \(image) (pool miss); creating from the image",
                details: ["warm_pool": "miss", "image": image],
                logger: logger
            )
            return false
        case .claimed(let from):
            await reporter.report(
                job.deploymentId,
                .inProgress,
                step: .create,
                "claimed warm-pool instance \(from) as \(job.instanceName) (pool hit)",
                details: ["warm_pool": "hit", "image": image, "pool_instance": from],
                logger: logger
            )
            try await step(.create) { try await ClaimedInstance(lxd: lxd).prepare(job) }
            return true
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
            await reporter.report(
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
            // Another attempt of this deployment may have created it at the same moment ("Instance
            // is busy running a create operation"): once its operations end, its instance is ours.
            if let found = try await instanceAfterItsOperations(lxd, job.instanceName, step: .create),
                InstanceMarker.belongs(found.config, to: job.deploymentId)
            {
                return
            }
            throw DeployFailure(step: .create, message: "LXD could not create \(job.instanceName): \(done.err ?? done.status)")
        }
    }

    /// Starts the instance. When LXD refuses because it is running already, another attempt of
    /// this deployment started it (a deployer whose connection dropped goes on while the broker
    /// hands the job to another one): that is not a failure, and removing the instance would
    /// break the other attempt.
    private func start(_ lxd: LXDClient, _ name: String, deploymentId: String, logger: Logger) async throws {
        let refusal: String
        do {
            let op = try await lxd.changeState(name, action: "start")
            let done = try await step(.start) { try await lxd.wait(op, timeout: operationTimeout) }
            if done.succeeded { return }
            refusal = done.err ?? done.status
        } catch let e as LXDError {
            refusal = e.message
        }
        guard try await instanceAfterItsOperations(lxd, name, step: .start)?.status.lowercased() == "running" else {
            throw DeployFailure(step: .start, message: "LXD could not start \(name): \(refusal)")
        }
        await reporter.report(
            deploymentId,
            .inProgress,
            step: .resume,
            "\(name) is running already (another attempt of this deployment started it); continuing",
            logger: logger
        )
    }

    /// The instance once the operations still working on it have ended (another attempt's create
    /// or start, whose outcome is theirs to report: a failed one is not an error here).
    private func instanceAfterItsOperations(_ lxd: LXDClient, _ name: String, step failingStep: EventStep) async throws -> LXDInstance? {
        _ = try? await lxd.waitForOperations(onInstance: name, timeout: operationTimeout)
        return try await step(failingStep) { try await lxd.instance(name) }
    }

    /// Waits for LXD operations that still work on the instance (a create or start that an
    /// earlier, killed attempt began).
    private func waitForPendingOperations(_ lxd: LXDClient, _ name: String) async throws {
        let failed = try await step(.resume) { try await lxd.waitForOperations(onInstance: name, timeout: operationTimeout) }
        if let op = failed.first {
            throw DeployFailure(step: .resume, message: "an earlier LXD operation on \(name) failed: \(op.err ?? op.status)")
        }
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
    public func cleanUp(
        after job: DeploymentRendered,
        keepOnFailure: Bool,
        failure: DeployFailure,
        cancelled: Bool,
        client: @Sendable () async throws -> LXDClient,
        logger: Logger
    ) async -> Bool {
        guard failure.mayCleanUp, !keepOnFailure else { return false }
        do {
            let lxd = try await client()
            // A claimed pool instance that failed (or was cancelled) before it got our marker is ours too.
            let unfinishedClaim = try await lxd.instance(job.instanceName).map(WarmPoolMarker.isUnfinishedClaim) ?? false
            let removed = try await InstanceRemover(client: lxd, timeout: operationTimeout).remove(
                job.instanceName,
                ifOwnedBy: unfinishedClaim ? nil : job.deploymentId
            )
            if removed {
                await reporter.report(
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
            await reporter.report(
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
}
