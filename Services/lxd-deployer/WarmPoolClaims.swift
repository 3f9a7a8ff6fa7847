import IceShelvesContracts
import IceShelvesDeploy
import IceShelvesLXD
import Logging

/// The deployer's ``WarmPoolClaimer``: finds the cluster's pool that matches the deployment and
/// renames one of its free instances (never started, of the image's current fingerprint) to the
/// deployment's name. LXD's rename is atomic: of two deployers racing for one instance, one gets
/// it and the other is told the instance is gone, and moves on to the next.
struct WarmPoolClaims: WarmPoolClaimer {
    let book: WarmPoolBook
    let operationTimeout: Duration

    func isPoolName(_ name: String) -> Bool { name.hasPrefix(book.prefix + "-") }

    func claim(
        _ job: DeploymentRendered,
        image: String,
        profiles: [String],
        member: String?,
        on lxd: LXDClient,
        logger: Logger
    ) async
        -> WarmPoolClaim
    {
        guard let clusterId = job.destination?.clusterId,
            let pool = book.pools(clusterId).first(where: {
                $0.size > 0 && $0.image == image && $0.profileSet == profiles && (member == nil || $0.member == nil || $0.member == member)
            })
        else { return .noPool }
        let id = book.poolId(clusterId, pool)
        do {
            let fingerprint = try await lxd.image(image)?.fingerprint
            // LXD lists (and would rename) an instance whose create is still unpacking the image:
            // only instances no LXD operation works on are free. The list first, then the busy
            // ones: a create that starts in between is not listed.
            let listed = try await lxd.instances()
            let busy = try await lxd.busyInstances()
            let free = listed.filter {
                $0.name.hasPrefix(book.prefix + "-") && $0.config[WarmPoolMarker.pool] == id && $0.config[WarmPoolMarker.fingerprint] == fingerprint
                    && $0.status.lowercased() == "stopped" && (member == nil || $0.location == member) && !busy.contains($0.name)
            }
            for candidate in free.shuffled() {
                try Task.checkCancellation()
                do {
                    let op = try await lxd.renameInstance(candidate.name, to: job.instanceName)
                    let done = try await lxd.wait(op, timeout: operationTimeout)
                    if done.succeeded {
                        book.recordClaim(clusterId, pool, hit: true)
                        return .claimed(from: candidate.name)
                    }
                    logger.debug("lost a warm-pool claim", metadata: ["instance": "\(candidate.name)", "error": "\(done.err ?? done.status)"])
                } catch let e as LXDError where e.kind == .api {
                    logger.debug("lost a warm-pool claim", metadata: ["instance": "\(candidate.name)", "error": "\(e.message)"])
                    // The deployment's name is taken (an earlier attempt's instance): creating will tell.
                    if try await lxd.instance(job.instanceName) != nil { break }
                }
            }
        } catch {
            logger.warning("warm pool unavailable; creating from the image", metadata: ["error": "\(error)"])
        }
        book.recordClaim(clusterId, pool, hit: false)
        return .miss
    }
}
