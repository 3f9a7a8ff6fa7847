import IceShelvesContracts
import Metrics
import Synchronization

/// The warm pools this deployer knows (from the gateway's ``WarmPoolsConfig``) and what it saw of
/// them: ready counts and warnings from the last fill, hits and misses since it started.
final class WarmPoolBook: Sendable {
    private struct Counts {
        var ready = 0
        var hits = 0
        var misses = 0
        var warning: String?
    }

    private struct State {
        var clusters: [String: [WarmPoolSpec]] = [:]
        var counts: [String: Counts] = [:]
    }

    /// The instance-name prefix and marker prefix of this deployment's pool instances.
    let prefix: String
    private let state = Mutex(State())

    init(prefix: String) { self.prefix = prefix }

    /// The marker value of a pool: `<prefix>/<cluster id>/<pool key>`.
    func poolId(_ clusterId: String, _ pool: WarmPoolSpec) -> String { "\(prefix)/\(clusterId)/\(pool.key)" }

    /// Every cluster the deployer has pools for, and those it had before (whose instances must go).
    func replace(_ config: WarmPoolsConfig) -> [String] {
        state.withLock { s in
            let before = Set(s.clusters.keys)
            s.clusters = Dictionary(config.clusters.map { ($0.clusterId, $0.pools) }, uniquingKeysWith: { a, _ in a })
            return Array(before.union(s.clusters.keys)).sorted()
        }
    }

    func pools(_ clusterId: String) -> [WarmPoolSpec] { state.withLock { $0.clusters[clusterId] ?? [] } }

    /// Forgets a cluster whose pools are gone and whose instances were removed.
    func forget(_ clusterId: String) {
        state.withLock { s in
            if s.clusters[clusterId] == nil { s.counts = s.counts.filter { !$0.key.hasPrefix("\(prefix)/\(clusterId)/") } }
        }
    }

    func recordFill(_ clusterId: String, _ pool: WarmPoolSpec, ready: Int, warning: String?) {
        let id = poolId(clusterId, pool)
        state.withLock { s in
            s.counts[id, default: Counts()].ready = ready
            s.counts[id, default: Counts()].warning = warning
        }
        let dims = [("cluster", clusterId), ("image", pool.image)]
        Gauge(label: "iceshelves_lxd_warm_pool_ready", dimensions: dims).record(ready)
        Gauge(label: "iceshelves_lxd_warm_pool_size", dimensions: dims).record(pool.size)
    }

    func recordClaim(_ clusterId: String, _ pool: WarmPoolSpec, hit: Bool) {
        let id = poolId(clusterId, pool)
        state.withLock { s in
            if hit {
                s.counts[id, default: Counts()].hits += 1
                s.counts[id, default: Counts()].ready = max(0, s.counts[id, default: Counts()].ready - 1)
            } else {
                s.counts[id, default: Counts()].misses += 1
            }
        }
        let dims = [("cluster", clusterId), ("image", pool.image)]
        Counter(label: hit ? "iceshelves_lxd_warm_pool_hits_total" : "iceshelves_lxd_warm_pool_misses_total", dimensions: dims).increment()
    }

    func status(_ clusterId: String) -> LXDPoolStatus {
        state.withLock { s in
            LXDPoolStatus(
                pools: (s.clusters[clusterId] ?? []).map { pool in
                    let c = s.counts[poolId(clusterId, pool)] ?? Counts()
                    return LXDPoolStatus.Pool(
                        image: pool.image,
                        profiles: pool.profileSet,
                        member: pool.member,
                        size: pool.size,
                        ready: c.ready,
                        hits: c.hits,
                        misses: c.misses,
                        warning: c.warning
                    )
                }
            )
        }
    }
}
