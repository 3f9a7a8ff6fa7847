import Crypto
import Foundation
import GRDB
import IceShelvesContracts

/// Registered clusters. Certificates and addresses are plain columns; private keys are sealed
/// with ``SecretBox`` and never leave the gateway except inside a deployer job or RPC.
struct ClusterStore: Sendable {
    let db: GatewayDatabase
    let box: SecretBox

    struct Cluster: Sendable {
        var id: Int64
        var name: String
        var description: String
        var method: ClusterRegistration.Method
        var endpointURL: String?
        var authType: String?
        var clientCert: String?
        var serverCert: String?
        var serverFingerprint: String?
        var verifySSL: Bool
        var isCluster: Bool
        var sshHost: String?
        var sshPort: Int?
        var sshUser: String?
        var sshHostKeyFingerprint: String?
        var socketPath: String?
        var agentPollInterval: Int?
        var agentLastSeen: String?
        var status: String
        var isActive: Bool
        var lastCheck: String?
        var healthMessage: String?
        var metadataJSON: String
        var secrets: Data?
        var createdAt: String
        /// Host-access keys an admin allowed on this cluster (``HostAccess``).
        var hostAccessAllow: [String]
        var hypervisor: Hypervisor
        var libvirtURI: String?
        var storagePool: String?
        var network: String?
        var domainType: String?
        var sshHostKey: String?
        var caCert: String?
        /// The warm pools an admin set (LXD clusters the deployer reaches directly).
        var warmPools: [WarmPoolSpec]
        /// Whether an admin ever set warm pools: the deployers then keep removing instances of
        /// pools that are gone, also after a restart.
        var hadWarmPools: Bool

        init(row: Row) {
            id = row["id"]
            name = row["name"]
            description = row["description"]
            method = ClusterRegistration.Method(rawValue: row["connection_method"]) ?? .agentPoll
            endpointURL = row["endpoint_url"]
            authType = row["auth_type"]
            clientCert = row["client_cert"]
            serverCert = row["server_cert"]
            serverFingerprint = row["server_fingerprint"]
            verifySSL = row["verify_ssl"]
            isCluster = row["is_cluster"]
            sshHost = row["ssh_host"]
            sshPort = row["ssh_port"]
            sshUser = row["ssh_user"]
            sshHostKeyFingerprint = row["ssh_host_key_fingerprint"]
            socketPath = row["socket_path"]
            agentPollInterval = row["agent_poll_interval"]
            agentLastSeen = row["agent_last_seen"]
            status = row["status"]
            isActive = row["is_active"]
            lastCheck = row["last_check"]
            healthMessage = row["health_message"]
            metadataJSON = row["metadata_json"]
            secrets = row["secrets"]
            createdAt = row["created_at"]
            let allow: String = row["host_access_allow"] ?? "[]"
            hostAccessAllow = (try? JSONDecoder().decode([String].self, from: Data(allow.utf8))) ?? []
            hypervisor = Hypervisor(rawValue: row["hypervisor"] ?? "lxd") ?? .lxd
            libvirtURI = row["libvirt_uri"]
            storagePool = row["storage_pool"]
            network = row["libvirt_network"]
            domainType = row["domain_type"]
            sshHostKey = row["ssh_host_key"]
            caCert = row["ca_cert"]
            let pools: String? = row["warm_pools"]
            warmPools = (try? JSONDecoder().decode([WarmPoolSpec].self, from: Data((pools ?? "[]").utf8))) ?? []
            hadWarmPools = pools != nil
        }

        /// Whether the lxd-deployer can keep warm pools for this cluster.
        var canHaveWarmPools: Bool { hypervisor == .lxd && method != .agentPoll && method != .libvirt }
    }

