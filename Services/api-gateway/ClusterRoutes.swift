import Foundation
import Hummingbird
import IceShelvesContracts

/// Clusters: the original's registration bodies per connection method (with pins added),
/// test, list, get, delete. Secrets are write-only.
struct ClusterRoutes {
    let gateway: Gateway

    struct Register: Decodable {
        var name: String
        var description: String?
        var connectionMethod: String
        var endpointURL: String?
        var authType: String?
        var clientCert: String?
        var clientKey: String?
        var serverCert: String?
        var serverFingerprint: String?
        var verifySSL: Bool?
        var isCluster: Bool?
        var sshHost: String?
        var sshPort: Int?
        var sshUser: String?
        var sshKey: String?
        var sshHostKeyFingerprint: String?
        var socketPath: String?
        var agentPollInterval: Int?

        enum CodingKeys: String, CodingKey {
            case name, description
            case connectionMethod = "connection_method"
            case endpointURL = "endpoint_url"
            case authType = "auth_type"
            case clientCert = "client_cert"
            case clientKey = "client_key"
            case serverCert = "server_cert"
            case serverFingerprint = "server_fingerprint"
            case verifySSL = "verify_ssl"
            case isCluster = "is_cluster"
            case sshHost = "ssh_host"
            case sshPort = "ssh_port"
            case sshUser = "ssh_user"
            case sshKey = "ssh_key"
            case sshHostKeyFingerprint = "ssh_host_key_fingerprint"
            case socketPath = "socket_path"
            case agentPollInterval = "agent_poll_interval"
        }

        /// Checks the body for its method and turns it into a registration.
        func validated(hosts: HostPolicy) throws -> ClusterStore.Registration {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard (1...100).contains(trimmed.count) else { throw APIError.badRequest("name must be 1 to 100 characters") }
            guard (description ?? "").count <= 2000 else { throw APIError.badRequest("description must be at most 2000 characters") }
            var r = ClusterStore.Registration(name: trimmed, description: description ?? "", method: connectionMethod)
            func pem(_ text: String?, _ field: String, marker: String) throws -> String {
                guard let text, text.contains(marker), text.utf8.count <= 64 * 1024 else { throw APIError.badRequest("\(field) must be PEM text (\(marker))") }
                return text
            }
            func path(_ p: String?, _ field: String) throws -> String? {
                guard let p else { return nil }
                guard p.hasPrefix("/"), p.utf8.count <= 1024, !p.contains("\0") else { throw APIError.badRequest("\(field) must be an absolute path") }
                return p
            }
            switch connectionMethod {
            case "direct-api":
                guard let url = endpointURL, let parsed = URLComponents(string: url), parsed.scheme == "https", let host = parsed.host, !host.isEmpty else {
                    throw APIError.badRequest("endpoint_url must be https://host:port")
                }
                try hosts.check(host, field: "endpoint_url")
                r.endpointURL = url
                r.authType = authType ?? "certificate"
                guard r.authType == "certificate" else { throw APIError.badRequest("auth_type must be certificate") }
                r.clientCert = try pem(clientCert, "client_cert", marker: "BEGIN CERTIFICATE")
                r.clientKey = try pem(clientKey, "client_key", marker: "PRIVATE KEY")
                if let s = serverCert { r.serverCert = try pem(s, "server_cert", marker: "BEGIN CERTIFICATE") }
                if let f = serverFingerprint {
                    let hex = f.lowercased().filter { $0 != ":" }
                    guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else { throw APIError.badRequest("server_fingerprint must be the certificate's SHA-256 in hex") }
                    r.serverFingerprint = hex
                }
                r.verifySSL = verifySSL ?? true
                if r.serverCert == nil && r.serverFingerprint == nil && r.verifySSL {
                    throw APIError.badRequest("give server_cert (PEM) or server_fingerprint to pin the server, or verify_ssl: false to turn verification off explicitly")
                }
                r.isCluster = isCluster ?? false
            case "ssh":
                guard let host = sshHost, (1...255).contains(host.count), !host.contains(where: { $0.isWhitespace || $0 == "/" }) else {
                    throw APIError.badRequest("ssh_host is required")
                }
                try hosts.check(host, field: "ssh_host")
                r.sshHost = host
                r.sshPort = sshPort ?? 22
                guard (1...65535).contains(r.sshPort) else { throw APIError.badRequest("ssh_port must be 1 to 65535") }
                guard let user = sshUser, (1...64).contains(user.count) else { throw APIError.badRequest("ssh_user is required") }
                r.sshUser = user
                r.sshKey = try pem(sshKey, "ssh_key", marker: "PRIVATE KEY")
                guard let fp = sshHostKeyFingerprint, fp.hasPrefix("SHA256:"), fp.count <= 80 else {
                    throw APIError.badRequest("ssh_host_key_fingerprint is required (SHA256:… as ssh-keygen -lf prints it): an unknown host key is refused")
                }
                r.sshHostKeyFingerprint = fp
                r.socketPath = try path(socketPath, "socket_path")
            case "unix-socket":
                r.socketPath = try path(socketPath, "socket_path")
            case "agent-poll":
                r.agentPollInterval = agentPollInterval ?? 300
                guard (1...600).contains(r.agentPollInterval) else { throw APIError.badRequest("agent_poll_interval must be 1 to 600 seconds") }
            default:
                throw APIError.badRequest("connection_method must be direct-api, ssh, unix-socket or agent-poll")
            }
            return r
        }
    }

