import IceShelvesContracts
import IceShelvesLXD
import Logging

/// What happened when a deployment looked for a warm-pool instance.
public enum WarmPoolClaim: Sendable, Equatable {
    /// A pool instance (`from`) was renamed to the deployment's instance name: a pool hit.
    case claimed(from: String)
    /// A pool matches the deployment but had no free instance: a pool miss.
    case miss
    /// No pool matches the deployment's image, profiles and member.
    case noPool
}

/// Claims a never-started warm-pool instance for a deployment (the lxd-deployer has one; the agent
/// has none and always creates from the image).
public protocol WarmPoolClaimer: Sendable {
    /// Renames a free pool instance that matches the image, the profiles and (when given) the
    /// member to `job.instanceName`. A rename that loses a race moves on to the next instance.
    func claim(
        _ job: DeploymentRendered,
        image: String,
        profiles: [String],
        member: String?,
        on lxd: LXDClient,
        logger: Logger
    ) async
        -> WarmPoolClaim

    /// Whether `name` is a pool instance's own name (`<prefix>-…`), which no deployment may take:
    /// a free pool instance of that name is not a claim to finish.
    func isPoolName(_ name: String) -> Bool
}

/// The config keys that mark a warm-pool instance. Pool instances carry no deployment marker, so
/// no deployment (and no user list) ever counts them as its own until one claims them.
public enum WarmPoolMarker {
    /// `<prefix>/<cluster id>/<pool key>`: the pool the instance belongs to.
    public static let pool = "user.iceshelves.warm-pool"
    /// The image fingerprint the instance was created from (stale once the alias moves).
    public static let fingerprint = "user.iceshelves.warm-pool-image"

    /// `true` for a pool instance that a claim renamed but did not finish preparing (a deployer
    /// killed between the rename and the config change): the deployment of that name adopts it.
    public static func isUnfinishedClaim(_ instance: LXDInstance) -> Bool {
        instance.config[pool] != nil && instance.config[InstanceMarker.deploymentId] == nil && instance.status.lowercased() == "stopped"
    }
}