    /// Inserts; returns the id and, for agent-poll, the new agent key (shown once).
    func insert(_ r: ClusterRegistration) async throws -> (id: Int64, agentKey: String?) {
        var secrets: [String: String] = [:]
        if let k = r.clientKey { secrets["client_key"] = k }
        if let k = r.sshKey { secrets["ssh_key"] = k }
        var agentKey: String?
        var agentHash: Data?
        if r.connectionMethod == .agentPoll {
            let key = KeyStore.base64url(KeyStore.random(32))
            agentKey = key
            agentHash = Data(SHA256Digest.of(key))
        }
        let sealed = secrets.isEmpty ? nil : try box.seal(secrets)
        let (key, hash) = (agentKey, agentHash)
        return try await db.writer.write { db in
            if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM cluster WHERE name = ?", arguments: [r.name]) ?? 0 > 0 {
                throw APIError.conflict("a cluster named '\(r.name)' exists already")
            }
            try db.execute(
                sql: """
                    INSERT INTO cluster (name, description, connection_method, endpoint_url, auth_type, client_cert, server_cert, server_fingerprint,
                        verify_ssl, is_cluster, ssh_host, ssh_port, ssh_user, ssh_host_key_fingerprint, socket_path, agent_poll_interval,
                        agent_key_hash, secrets, created_at, hypervisor, libvirt_uri, storage_pool, libvirt_network, domain_type, ssh_host_key,
                        ca_cert)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    r.name, r.description ?? "", r.connectionMethod.rawValue, r.endpointURL, r.authType, r.clientCert, r.serverCert,
                    r.serverFingerprint, r.verifySSL ?? true, r.isCluster ?? false, r.sshHost, r.sshPort, r.sshUser,
                    r.sshHostKeyFingerprint, r.socketPath, r.agentPollInterval, hash, sealed, Timestamp.now(),
                    (r.hypervisor ?? .lxd).rawValue, r.libvirtURI, r.storagePool, r.network, r.domainType, r.sshHostKey, r.caCert,
                ]
            )
            return (db.lastInsertedRowID, key)
        }
    }

    func get(_ id: Int64) async throws -> Cluster? {
        try await db.writer.read {
            try Row.fetchOne($0, sql: "SELECT * FROM cluster WHERE id = ? AND deleted_at IS NULL", arguments: [id]).map(Cluster.init)
        }
    }

    func list() async throws -> [Cluster] {
        try await db.writer.read { try Row.fetchAll($0, sql: "SELECT * FROM cluster WHERE deleted_at IS NULL ORDER BY id").map(Cluster.init) }
    }

    /// A soft delete: the cluster disappears from the API and its secrets are erased, but its
    /// deployments keep their history. Its name is free again.
    func delete(_ id: Int64) async throws {
        try await db.writer.write { db in
            try db.execute(
                sql: """
                    UPDATE cluster SET deleted_at = ?, is_active = 0, secrets = NULL, name = name || ' (deleted #' || id || ')'
                    WHERE id = ? AND deleted_at IS NULL
                    """,
                arguments: [Timestamp.now(), id]
            )
        }
    }

    /// Sets the host-access keys an admin allows on the cluster.
    func setHostAccess(_ id: Int64, allow: [String]) async throws {
        let json = String(decoding: try JSONEncoder().encode(allow.sorted()), as: UTF8.self)
        try await db.writer.write { db in
            try db.execute(sql: "UPDATE cluster SET host_access_allow = ? WHERE id = ? AND deleted_at IS NULL", arguments: [json, id])
        }
    }

    /// Replaces the cluster's warm pools.
    func setWarmPools(_ id: Int64, _ pools: [WarmPoolSpec]) async throws {
        let json = String(decoding: try JSONEncoder().encode(pools), as: UTF8.self)
        try await db.writer.write { db in
            try db.execute(sql: "UPDATE cluster SET warm_pools = ? WHERE id = ? AND deleted_at IS NULL", arguments: [json, id])
        }
    }

    /// Every active cluster's warm pools, for the lxd-deployer (``WarmPoolsRequest``), including an
    /// empty list for a cluster whose pools were removed, so its instances keep being cleaned up.
    func warmPoolsConfig() async throws -> WarmPoolsConfig {
        let all = try await list()
        return WarmPoolsConfig(
            clusters: all.filter { $0.isActive && $0.canHaveWarmPools && $0.hadWarmPools }.map {
                WarmPoolsConfig.Cluster(clusterId: String($0.id), pools: $0.warmPools)
            }
        )
    }

    /// Records a health check. Returns the previous status when it changed.
    func recordHealth(_ id: Int64, status: String, message: String, metadataJSON: String?) async throws -> String? {
        try await db.writer.write { db in
            let previous = try String.fetchOne(db, sql: "SELECT status FROM cluster WHERE id = ?", arguments: [id])
            try db.execute(
                sql: "UPDATE cluster SET status = ?, health_message = ?, last_check = ?, metadata_json = COALESCE(?, metadata_json) WHERE id = ?",
                arguments: [status, message, Timestamp.now(), metadataJSON, id]
            )
            return previous != status ? previous : nil
        }
    }

    /// A new agent key for an agent-poll cluster (returned once); the current one stays valid for
    /// `overlap` more seconds, so agents can be moved over one by one.
    func rotateAgentKey(_ id: Int64, overlap: Int) async throws -> String {
        let key = KeyStore.base64url(KeyStore.random(32))
        let hash = Data(SHA256Digest.of(key))
        let until = Timestamp.string(Date().addingTimeInterval(Double(overlap)))
        try await db.writer.write { db in
            try db.execute(
                sql: """
                    UPDATE cluster SET agent_key_previous_hash = CASE WHEN ? > 0 THEN agent_key_hash ELSE NULL END,
                        agent_key_previous_until = ?, agent_key_hash = ? WHERE id = ? AND deleted_at IS NULL
                    """,
                arguments: [overlap, until, hash, id]
            )
        }
        return key
    }

    /// Revokes every agent key of the cluster: no agent authenticates until a new key is made.
    func revokeAgentKeys(_ id: Int64) async throws {
        try await db.writer.write { db in
            try db.execute(
                sql: "UPDATE cluster SET agent_key_hash = NULL, agent_key_previous_hash = NULL, agent_key_previous_until = NULL WHERE id = ?",
                arguments: [id]
            )
        }
    }

    /// The active agent-poll clusters and their key hashes, for the agent-broker (``AgentKeysRequest``).
    func agentKeys() async throws -> AgentKeys {
        try await db.writer.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, agent_key_hash, agent_poll_interval, agent_key_previous_hash, agent_key_previous_until FROM cluster
                    WHERE connection_method = ? AND is_active = 1 AND deleted_at IS NULL ORDER BY id
                    """,
                arguments: [ClusterRegistration.Method.agentPoll.rawValue]
            )
            let now = Timestamp.now()
            return AgentKeys(
                clusters: rows.map { row in
                    var hashes: [Data] = [row["agent_key_hash"]].compactMap { $0 }
                    // A rotated key keeps working until its overlap ends.
                    if let previous: Data = row["agent_key_previous_hash"], let until: String = row["agent_key_previous_until"], now < until {
                        hashes.append(previous)
                    }
                    return AgentKeys.Cluster(
                        clusterId: String(row["id"] as Int64),
                        keyHashes: hashes.map { $0.map { String(format: "%02x", $0) }.joined() },
                        pollIntervalSeconds: row["agent_poll_interval"] ?? 300
                    )
                }
            )
        }
    }

    /// Records an agent-poll cluster's health from the agent-broker. Returns the previous status when it changed.
    ///
    /// The broker publishes several changes at once, so two of one cluster may arrive out of
    /// order: a change older than what is recorded (its `last_seen` before the stored one, both
    /// written by the broker in one format) is ignored, so a late `inactive` cannot undo a newer `active`.
    func recordAgentHealth(_ id: Int64, status: String, lastSeen: String?, message: String) async throws -> String? {
        try await db.writer.write { db in
            let previous = try String.fetchOne(db, sql: "SELECT status FROM cluster WHERE id = ?", arguments: [id])
            try db.execute(
                sql: """
                    UPDATE cluster SET status = ?, health_message = ?, last_check = ?, agent_last_seen = COALESCE(?, agent_last_seen)
                    WHERE id = ? AND (? IS NULL OR agent_last_seen IS NULL OR ? >= agent_last_seen)
                    """,
                arguments: [status, message, Timestamp.now(), lastSeen, id, lastSeen, lastSeen]
            )
            guard db.changesCount > 0 else { return nil }
            return previous.flatMap { $0 != status ? $0 : nil }
        }
    }

    /// The connection the deployer needs, secrets unsealed.
    func connection(for c: Cluster) throws -> ClusterConnection? {
        let secrets = try c.secrets.map { try box.open($0) } ?? [:]
        switch c.method {
        case .directAPI:
            return ClusterConnection(
                method: .directAPI,
                endpointURL: c.endpointURL,
                clientCert: c.clientCert,
                clientKey: secrets["client_key"],
                serverCert: c.serverCert,
                serverFingerprint: c.serverFingerprint,
                verifySSL: c.verifySSL
            )
        case .ssh:
            return ClusterConnection(
                method: .ssh,
                sshHost: c.sshHost,
                sshPort: c.sshPort ?? 22,
                sshUser: c.sshUser,
                sshKey: secrets["ssh_key"],
                sshHostKeyFingerprint: c.sshHostKeyFingerprint,
                socketPath: c.socketPath ?? ClusterConnection.defaultSocketPath
            )
        case .unixSocket:
            return ClusterConnection.unixSocket(c.socketPath ?? ClusterConnection.defaultSocketPath)
        case .libvirt:
            return .libvirt(
                LibvirtSettings(
                    uri: c.libvirtURI ?? "qemu:///system",
                    storagePool: c.storagePool ?? "default",
                    network: c.network ?? "default",
                    domainType: c.domainType ?? "kvm",
                    sshKey: secrets["ssh_key"],
                    sshHostKey: c.sshHostKey,
                    clientCert: c.clientCert,
                    clientKey: secrets["client_key"],
                    caCert: c.caCert
                )
            )
        case .agentPoll:
            return nil  // its agent deploys
        }
    }
}

enum SHA256Digest {
    static func of(_ s: String) -> [UInt8] { Array(SHA256.hash(data: Data(s.utf8))) }
}
