/// One warm pool of a cluster: how many never-started instances of `image` (with `profiles`, on
/// `member` when given) the LXD deployer keeps ready, so a deployment that matches costs a start
/// plus cloud-init instead of unpacking the image. Set by an admin (`PUT /api/clusters/{id}/warm-pools`).
public struct WarmPoolSpec: Codable, Sendable, Equatable, Hashable {
    /// The largest size a pool may have.
    public static let maxSize = 50

    /// The image alias (or fingerprint), as a deployment names it (`destination.image` or the egg's `base_image`).
    public var image: String
    /// How many ready instances to keep.
    public var size: Int
    /// The profile set, in order; `["default"]` when absent.
    public var profiles: [String]?
    /// The cluster member the pool's instances live on; any member (by the usual placement) when absent.
    public var member: String?

    public init(image: String, size: Int, profiles: [String]? = nil, member: String? = nil) {
        self.image = image
        self.size = size
        self.profiles = profiles
        self.member = member
    }

    /// The profiles the pool's instances carry.
    public var profileSet: [String] { profiles.flatMap { $0.isEmpty ? nil : $0 } ?? ["default"] }

    /// A stable id of the pool within its cluster (image, profiles and member).
    public var key: String {
        // FNV-1a, 64 bits: stable across processes and versions (unlike `hashValue`).
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in ([image, member ?? ""] + profileSet).joined(separator: "\n").utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The first problem with this pool, or `nil`.
    public var problem: String? {
        if image.isEmpty || image.count > 200 || !image.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_./:".contains($0)) }) {
            return "warm pool image must be an image alias or fingerprint (letters, digits, - _ . / :), at most 200 characters"
        }
        if !(0...Self.maxSize).contains(size) { return "warm pool size must be between 0 and \(Self.maxSize)" }
        for p in profileSet where p.isEmpty || p.count > 63 || !p.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) {
            return "warm pool profile '\(p.prefix(64))' is not a valid LXD profile name"
        }
        if let m = member, InstanceNameRule.problem(m) != nil { return "warm pool member '\(m.prefix(64))' is not a valid member name" }
        return nil
    }
}

/// `cluster.warm_pools`: the LXD deployer asks the gateway (on `rpc.api-gateway`) which clusters
/// have warm pools. Answered with ``WarmPoolsConfig``; carries no secret (connections are fetched
/// with ``ClusterConnectionRequest`` and purpose `warm-pool`).
public struct WarmPoolsRequest: BusMessage, Equatable {
    public static let messageType = "cluster.warm_pools"
    public static let messageVersion = 1

    public init() {}
}

/// The warm pools of every LXD cluster the deployer reaches directly (agent-poll and KVM
/// clusters have none).
public struct WarmPoolsConfig: BusMessage, Equatable {
    public static let messageType = "cluster.warm_pools.result"
    public static let messageVersion = 1

    public struct Cluster: Codable, Sendable, Equatable {
        public var clusterId: String
        public var pools: [WarmPoolSpec]

        public init(clusterId: String, pools: [WarmPoolSpec]) {
            self.clusterId = clusterId
            self.pools = pools
        }

        enum CodingKeys: String, CodingKey {
            case pools
            case clusterId = "cluster_id"
        }
    }

    public var clusters: [Cluster]

    public init(clusters: [Cluster]) { self.clusters = clusters }
}

/// `lxd.pool_status`: a cluster's warm pools as an LXD deployer sees them (the gateway's cluster
/// detail). Answered with ``LXDPoolStatus``.
public struct LXDPoolStatusRequest: BusMessage, Equatable {
    public static let messageType = "lxd.pool_status"
    public static let messageVersion = 1
    public var clusterId: String

    public init(clusterId: String) { self.clusterId = clusterId }

    enum CodingKeys: String, CodingKey {
        case clusterId = "cluster_id"
    }
}

public struct LXDPoolStatus: BusMessage, Equatable {
    public static let messageType = "lxd.pool_status.result"
    public static let messageVersion = 1

    public struct Pool: Codable, Sendable, Equatable {
        public var image: String
        public var profiles: [String]
        public var member: String?
        /// The configured size.
        public var size: Int
        /// Never-started instances of the image's current fingerprint, ready to be claimed.
        public var ready: Int
        /// Deployments that claimed an instance of this pool (counted by the answering deployer since it started).
        public var hits: Int
        /// Deployments that matched the pool but found no free instance (same counting).
        public var misses: Int
        /// Why the pool is short, when it is (not enough disk, the image is missing, …).
        public var warning: String?

        public init(image: String, profiles: [String], member: String?, size: Int, ready: Int, hits: Int, misses: Int, warning: String?) {
            self.image = image
            self.profiles = profiles
            self.member = member
            self.size = size
            self.ready = ready
            self.hits = hits
            self.misses = misses
            self.warning = warning
        }
    }

    public var pools: [Pool]

    public init(pools: [Pool]) { self.pools = pools }
}
