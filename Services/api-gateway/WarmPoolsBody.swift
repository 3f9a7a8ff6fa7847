import IceShelvesContracts

/// The body of `PUT /api/clusters/{id}/warm-pools`: the cluster's whole warm-pool list (an empty
/// list removes every pool, and with them their instances).
struct WarmPoolsBody: Decodable {
    /// At most this many pools per cluster.
    static let maxPools = 20

    var warmPools: [WarmPoolSpec]

    enum CodingKeys: String, CodingKey {
        case warmPools = "warm_pools"
    }

    /// The pools, checked: valid images, sizes, profiles and members, no two pools alike, and a
    /// cluster the lxd-deployer reaches directly.
    func validated(for cluster: ClusterStore.Cluster) throws -> [WarmPoolSpec] {
        guard cluster.canHaveWarmPools || warmPools.isEmpty else {
            throw APIError.badRequest("warm pools need an LXD cluster that the lxd-deployer reaches (not agent-poll or KVM)")
        }
        guard warmPools.count <= Self.maxPools else { throw APIError.badRequest("at most \(Self.maxPools) warm pools per cluster") }
        var keys = Set<String>()
        for pool in warmPools {
            if let problem = pool.problem { throw APIError.badRequest(problem) }
            guard keys.insert(pool.key).inserted else {
                throw APIError.badRequest("two warm pools have the same image \(pool.image), profiles and member")
            }
        }
        return warmPools
    }
}
