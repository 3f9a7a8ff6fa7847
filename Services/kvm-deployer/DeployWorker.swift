import Foundation
import IceShelvesBus
import IceShelvesContracts
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
    /// How often the console log is read while waiting for cloud-init.
    var pollInterval: Duration = .seconds(2)

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
            let removed = failure.mayCleanUp && !keep ? await cleanUp(job, settings, cancelled: cancelled, logger: logger) : false
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

    func deploy(
        _ job: DeploymentRendered,
        _ settings: LibvirtSettings,
        taken: ContinuousClock.Instant,
        logger: Logger
    ) async throws -> [String: String] {
        let id = job.deploymentId
        let name = job.instanceName
        let pool = settings.storagePool
        let volumes = VolumePlan(instance: name)
        await report(id, .inProgress, step: .connect, "connecting to \(settings)", logger: logger)
        let libvirt: LibvirtConnection
        do {
            libvirt = try await opener.open(settings)
        } catch {
            throw DeployFailure(step: .connect, message: "\(error)", mayCleanUp: false)
        }

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
            await report(id, .inProgress, step: .resume, "VM \(name) exists from an earlier attempt (\(state.rawValue)); continuing", logger: logger)
            if !state.isActive, try await marker(libvirt, pool: pool, volumes) == nil {
                try await step(.start) { try await libvirt.startDomain(name) }
            }
        } else {
            try await create(libvirt, job, settings, volumes: volumes, taken: taken, logger: logger)
        }

        await report(id, .inProgress, step: .cloudInit, "waiting for cloud-init to finish in \(name) (serial console marker)", logger: logger)
        let status = try await waitForCloudInit(libvirt, name: name, pool: pool, volumes)
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
        await report(id, .inProgress, step: .create, "creating the overlay on \(image), the seed and the console log in \(pool)", logger: logger)
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
        await report(
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

    private func marker(_ libvirt: LibvirtConnection, pool: String, _ volumes: VolumePlan) async throws -> CloudInitMarker? {
        guard try await libvirt.volume(volumes.consoleName, pool: pool) != nil else { return nil }
        return CloudInitMarker.find(in: try await libvirt.download(volume: volumes.consoleName, pool: pool))
    }

    /// Reads the console log until the marker appears; a VM that stops first has failed.
    private func waitForCloudInit(_ libvirt: LibvirtConnection, name: String, pool: String, _ volumes: VolumePlan) async throws -> CloudInitMarker {
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

    private func cleanUp(_ job: DeploymentRendered, _ settings: LibvirtSettings, cancelled: Bool, logger: Logger) async -> Bool {
        do {
            let libvirt = try await opener.open(settings)
            let outcome = try await VMRemover(libvirt: libvirt, pool: settings.storagePool).remove(job.instanceName, ifOwnedBy: job.deploymentId)
            guard outcome == .removed else { return false }
            await report(
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