    struct ClusterItem: Encodable {
        var id: Int64
        var name: String
        var description: String
        var connectionMethod: String
        var endpointURL: String?
        var status: String
        var isActive: Bool
        var lastCheck: String?
        enum CodingKeys: String, CodingKey {
            case id, name, description, status
            case connectionMethod = "connection_method"
            case endpointURL = "endpoint_url"
            case isActive = "is_active"
            case lastCheck = "last_check"
        }
        init(_ c: ClusterStore.Cluster) {
            id = c.id; name = c.name; description = c.description; connectionMethod = c.method; endpointURL = c.endpointURL
            status = c.status; isActive = c.isActive; lastCheck = c.lastCheck
        }
    }

    struct ClusterList: Encodable {
        var clusters: [ClusterItem]
        var total: Int
    }

    func add(to api: RouterGroup<GatewayContext>) {
        api.get("clusters") { _, context -> Response in
            _ = try context.require(.viewer)
            let all = try gateway.clusters.list()
            return JSONBody.success(ClusterList(clusters: all.map(ClusterItem.init), total: all.count))
        }
        api.get("clusters/:id") { _, context -> Response in
            _ = try context.require(.viewer)
            return JSONBody.raw(["success": true, "data": try detail(try cluster(context))] as [String: Any], status: .ok)
        }
        api.post("clusters") { request, context -> Response in
            let who = try context.require(.admin)
            let body = try await JSONBody.read(Register.self, from: request, limit: gateway.settings.maxBodyBytes)
            let (id, agentKey) = try gateway.clusters.insert(try body.validated(hosts: gateway.settings.hosts))
            gateway.audit.record(who, "cluster.create", target: "cluster \(id)", detail: "\(body.name) (\(body.connectionMethod))")
            var out: [String: Any] = ["cluster_id": id, "message": "cluster \(body.name) registered"]
            if let agentKey { out["agent_key"] = agentKey }
            var envelope = out
            envelope["success"] = true
            envelope["data"] = out
            return JSONBody.raw(envelope, status: .created)
        }
        api.post("clusters/:id/test") { _, context -> Response in
            let who = try context.require(.operator)
            let c = try cluster(context)
            guard let connection = try gateway.clusters.connection(for: c) else {
                let seen = c.agentLastSeen.map { "agent last seen \($0)" } ?? "its agent has not polled yet"
                return JSONBody.raw(["success": true, "status": c.status, "details": ["message": "agent-poll cluster: \(seen)"]], status: .ok)
            }
            var status = "active"
            var details: [String: Any]
            var metadata: String?
            do {
                let r = try await gateway.pipeline.testConnection(connection)
                let members = r.members.map { ["name": $0.name, "url": $0.url, "status": $0.status, "message": $0.message] }
                details = ["message": "connected (\(r.auth))", "server_version": r.serverVersion, "api_version": r.apiVersion,
                           "clustered": r.clustered, "members": members,
                           "resources": ["cpu_cores": r.cpuCores, "memory_gb": Double(r.memoryBytes) / 1_073_741_824]]
                let meta: [String: Any] = ["members": members, "resources": ["cpu_cores": r.cpuCores, "memory_gb": (Double(r.memoryBytes) / 1_073_741_824 * 10).rounded() / 10]]
                metadata = String(decoding: try JSONSerialization.data(withJSONObject: meta, options: [.sortedKeys]), as: UTF8.self)
                if r.auth != "trusted" {
                    status = "error"
                    details["message"] = "the server does not trust our client certificate (auth: \(r.auth))"
                }
            } catch let e as APIError where e.status == .conflict || e.status == .badRequest {
                status = "error"
                details = ["message": e.message]
            }
            let previous = try gateway.clusters.recordHealth(c.id, status: status, message: details["message"] as? String ?? "", metadataJSON: metadata)
            gateway.audit.record(who, "cluster.test", target: "cluster \(c.id)", detail: status)
            if let previous {
                await gateway.webhooks.notify("cluster.status_changed", data: ["cluster_id": c.id, "name": c.name, "previous_status": previous, "status": status])
            }
            return JSONBody.raw(["success": true, "status": status, "details": details, "data": ["status": status, "details": details]], status: .ok)
        }
        api.delete("clusters/:id") { _, context -> Response in
            let who = try context.require(.admin)
            let c = try cluster(context)
            let active = try gateway.ledger.activeCount(clusterId: c.id)
            guard active == 0 else { throw APIError.conflict("cluster \(c.name) has \(active) active deployment(s); cancel or wait for them first") }
            try gateway.clusters.delete(c.id)
            gateway.audit.record(who, "cluster.delete", target: "cluster \(c.id)", detail: c.name)
            return JSONBody.raw(["success": true, "message": "cluster \(c.name) deleted"], status: .ok)
        }
    }

