import Foundation
import IceShelvesBus
import IceShelvesContracts
import IceShelvesDeploy
import IceShelvesLXD
import IceShelvesService
import Logging
import ServiceLifecycle

/// Keeps every cluster's warm pools at their size, in the background and at low priority: every
/// `interval` it asks the gateway for the pools (``WarmPoolsRequest``), then per cluster
///
/// - removes pool instances whose pool is gone (or has size 0), whose image fingerprint is no
///   longer the alias's (the alias moved), which were started, or which exceed the size;
/// - creates the missing ones, one at a time, from the image's fingerprint, with the pool's
///   profiles, on the pool's member (or the usual placement), marked with ``WarmPoolMarker``,
///   never started, one name per slot (``slotName(_:_:)``). It creates only while no deployment runs in this process
///   and none is being created or booted on the LXD server by anyone else (``othersAreDeploying(_:)``), and only
///   while the storage pool keeps room (``minimumFree(imageSize:)``); otherwise the pool's status carries a warning.
struct WarmPoolFiller: Service {
    let bus: AMQPClient
    let book: WarmPoolBook
    let clients: ClientCache
    let connections: any ConnectionSource
    let activity: DeployActivity
    let interval: Duration
    let operationTimeout: Duration
    let logger: Logger

    /// Free space a pool instance must leave on the storage pool: four times the (compressed)
    /// image, which covers its unpacked rootfs, plus 512 MiB.
    static func minimumFree(imageSize: UInt64) -> UInt64 { imageSize * 4 + 512 * 1_048_576 }

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    await cycle()
                    try await Task.sleep(for: interval)
                }
            }
        } catch is CancellationError {
            // Shutting down: a create in flight goes on in LXD and counts at the next fill.
        }
    }

    func cycle() async {
        let config: WarmPoolsConfig
        do {
            config = try await bus.call(Envelope(WarmPoolsRequest()), service: .apiGateway, expecting: WarmPoolsConfig.self, timeout: .seconds(10))
                .payload
        } catch {
            logger.debug("no warm-pool configuration from the gateway", metadata: ["error": "\(error)"])
            return
        }
        for clusterId in book.replace(config) {
            if Task.isCancelled { return }
            do {
                try await fill(clusterId, pools: book.pools(clusterId))
                if book.pools(clusterId).isEmpty { book.forget(clusterId) }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("filling the warm pools failed", metadata: ["cluster_id": "\(clusterId)", "error": "\(error)"])
            }
        }
    }

    func fill(_ clusterId: String, pools: [WarmPoolSpec]) async throws {
        let connection = try await connections.connection(clusterId: clusterId, deploymentId: nil, purpose: .warmPool)
        let lxd = try await clients.client(for: connection)
        let remover = InstanceRemover(client: lxd, timeout: operationTimeout)
        let mine = try await lxd.instances().filter {
            $0.name.hasPrefix(book.prefix + "-") && ($0.config[WarmPoolMarker.pool] ?? "").hasPrefix("\(book.prefix)/\(clusterId)/")
        }
        let wanted = Dictionary(pools.map { (book.poolId(clusterId, $0), $0) }, uniquingKeysWith: { a, _ in a })
        for instance in mine where (wanted[instance.config[WarmPoolMarker.pool] ?? ""]?.size ?? 0) == 0 {
            _ = try await remover.remove(instance.name, ifOwnedBy: nil)
            logger.info("removed a warm-pool instance whose pool is gone", metadata: ["instance": "\(instance.name)"])
        }
        let clustered = try await lxd.server().environment?.serverClustered ?? false
        // Instances an LXD operation works on: a pool instance still being unpacked is not stale.
        let busy = try await lxd.busyInstances()
        for pool in pools where pool.size > 0 {
            try Task.checkCancellation()
            let id = book.poolId(clusterId, pool)
            guard let image = try await lxd.image(pool.image) else {
                book.recordFill(clusterId, pool, ready: 0, warning: "image \(pool.image) is not on the LXD server")
                continue
            }
            let slots = (0..<pool.size).map { slotName(pool, $0) }
            var ready = Set<String>()
            for instance in mine where instance.config[WarmPoolMarker.pool] == id {
                if busy.contains(instance.name) && slots.contains(instance.name) {
                    ready.insert(instance.name)  // being created (by this or another deployer), or being claimed
                    continue
                }
                let fresh = instance.config[WarmPoolMarker.fingerprint] == image.fingerprint && instance.status.lowercased() == "stopped"
                if fresh && slots.contains(instance.name) {
                    ready.insert(instance.name)
                } else {
                    _ = try await remover.remove(instance.name, ifOwnedBy: nil)
                    logger.info(
                        "replaced a warm-pool instance",
                        metadata: ["instance": "\(instance.name)", "reason": "\(fresh ? "over the pool size" : "stale image or started")"]
                    )
                }
            }
            var warning: String?
            for slot in slots where !ready.contains(slot) {
                guard activity.isIdle else { break }  // low priority: a deployment is running here
                guard try await !othersAreDeploying(lxd) else { break }
                if let short = try await diskShortage(lxd, pool: pool, imageSize: image.size, clustered: clustered) {
                    warning = short
                    logger.warning("warm pool left short", metadata: ["cluster_id": "\(clusterId)", "image": "\(pool.image)", "reason": "\(short)"])
                    break
                }
                if try await create(lxd, slot, pool, id: id, fingerprint: image.fingerprint, clustered: clustered) {
                    ready.insert(slot)
                    book.recordFill(clusterId, pool, ready: ready.count, warning: nil)
                }
            }
            book.recordFill(clusterId, pool, ready: ready.count, warning: warning)
        }
    }

    /// How long after its start an instance of a deployment counts as booting (cloud-init's first boot).
    static let bootWindow: TimeInterval = 30

    /// Whether a deployment is being made on this LXD server by another process (another
    /// deployer, an agent, a person): an LXD operation other than a command (`exec`) works on an
    /// instance outside the pools (a create or start), or an instance that carries a deployment
    /// marker was started less than ``bootWindow`` ago. Filling waits for both, so that the
    /// unpacking of a pool instance never takes disk and CPU from a deployment's boot.
    func othersAreDeploying(_ lxd: LXDClient) async throws -> Bool {
        let outsidePools = try await lxd.runningOperations().filter { !$0.isExec }.flatMap { $0.resources?["instances"] ?? [] }
            .contains { !$0.contains("/instances/\(book.prefix)-") }
        if outsidePools { return true }
        let now = Date()
        return try await lxd.instances().contains { instance in
            guard instance.config[InstanceMarker.deploymentId] != nil, let started = instance.lastStarted else { return false }
            return now.timeIntervalSince(started) < Self.bootWindow
        }
    }

    /// A pool's instances have one name per slot (`<prefix>-<pool key>-<n>`, n < size): two deployers
    /// filling the same pool cannot overfill it, because LXD refuses the second create of a name.
    func slotName(_ pool: WarmPoolSpec, _ slot: Int) -> String { "\(book.prefix)-\(pool.key.prefix(8))-\(slot)" }

    /// Creates one pool instance; `false` when another deployer is creating that slot.
    private func create(
        _ lxd: LXDClient,
        _ name: String,
        _ pool: WarmPoolSpec,
        id: String,
        fingerprint: String,
        clustered: Bool
    ) async throws
        -> Bool
    {
        var member = pool.member
        if member == nil { member = try await Placement().member(for: lxd, clustered: clustered) }
        let spec = LXDClient.InstanceSpec(
            name: name,
            image: fingerprint,
            config: [WarmPoolMarker.pool: id, WarmPoolMarker.fingerprint: fingerprint],
            profiles: pool.profileSet
        )
        let op: LXDOperation
        do {
            op = try await lxd.createInstance(spec, member: member)
        } catch let e as LXDError where e.kind == .api && (e.message.contains("already exists") || e.message.contains("busy")) {
            return false
        }
        let done = try await lxd.wait(op, timeout: operationTimeout)
        if !done.succeeded {
            let reason = done.err ?? done.status
            if reason.contains("already exists") || reason.contains("busy") { return false }  // another deployer's create of this slot
            throw LXDError(.api, "creating warm-pool instance \(name) failed: \(reason)")
        }
        logger.info("warm-pool instance ready", metadata: ["instance": "\(name)", "image": "\(pool.image)", "member": "\(member ?? "")"])
        return true
    }

    /// Why one more instance would not fit on the storage pool of the pool's root disk, or `nil`.
    private func diskShortage(_ lxd: LXDClient, pool: WarmPoolSpec, imageSize: UInt64, clustered: Bool) async throws -> String? {
        var storage = "default"
        for name in pool.profileSet {
            if let p = try await lxd.profile(name)?.devices.values.first(where: { $0["type"] == "disk" && $0["path"] == "/" })?["pool"] {
                storage = p
            }
        }
        let space = try await lxd.storagePoolSpace(storage, member: clustered ? pool.member : nil)
        let free = space.total > space.used ? space.total - space.used : 0
        let needed = Self.minimumFree(imageSize: imageSize)
        guard free < needed else { return nil }
        return "storage pool \(storage) has \(free / 1_048_576) MiB free; a pool instance needs \(needed / 1_048_576) MiB"
    }
}
