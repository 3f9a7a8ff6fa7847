import Foundation
import Hummingbird
import IceShelvesContracts

/// Clusters: the original's registration bodies per connection method (with pins added),
/// test, list, get, delete. Secrets are write-only.
struct ClusterRoutes {
    let gateway: Gateway

    struct ClusterItem: Encodable {
        var id: Int64
        var name: String
        var description: String
        var connectionMethod: String
        var hypervisor: String
        var endpointURL: String?
        var status: String
        var isActive: Bool
        var lastCheck: String?
        enum CodingKeys: String, CodingKey {
            case id, name, description, status, hypervisor
            case connectionMethod = "connection_method"
            case endpointURL = "endpoint_url"
            case isActive = "is_active"
            case lastCheck = "last_check"
        }
        init(_ c: ClusterStore.Cluster) {
            id = c.id
            name = c.name
            description = c.description
            connectionMethod = c.method.rawValue
            hypervisor = c.hypervisor.rawValue
            endpointURL = c.endpointURL
            status = c.status
            isActive = c.isActive
            lastCheck = c.lastCheck
        }
    }

    struct ClusterList: Encodable {
        var clusters: [ClusterItem]
        var total: Int
    }

    func add(to api: RouterGroup<GatewayContext>) {
        api.get("clusters") { _, context -> Response in
            _ = try context.require(.viewer)
            let all = try await gateway.clusters.list()
            return JSONBody.success(ClusterList(clusters: all.map(ClusterItem.init), total: all.count))
        }
        api.get("clusters/:id") { _, context -> Response in
            _ = try context.require(.viewer)
            let c = try await cluster(context)
            var d = try detail(c)
            d["warm_pool_status"] = await warmPoolStatus(c)
            return JSONBody.raw(["success": true, "data": d] as [String: Any], status: .ok)
        }
        api.post("clusters") { request, context -> Response in
            let who = try context.require(.admin)
            let body = try await JSONBody.read(ClusterRegistration.self, from: request, limit: gateway.settings.maxBodyBytes)
            let registration = try body.validated(hosts: gateway.settings.hosts, allowInsecureLibvirt: gateway.settings.allowInsecureLibvirt)
            let (id, agentKey) = try await gateway.clusters.insert(registration)
            await gateway.audit.record(
                who,
                "cluster.create",
                target: "cluster \(id)",
                detail: "\(registration.name) (\(registration.connectionMethod.rawValue))"
            )
            var out: [String: Any] = ["cluster_id": id, "message": "cluster \(registration.name) registered"]
            if let agentKey { out["agent_key"] = agentKey }
            var envelope = out
            envelope["success"] = true
            envelope["data"] = out
            return JSONBody.raw(envelope, status: .created)
        }
        api.post("clusters/:id/test") { _, context -> Response in
            let who = try context.require(.operator)
            let c = try await cluster(context)
            guard try gateway.clusters.connection(for: c) != nil else {
                let seen = c.agentLastSeen.map { "agent last seen \($0)" } ?? "its agent has not polled yet"
                return JSONBody.raw(["success": true, "status": c.status, "details": ["message": "agent-poll cluster: \(seen)"]], status: .ok)
            }
            var status = "active"
            var details: [String: Any]
            var metadata: String?
            do {
                if c.hypervisor == .kvm {
                    (status, details, metadata) = try await testKVM(c)
                } else {
                    let r = try await gateway.pipeline.testConnection(clusterId: String(c.id))
                    let members = r.members.map { ["name": $0.name, "url": $0.url, "status": $0.status, "message": $0.message] }
                    details = [
                        "message": "connected (\(r.auth))", "server_version": r.serverVersion, "api_version": r.apiVersion,
                        "clustered": r.clustered, "members": members,
                        "resources": ["cpu_cores": r.cpuCores, "memory_gb": Double(r.memoryBytes) / 1_073_741_824],
                    ]
                    let meta: [String: Any] = [
                        "members": members,
                        "resources": ["cpu_cores": r.cpuCores, "memory_gb": (Double(r.memoryBytes) / 1_073_741_824 * 10).rounded() / 10],
                    ]
                    metadata = String(decoding: try JSONSerialization.data(withJSONObject: meta, options: [.sortedKeys]), as: UTF8.self)
                    if r.auth != "trusted" {
                        status = "error"
                        details["message"] = "the server does not trust our client certificate (auth: \(r.auth))"
                    }
                }
            } catch let e as APIError where e.status == .conflict || e.status == .badRequest {
                status = "error"
                details = ["message": e.message]
            }
            let previous = try await gateway.clusters.recordHealth(
                c.id,
                status: status,
                message: details["message"] as? String ?? "",
                metadataJSON: metadata
            )
            await gateway.audit.record(who, "cluster.test", target: "cluster \(c.id)", detail: status)
            if let previous {
                await gateway.webhooks.notify(
                    .clusterStatusChanged,
                    data: ["cluster_id": c.id, "name": c.name, "previous_status": previous, "status": status]
                )
            }
            return JSONBody.raw(
                ["success": true, "status": status, "details": details, "data": ["status": status, "details": details]],
                status: .ok
            )
        }
        api.put("clusters/:id/warm-pools") { request, context -> Response in
            let who = try context.require(.admin)
            let c = try await cluster(context)
            let body = try await JSONBody.read(WarmPoolsBody.self, from: request, limit: gateway.settings.maxBodyBytes)
            let pools = try body.validated(for: c)
            try await gateway.clusters.setWarmPools(c.id, pools)
            await gateway.audit.record(
                who,
                "cluster.warm_pools",
                target: "cluster \(c.id)",
                detail: pools.map { "\($0.image)×\($0.size)" }.joined(separator: ", ")
            )
            let out: [String: Any] = [
                "cluster_id": c.id, "warm_pools": try JSONSerialization.jsonObject(with: JSONEncoder().encode(pools)),
                "message": "warm pools of \(c.name) set; the lxd-deployer fills or empties them within its fill interval",
            ]
            var envelope = out
            envelope["success"] = true
            envelope["data"] = out
            return JSONBody.raw(envelope, status: .ok)
        }
        api.delete("clusters/:id") { _, context -> Response in
            let who = try context.require(.admin)
            let c = try await cluster(context)
            let active = try await gateway.ledger.activeCount(clusterId: c.id)
            guard active == 0 else { throw APIError.conflict("cluster \(c.name) has \(active) active deployment(s); cancel or wait for them first") }
            guard c.warmPools.isEmpty else {
                throw APIError.conflict("cluster \(c.name) has warm pools; remove them first (PUT warm-pools with []) so their instances are deleted")
            }
            try await gateway.clusters.delete(c.id)
            gateway.deploymentCache.clear()
            await gateway.audit.record(who, "cluster.delete", target: "cluster \(c.id)", detail: c.name)
            return JSONBody.raw(["success": true, "message": "cluster \(c.name) deleted"], status: .ok)
        }
    }

