import Foundation
import IceShelvesContracts
import IceShelvesDeploy
import IceShelvesLibvirt
import Logging
import Metrics

/// The KVM deploy steps that `kvm-deployer` and `iceshelves-agent` both run (one code path):
/// check the name, base image, overlay volume, seed upload, console volume, define, start, wait
/// for the cloud-init marker on the serial console, read the VM's facts.
///
/// Idempotent per deployment id: the domain carries the deployment id in its `<metadata>`; a job
/// handed out again finds its domain and continues from where it stopped, never defining a second one.
public struct KVMDeployment: Sendable {
    let reporter: any DeploymentReporter
    /// How long cloud-init may take after the start.
    let cloudInitTimeout: Duration
    /// How often the console log is read while waiting for cloud-init.
    let pollInterval: Duration

    public init(reporter: any DeploymentReporter, cloudInitTimeout: Duration, pollInterval: Duration = .seconds(2)) {
        self.reporter = reporter
        self.cloudInitTimeout = cloudInitTimeout
        self.pollInterval = pollInterval
    }

    /// Deploys `job` on an open libvirt connection with the cluster's (or the agent's) `settings`;
    /// returns the VM's facts. Throws ``DeployFailure``, or `CancellationError`.
    public func run(
        _ job: DeploymentRendered,
        on libvirt: LibvirtConnection,
        settings: LibvirtSettings,
        taken: ContinuousClock.Instant = .now,
        logger: Logger
    ) async throws -> [String: String] {
        let id = job.deploymentId
        let name = job.instanceName
        let pool = settings.storagePool
        let volumes = VolumePlan(instance: name)

        if let xml = try await step(.inspect, { try await libvirt.domainXML(name) }) {
            let owner = DomainPlan.deploymentId(inDomainXML: xml)
            guard owner == id else {
                throw DeployFailure(
                    step: .inspect,
                    message:
                        "a VM named \(name) already exists and belongs to \(owner.map { "deployment \($0)" } ?? "something IceShelves did not create"); choose another name",
                    mayCleanUp: false
                )
            }
            let state = try await step(.resume) { try await libvirt.domainState(name) } ?? .unknown
            await reporter.report(
                id,
                .inProgress,
                step: .resume,
                "VM \(name) exists from an earlier attempt (\(state.rawValue)); continuing",
                logger: logger
            )
            if !state.isActive, try await marker(libvirt, pool: pool, volumes) == nil {
                try await step(.start) { try await libvirt.startDomain(name) }
            }
        } else {
            try await create(libvirt, job, settings, volumes: volumes, taken: taken, logger: logger)
        }

        await reporter.report(
            id,
            .inProgress,
            step: .cloudInit,
            "waiting for cloud-init to finish in \(name) (serial console marker)",
            logger: logger
        )
        try await waitForCloudInit(libvirt, name: name, pool: pool, volumes).accept(id, reporter: reporter, logger: logger)
        return try await instanceInfo(libvirt, name)
    }

    private func create(
        _ libvirt: LibvirtConnection,
        _ job: DeploymentRendered,
        _ settings: LibvirtSettings,
        volumes: VolumePlan,
        taken: ContinuousClock.Instant,
        logger: Logger
    ) async throws {
        let id = job.deploymentId
        let pool = settings.storagePool
        guard let seedBase64 = job.seedISOBase64, let seed = Data(base64Encoded: seedBase64) else {
            throw DeployFailure(step: .validate, message: "the job carries no NoCloud seed (seed_iso_base64)", mayCleanUp: false)
        }
        let image = job.destination?.image ?? job.baseImage
        guard let base = try await step(.image, { try await libvirt.volume(image, pool: pool) }) else {
            throw DeployFailure(
                step: .image,
                message:
                    "base image volume '\(image)' is not in storage pool '\(pool)'; upload it (see docs/kvm-deployer.md) or pick another base_image",
                mayCleanUp: false
            )
        }
        guard try await step(.inspect, { try await libvirt.networkExists(settings.network) }) else {
            throw DeployFailure(step: .inspect, message: "network '\(settings.network)' does not exist on the hypervisor", mayCleanUp: false)
        }
        let kernel = try await step(.image) { try await libvirt.volume(image + ".vmlinuz", pool: pool) }
        let initrd = try await step(.image) { try await libvirt.volume(image + ".initrd", pool: pool) }
        // Volumes without a domain are debris of an attempt killed before its define: start over.
        for v in volumes.all { _ = try await step(.create) { try await libvirt.deleteVolume(v, pool: pool) } }

        let diskGB = job.destination?.configOverrides["disk_gb"].flatMap(Int.init) ?? job.minDiskGB
        await reporter.report(
            id,
            .inProgress,
            step: .create,
            "creating the overlay on \(image), the seed and the console log in \(pool)",
            logger: logger
        )
        _ = try await step(.create) {
            try await libvirt.createVolume(
                pool: pool,
                xml: volumes.rootXML(capacity: VolumePlan.rootCapacity(requestedGB: diskGB, base: base.capacityBytes), basePath: base.path)
            )
        }
        _ = try await step(.create) { try await libvirt.createVolume(pool: pool, xml: VolumePlan.rawXML(name: volumes.seedName, bytes: seed.count)) }
        let uploadStart = ContinuousClock.now
        try await step(.create) { try await libvirt.upload([UInt8](seed), toVolume: volumes.seedName, pool: pool) }
        let upload = ContinuousClock.now - uploadStart
        let console = try await step(.create) {
            try await libvirt.createVolume(pool: pool, xml: VolumePlan.rawXML(name: volumes.consoleName, bytes: 0))
        }

        var plan = DomainPlan(
            name: job.instanceName,
            deploymentId: id,
            domainType: settings.domainType,
            memoryMiB: job.destination?.configOverrides["memory_mb"].flatMap(Int.init),
            vcpus: job.destination?.configOverrides["vcpus"].flatMap(Int.init),
            pool: pool,
            network: settings.network,
            consoleLogPath: console.path,
            kernel: kernel?.path,
            initrd: initrd?.path,
            fragment: job.kvmConfig
        )
        plan.minMemoryMiB = job.minMemoryMB
        plan.minVCPUs = job.minCores
        if let cmdline = job.destination?.configOverrides["cmdline"] { plan.cmdline = cmdline }
        let xml: String
        do {
            xml = try plan.xml()
        } catch let e as LibvirtError {
            throw DeployFailure(step: .validate, message: e.message)
        }
        try await step(.create) { try await libvirt.defineDomain(xml: xml) }
        // Our own overhead: from taking the job to virDomainCreate, without the seed upload.
        let overhead = ContinuousClock.now - taken - upload
        Timer(label: "iceshelves_kvm_overhead_seconds").recordNanoseconds(Int64(overhead / .nanoseconds(1)))
        await reporter.report(
            id,
            .inProgress,
            step: .start,
            "starting \(job.instanceName) (\(settings.domainType))",
            details: [
                "overhead_ms": String(format: "%.2f", Double(overhead / .microseconds(1)) / 1000),
                "upload_ms": String(format: "%.2f", Double(upload / .microseconds(1)) / 1000),
            ],
            logger: logger
        )
        try await step(.start) { try await libvirt.startDomain(job.instanceName) }
    }

