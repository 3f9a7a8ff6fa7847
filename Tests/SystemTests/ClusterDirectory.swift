import Foundation
import IceShelvesBus
import IceShelvesContracts
import Synchronization

/// The suites that drive a deployer without a gateway answer its `cluster.connection` calls
/// themselves: a test registers a connection and puts the returned id into its job, exactly as
/// the gateway does with a registered cluster (jobs never carry connections).
final class ClusterDirectory: Sendable {
    static let shared = ClusterDirectory()

    private let entries = Mutex<[String: ClusterConnection]>([:])
    private let pools = Mutex<[String: [WarmPoolSpec]]>([:])

    /// Sets a registered cluster's warm pools (what the gateway answers to `cluster.warm_pools`).
    func setWarmPools(_ clusterId: String, _ specs: [WarmPoolSpec]) {
        pools.withLock { $0[clusterId] = specs.isEmpty ? nil : specs }
    }

    /// Registers a connection; returns the cluster id to put into jobs and RPCs.
    func register(_ connection: ClusterConnection) -> String {
        let id = "test-\(UUID().uuidString.prefix(8).lowercased())"
        entries.withLock { $0[id] = connection }
        return id
    }

    /// The handler of `rpc.api-gateway` for `cluster.connection`.
    var router: RPCRouter {
        var router = RPCRouter()
        router.on(ClusterConnectionRequest.self) { [self] envelope, _ in
            guard let c = entries.withLock({ $0[envelope.payload.clusterId] }) else {
                throw RPCError.notFound("no cluster \(envelope.payload.clusterId)")
            }
            return ClusterConnectionGrant(connection: c)
        }
        router.on(WarmPoolsRequest.self) { [self] _, _ in
            WarmPoolsConfig(clusters: pools.withLock { $0.sorted { $0.key < $1.key }.map { .init(clusterId: $0.key, pools: $0.value) } })
        }
        return router
    }
}