    /// A KVM cluster's test: the hypervisor and libvirt versions, host CPU and memory, the pools,
    /// and whether the cluster's own pool and network exist.
    func testKVM(_ c: ClusterStore.Cluster) async throws -> (String, [String: Any], String?) {
        let r = try await gateway.pipeline.testKVM(KVMTestRequest(clusterId: String(c.id)))
        let pools = r.pools.map {
            ["name": $0.name, "active": $0.active, "capacity_bytes": $0.capacityBytes, "available_bytes": $0.availableBytes] as [String: Any]
        }
        let resources: [String: Any] = [
            "cpu_cores": r.cpuCores, "cpu_model": r.cpuModel, "memory_gb": (Double(r.memoryBytes) / 1_073_741_824 * 10).rounded() / 10,
        ]
        var details: [String: Any] = [
            "message": "connected to \(r.hypervisor) \(r.hypervisorVersion) on \(r.hostname)", "hypervisor": r.hypervisor,
            "hypervisor_version": r.hypervisorVersion, "libvirt_version": r.libvirtVersion, "hostname": r.hostname, "pools": pools,
            "resources": resources, "storage_pool_found": r.storagePoolFound, "network_found": r.networkFound,
        ]
        var status = "active"
        if !r.storagePoolFound || !r.networkFound {
            status = "error"
            details["message"] =
                !r.storagePoolFound
                ? "storage pool \(c.storagePool ?? "default") does not exist on \(r.hostname)"
                : "network \(c.network ?? "default") does not exist on \(r.hostname)"
        }
        let meta: [String: Any] = ["hypervisor": r.hypervisor, "hypervisor_version": r.hypervisorVersion, "pools": pools, "resources": resources]
        return (status, details, String(decoding: try JSONSerialization.data(withJSONObject: meta, options: [.sortedKeys]), as: UTF8.self))
    }