    private func marker(_ libvirt: LibvirtConnection, pool: String, _ volumes: VolumePlan) async throws -> CloudInitStatus? {
        guard try await libvirt.volume(volumes.consoleName, pool: pool) != nil else { return nil }
        return CloudInitMarker.find(in: try await libvirt.download(volume: volumes.consoleName, pool: pool))
    }

    /// Reads the console log until the marker appears; a VM that stops first has failed.
    private func waitForCloudInit(_ libvirt: LibvirtConnection, name: String, pool: String, _ volumes: VolumePlan) async throws -> CloudInitStatus {
        let deadline = ContinuousClock.now + cloudInitTimeout
        while ContinuousClock.now < deadline {
            try Task.checkCancellation()
            if let found = try await step(.cloudInit, { try await marker(libvirt, pool: pool, volumes) }) { return found }
            let state = try await step(.cloudInit) { try await libvirt.domainState(name) }
            if state == nil || state?.isActive == false {
                if let found = try await step(.cloudInit, { try await marker(libvirt, pool: pool, volumes) }) { return found }
                throw DeployFailure(step: .cloudInit, message: "\(name) stopped (\(state?.rawValue ?? "gone")) before cloud-init finished")
            }
            try await Task.sleep(for: pollInterval)
        }
        throw DeployFailure(step: .cloudInit, message: "cloud-init did not finish within \(cloudInitTimeout) (no marker on the serial console)")
    }

    /// Name, state, MAC and addresses, as `instance_info`.
    private func instanceInfo(_ libvirt: LibvirtConnection, _ name: String) async throws -> [String: String] {
        let state = try await step(.info) { try await libvirt.domainState(name) }
        let xml = try await step(.info) { try await libvirt.domainXML(name) } ?? ""
        var addresses = try await step(.info) { try await libvirt.domainAddresses(name) }
        let until = ContinuousClock.now + .seconds(2)
        while addresses.isEmpty && state?.isActive == true && ContinuousClock.now < until {
            try await Task.sleep(for: .milliseconds(250))
            addresses = try await step(.info) { try await libvirt.domainAddresses(name) }
        }
        return [
            "name": name,
            "status": state?.rawValue ?? "unknown",
            "mac": DomainPlan.macAddresses(inDomainXML: xml).joined(separator: ","),
            "ipv4": addresses.filter { !$0.contains(":") }.joined(separator: ","),
            "addresses": addresses.joined(separator: ","),
        ]
    }

    /// Runs one libvirt call, turning a libvirt error into a failure of the `name`d step.
    private func step<T: Sendable>(_ name: EventStep, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let e as LibvirtError {
            throw DeployFailure(step: name, message: e.message)
        }
    }

    // MARK: Cleanup and reporting

    /// Removes the VM and its volumes after a failure or cancel, when they are ours and not to be
    /// kept. Returns `true` when something was removed.
    public func cleanUp(
        after job: DeploymentRendered,
        keepOnFailure: Bool,
        failure: DeployFailure,
        cancelled: Bool,
        pool: String,
        connection: @Sendable () async throws -> LibvirtConnection,
        logger: Logger
    ) async -> Bool {
        guard failure.mayCleanUp, !keepOnFailure else { return false }
        do {
            let libvirt = try await connection()
            let outcome = try await VMRemover(libvirt: libvirt, pool: pool).remove(job.instanceName, ifOwnedBy: job.deploymentId)
            guard outcome == .removed else { return false }
            await reporter.report(
                job.deploymentId,
                .inProgress,
                step: .cleanup,
                level: .warning,
                "removed \(job.instanceName) and its volumes after the \(cancelled ? "cancel" : "failure")",
                logger: logger
            )
            return true
        } catch {
            logger.error(
                "cleanup failed; the VM or its volumes may be left behind",
                metadata: ["instance": "\(job.instanceName)", "error": "\(error)"]
            )
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