    func cluster(_ context: GatewayContext) throws -> ClusterStore.Cluster {
        let raw = context.parameters.get("id") ?? ""
        guard let id = Int64(raw), let c = try gateway.clusters.get(id) else { throw APIError.notFound("no cluster \(raw.prefix(40))") }
        return c
    }

    /// The detail view: everything but secrets.
    func detail(_ c: ClusterStore.Cluster) throws -> [String: Any] {
        let metadata = (try? JSONSerialization.jsonObject(with: Data(c.metadataJSON.utf8))) ?? [:]
        var d: [String: Any] = [
            "id": c.id, "name": c.name, "description": c.description, "connection_method": c.method, "status": c.status,
            "is_active": c.isActive, "is_cluster": c.isCluster, "metadata": metadata, "created_at": c.createdAt,
            "health": ["status": c.status, "message": c.healthMessage ?? NSNull(), "checked_at": c.lastCheck ?? NSNull()] as [String: Any],
        ]
        d["endpoint_url"] = c.endpointURL ?? NSNull()
        d["last_check"] = c.lastCheck ?? NSNull()
        d["auth_type"] = c.authType ?? NSNull()
        switch c.method {
        case "direct-api":
            d["verify_ssl"] = c.verifySSL
            d["client_cert"] = c.clientCert ?? NSNull()
            d["server_cert"] = c.serverCert ?? NSNull()
            d["server_fingerprint"] = c.serverFingerprint ?? NSNull()
        case "ssh":
            d["ssh_host"] = c.sshHost ?? NSNull()
            d["ssh_port"] = c.sshPort ?? 22
            d["ssh_user"] = c.sshUser ?? NSNull()
            d["ssh_host_key_fingerprint"] = c.sshHostKeyFingerprint ?? NSNull()
            d["socket_path"] = c.socketPath ?? ClusterConnection.defaultSocketPath
        case "unix-socket":
            d["socket_path"] = c.socketPath ?? ClusterConnection.defaultSocketPath
        default:
            d["agent_poll_interval"] = c.agentPollInterval ?? 300
            d["agent_last_seen"] = c.agentLastSeen ?? NSNull()
        }
        return d
    }
}