    /// The warm pools as an lxd-deployer last saw them (ready, hits, misses, warnings), or `null`
    /// when the cluster has none or no deployer answered within 3 s.
    func warmPoolStatus(_ c: ClusterStore.Cluster) async -> Any {
        guard c.canHaveWarmPools, !c.warmPools.isEmpty,
            let status = try? await gateway.pipeline.warmPoolStatus(clusterId: String(c.id)),
            let json = try? JSONSerialization.jsonObject(with: JSONEncoder().encode(status.pools))
        else { return NSNull() }
        return json
    }

    func cluster(_ context: GatewayContext) async throws -> ClusterStore.Cluster {
        let raw = context.parameters.get("id") ?? ""
        guard let id = Int64(raw), let c = try await gateway.clusters.get(id) else { throw APIError.notFound("no cluster \(raw.prefix(40))") }
        return c
    }

    /// The detail view: everything but secrets.
    func detail(_ c: ClusterStore.Cluster) throws -> [String: Any] {
        let metadata = (try? JSONSerialization.jsonObject(with: Data(c.metadataJSON.utf8))) ?? [:]
        var d: [String: Any] = [
            "id": c.id, "name": c.name, "description": c.description, "connection_method": c.method.rawValue, "status": c.status,
            "is_active": c.isActive, "is_cluster": c.isCluster, "metadata": metadata, "created_at": c.createdAt,
            "host_access_allow": c.hostAccessAllow,
            "health": ["status": c.status, "message": c.healthMessage ?? NSNull(), "checked_at": c.lastCheck ?? NSNull()] as [String: Any],
        ]
        d["endpoint_url"] = c.endpointURL ?? NSNull()
        d["last_check"] = c.lastCheck ?? NSNull()
        d["auth_type"] = c.authType ?? NSNull()
        d["hypervisor"] = c.hypervisor.rawValue
        d["warm_pools"] = (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(c.warmPools))) ?? []
        switch c.method {
        case .libvirt:
            d["libvirt_uri"] = c.libvirtURI ?? NSNull()
            d["storage_pool"] = c.storagePool ?? "default"
            d["network"] = c.network ?? "default"
            d["domain_type"] = c.domainType ?? "kvm"
            d["ssh_host_key"] = c.sshHostKey ?? NSNull()
            d["client_cert"] = c.clientCert ?? NSNull()
            d["ca_cert"] = c.caCert ?? NSNull()
        case .directAPI:
            d["verify_ssl"] = c.verifySSL
            d["client_cert"] = c.clientCert ?? NSNull()
            d["server_cert"] = c.serverCert ?? NSNull()
            d["server_fingerprint"] = c.serverFingerprint ?? NSNull()
        case .ssh:
            d["ssh_host"] = c.sshHost ?? NSNull()
            d["ssh_port"] = c.sshPort ?? 22
            d["ssh_user"] = c.sshUser ?? NSNull()
            d["ssh_host_key_fingerprint"] = c.sshHostKeyFingerprint ?? NSNull()
            d["socket_path"] = c.socketPath ?? ClusterConnection.defaultSocketPath
        case .unixSocket:
            d["socket_path"] = c.socketPath ?? ClusterConnection.defaultSocketPath
        case .agentPoll:
            d["agent_poll_interval"] = c.agentPollInterval ?? 300
            d["agent_last_seen"] = c.agentLastSeen ?? NSNull()
        }
        return d
    }
}
