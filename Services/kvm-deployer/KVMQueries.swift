import IceShelvesBus
import IceShelvesContracts
import IceShelvesKVMDeploy
import IceShelvesLibvirt
import IceShelvesService

/// The deployer's RPCs: `kvm.test` (the gateway's "test connection") and `kvm.cleanup`.
struct KVMQueries: Sendable {
    let opener: LibvirtOpener
    let connections: any ConnectionSource

    func test(_ request: KVMTestRequest) async throws -> KVMTestResult {
        let (c, settings) = try await open(cluster: request.clusterId, deploymentId: nil, purpose: .test)
        do {
            let host = try await c.hostInfo()
            let pools = try await c.pools()
            let network = try await c.networkExists(settings.network)
            return KVMTestResult(
                hostname: host.hostname,
                hypervisor: host.driver,
                hypervisorVersion: host.hypervisorVersion,
                libvirtVersion: host.libvirtVersion,
                cpuModel: host.cpuModel,
                cpuCores: host.cpus,
                memoryBytes: host.memoryBytes,
                pools: pools.map { .init(name: $0.name, active: $0.active, capacityBytes: $0.capacityBytes, availableBytes: $0.availableBytes) },
                storagePoolFound: pools.contains { $0.name == settings.storagePool },
                networkFound: network
            )
        } catch let e as LibvirtError {
            throw RPCError(code: "unavailable", message: e.message)
        }
    }

    func cleanup(_ request: KVMCleanupRequest) async throws -> KVMCleanupResult {
        if let problem = InstanceNameRule.problem(request.instanceName) { throw RPCError.badRequest(problem) }
        let (c, settings) = try await open(cluster: request.clusterId, deploymentId: request.deploymentId, purpose: .deployment)
        do {
            let outcome = try await VMRemover(libvirt: c, pool: settings.storagePool).remove(
                request.instanceName,
                ifOwnedBy: request.deploymentId
            )
            switch outcome {
            case .removed:
                return KVMCleanupResult(removed: true, message: "\(request.instanceName) destroyed, undefined and its volumes deleted")
            case .nothing:
                return KVMCleanupResult(removed: false, message: "no VM named \(request.instanceName)")
            case .notOurs(let owner):
                throw RPCError.conflict(
                    "\(request.instanceName) belongs to \(owner.map { "deployment \($0)" } ?? "something IceShelves did not create")"
                )
            }
        } catch let e as LibvirtError {
            throw RPCError(code: "unavailable", message: e.message)
        }
    }

    private func open(
        cluster: String,
        deploymentId: String?,
        purpose: ClusterConnectionRequest.Purpose
    ) async throws -> (LibvirtConnection, LibvirtSettings) {
        let connection = try await connections.connection(clusterId: cluster, deploymentId: deploymentId, purpose: purpose)
        guard let settings = connection.libvirt else { throw RPCError.badRequest("cluster \(cluster) is not a KVM cluster") }
        do {
            return (try await opener.open(settings), settings)
        } catch let e as LibvirtError where e.kind == .invalid {
            throw RPCError.badRequest(e.message)
        } catch let e as LibvirtError {
            throw RPCError(code: "unavailable", message: e.message)
        }
    }
}
