import Dispatch
import GRDB

/// The gateway's SQLite database (GRDB): API keys, clusters, the deployment ledger and its
/// logs, webhooks and their deliveries, and the audit log.
struct GatewayDatabase: Sendable {
    let writer: any DatabaseWriter

    /// Opens (and migrates) the database on a thread of its own: SQLite's blocking calls stay
    /// off the cooperative pool and the event loops, here as in every read and write after.
    static func open(path: String) async throws -> GatewayDatabase {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue(label: "iceshelves.gateway.open").async {
                continuation.resume(with: Result { try openNow(path: path) })
            }
        }
    }

    private static func openNow(path: String) throws -> GatewayDatabase {
        var config = Configuration()
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA foreign_keys = ON") }
        let pool = try DatabasePool(path: path, configuration: config)
        try migrator.migrate(pool)
        return GatewayDatabase(writer: pool)
    }

    static func inMemory() throws -> GatewayDatabase {
        var config = Configuration()
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA foreign_keys = ON") }
        let queue = try DatabaseQueue(configuration: config)
        try migrator.migrate(queue)
        return GatewayDatabase(writer: queue)
    }

    private static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: keys, clusters, ledger, audit") { db in
            try db.execute(
                sql: """
                    CREATE TABLE api_key (
                        id TEXT PRIMARY KEY,
                        name TEXT NOT NULL,
                        role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
                        secret_hash BLOB NOT NULL,
                        created_at TEXT NOT NULL,
                        created_by TEXT,
                        revoked_at TEXT,
                        last_used_at TEXT
                    );
                    CREATE TABLE cluster (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL UNIQUE,
                        description TEXT NOT NULL DEFAULT '',
                        connection_method TEXT NOT NULL,
                        endpoint_url TEXT,
                        auth_type TEXT,
                        client_cert TEXT,
                        server_cert TEXT,
                        server_fingerprint TEXT,
                        verify_ssl INTEGER NOT NULL DEFAULT 1,
                        is_cluster INTEGER NOT NULL DEFAULT 0,
                        ssh_host TEXT,
                        ssh_port INTEGER,
                        ssh_user TEXT,
                        ssh_host_key_fingerprint TEXT,
                        socket_path TEXT,
                        agent_poll_interval INTEGER,
                        agent_key_hash BLOB,
                        agent_last_seen TEXT,
                        secrets BLOB,
                        status TEXT NOT NULL DEFAULT 'unknown',
                        is_active INTEGER NOT NULL DEFAULT 1,
                        last_check TEXT,
                        health_message TEXT,
                        metadata_json TEXT NOT NULL DEFAULT '{}',
                        created_at TEXT NOT NULL
                    );
                    CREATE TABLE deployment (
                        id TEXT PRIMARY KEY,
                        egg_id INTEGER,
                        egg_name TEXT NOT NULL,
                        egg_version TEXT,
                        cluster_id INTEGER NOT NULL REFERENCES cluster(id),
                        instance_name TEXT NOT NULL,
                        target_member TEXT,
                        status TEXT NOT NULL,
                        deployment_type TEXT NOT NULL,
                        request_json TEXT NOT NULL,
                        instance_info_json TEXT,
                        error TEXT,
                        deployed_by TEXT,
                        retry_of TEXT,
                        created_at TEXT NOT NULL,
                        started_at TEXT,
                        completed_at TEXT,
                        updated_at TEXT NOT NULL
                    );
                    CREATE INDEX deployment_status ON deployment(status);
                    CREATE INDEX deployment_cluster ON deployment(cluster_id, status);
                    CREATE TABLE deployment_log (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        deployment_id TEXT NOT NULL REFERENCES deployment(id) ON DELETE CASCADE,
                        timestamp TEXT NOT NULL,
                        level TEXT NOT NULL,
                        step TEXT,
                        message TEXT NOT NULL
                    );
                    CREATE INDEX deployment_log_deployment ON deployment_log(deployment_id, id);
                    CREATE TABLE webhook (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        url TEXT NOT NULL,
                        events TEXT NOT NULL,
                        secret BLOB NOT NULL,
                        is_active INTEGER NOT NULL DEFAULT 1,
                        created_at TEXT NOT NULL
                    );
                    CREATE TABLE webhook_delivery (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        webhook_id INTEGER NOT NULL REFERENCES webhook(id) ON DELETE CASCADE,
                        event TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        status TEXT NOT NULL DEFAULT 'pending',
                        attempts INTEGER NOT NULL DEFAULT 0,
                        last_status_code INTEGER,
                        last_error TEXT,
                        next_attempt_at TEXT NOT NULL,
                        created_at TEXT NOT NULL,
                        delivered_at TEXT
                    );
                    CREATE INDEX webhook_delivery_due ON webhook_delivery(status, next_attempt_at);
                    CREATE TABLE audit_log (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        timestamp TEXT NOT NULL,
                        key_id TEXT,
                        key_name TEXT,
                        action TEXT NOT NULL,
                        target TEXT,
                        detail TEXT
                    );
                    """
            )
        }
        m.registerMigration("v2: numbered events") { db in
            try db.execute(
                sql: """
                    ALTER TABLE deployment ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE deployment_log ADD COLUMN seq INTEGER;
                    ALTER TABLE deployment_log ADD COLUMN status TEXT;
                    ALTER TABLE deployment_log ADD COLUMN message_id TEXT;
                    ALTER TABLE deployment_log ADD COLUMN details_json TEXT;
                    UPDATE deployment_log SET seq = (SELECT COUNT(*) FROM deployment_log l WHERE l.deployment_id = deployment_log.deployment_id AND l.id <= deployment_log.id);
                    UPDATE deployment SET last_seq = (SELECT COUNT(*) FROM deployment_log WHERE deployment_id = deployment.id);
                    CREATE UNIQUE INDEX deployment_log_seq ON deployment_log(deployment_id, seq);
                    CREATE UNIQUE INDEX deployment_log_message ON deployment_log(deployment_id, message_id) WHERE message_id IS NOT NULL;
                    """
            )
        }
        m.registerMigration("v3: host access, egg reviews, pinned content, soft-deleted clusters") { db in
            try db.execute(
                sql: """
                    ALTER TABLE cluster ADD COLUMN host_access_allow TEXT NOT NULL DEFAULT '[]';
                    ALTER TABLE cluster ADD COLUMN deleted_at TEXT;
                    ALTER TABLE deployment ADD COLUMN egg_content_hash TEXT;
                    ALTER TABLE deployment ADD COLUMN deployer_budget_seconds INTEGER;
                    CREATE TABLE egg_review (
                        egg_name TEXT NOT NULL,
                        content_hash TEXT NOT NULL,
                        reviewed_by TEXT,
                        reviewed_at TEXT NOT NULL,
                        PRIMARY KEY (egg_name, content_hash)
                    );
                    """
            )
        }
        m.registerMigration("kvm clusters") { db in
            try db.execute(
                sql: """
                    ALTER TABLE cluster ADD COLUMN hypervisor TEXT NOT NULL DEFAULT 'lxd';
                    ALTER TABLE cluster ADD COLUMN libvirt_uri TEXT;
                    ALTER TABLE cluster ADD COLUMN storage_pool TEXT;
                    ALTER TABLE cluster ADD COLUMN libvirt_network TEXT;
                    ALTER TABLE cluster ADD COLUMN domain_type TEXT;
                    ALTER TABLE cluster ADD COLUMN ssh_host_key TEXT;
                    ALTER TABLE cluster ADD COLUMN ca_cert TEXT;
                    """
            )
        }
        m.registerMigration("agent key rotation") { db in
            try db.execute(
                sql: """
                    ALTER TABLE cluster ADD COLUMN agent_key_previous_hash BLOB;
                    ALTER TABLE cluster ADD COLUMN agent_key_previous_until TEXT;
                    """
            )
        }
        m.registerMigration("warm pools") { db in
            try db.execute(sql: "ALTER TABLE cluster ADD COLUMN warm_pools TEXT")
        }
        m.registerMigration("dead letters") { db in
            try db.execute(
                sql: """
                    CREATE TABLE dead_letter (
                        id TEXT PRIMARY KEY,
                        queue TEXT NOT NULL,
                        deployment_id TEXT,
                        reason TEXT NOT NULL,
                        detail TEXT NOT NULL,
                        count INTEGER NOT NULL,
                        requeues INTEGER NOT NULL DEFAULT 0,
                        message_type TEXT,
                        message_id TEXT,
                        correlation_id TEXT,
                        content_type TEXT,
                        headers_json TEXT NOT NULL,
                        body BLOB NOT NULL,
                        dead_at TEXT NOT NULL
                    );
                    CREATE INDEX dead_letter_time ON dead_letter(dead_at);
                    """
            )
        }
        // A failed deployment whose instance could not be removed (its host was unreachable):
        // ``LeftoverCleaner`` tries again at `cleanup_retry_at` until the removal succeeds.
        m.registerMigration("leftover cleanup") { db in
            try db.execute(
                sql: """
                    ALTER TABLE deployment ADD COLUMN cleanup_retry_at TEXT;
                    ALTER TABLE deployment ADD COLUMN cleanup_attempts INTEGER NOT NULL DEFAULT 0;
                    """
            )
        }
        return m
    }
}
