import IceShelvesBus
import IceShelvesContracts
import IceShelvesDeploy
import IceShelvesLXD
import IceShelvesService
import Logging

/// The deployer's RPCs: `lxd.test` (the gateway's "test connection") and `lxd.cleanup`.
struct LXDQueries: Sendable {
    let connector: LXDConnector
    let connections: any ConnectionSource
    let operationTimeout: Duration
    let warmPools: WarmPoolBook

    /// The cluster's warm pools as this deployer saw them at its last fill.
    func poolStatus(_ request: LXDPoolStatusRequest) -> LXDPoolStatus { warmPools.status(request.clusterId) }

    func test(_ request: LXDTestRequest) async throws -> LXDTestResult {
        let lxd = try await open(cluster: request.clusterId, deploymentId: nil, purpose: .test)
        defer { lxd.close() }
        do {
            let server = try await lxd.server()
            let clustered = server.environment?.serverClustered ?? false
            var members: [LXDTestResult.Member] = []
            var cores = 0
            var memory: UInt64 = 0
            if clustered {
                for m in try await lxd.clusterMembers() {
                    members.append(.init(name: m.serverName, url: m.url, status: m.status, message: m.message))
                    if m.status.lowercased() == "online", let r = try? await lxd.resources(member: m.serverName) {
                        cores += r.cpu.total
                        memory += r.memory.total
                    }
                }
            } else {
                let r = try await lxd.resources()
                cores = r.cpu.total
                memory = r.memory.total
            }
            return LXDTestResult(
                serverVersion: server.environment?.serverVersion ?? "unknown",
                apiVersion: server.apiVersion,
                clustered: clustered,
                members: members,
                cpuCores: cores,
                memoryBytes: memory,
                auth: server.auth
            )
        } catch let e as LXDError {
            throw RPCError(code: "unavailable", message: e.message)
        }
    }

    func cleanup(_ request: LXDCleanupRequest) async throws -> LXDCleanupResult {
        if let problem = InstanceNameRule.problem(request.instanceName) { throw RPCError.badRequest(problem) }
        let lxd = try await open(cluster: request.clusterId, deploymentId: request.deploymentId, purpose: .deployment)
        defer { lxd.close() }
        do {
            let removed = try await InstanceRemover(client: lxd, timeout: operationTimeout).remove(
                request.instanceName,
                ifOwnedBy: request.deploymentId
            )
            return LXDCleanupResult(
                removed: removed,
                message: removed ? "\(request.instanceName) stopped and deleted" : "no instance named \(request.instanceName)"
            )
        } catch let e as LXDError where e.status == 409 {
            throw RPCError.conflict(e.message)
        } catch let e as LXDError {
            throw RPCError(code: "unavailable", message: e.message)
        }
    }

    private func open(cluster: String, deploymentId: String?, purpose: ClusterConnectionRequest.Purpose) async throws -> LXDClient {
        let connection = try await connections.connection(clusterId: cluster, deploymentId: deploymentId, purpose: purpose)
        do {
            return try await connector.connect(connection)
        } catch let e as LXDError where e.kind == .configuration {
            throw RPCError.badRequest(e.message)
        } catch let e as LXDError {
            throw RPCError(code: "unavailable", message: e.message)
        }
    }
}
