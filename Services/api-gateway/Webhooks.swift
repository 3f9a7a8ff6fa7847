import Crypto
import Foundation
import GRDB
import IceShelvesContracts
import Logging
import ServiceLifecycle

/// Webhooks: deployment.started, deployment.completed, deployment.failed and
/// cluster.status_changed, POSTed as JSON and signed with HMAC-SHA256 over the body
/// (`X-IceShelves-Signature: sha256=<hex>`), retried with exponential backoff. Every delivery
/// and its attempts are kept in the database and shown by the API.
struct Webhooks: Sendable {
    static let events = WebhookEvent.allCases.map(\.rawValue)
    static let maxAttempts = 6

    let db: GatewayDatabase
    let box: SecretBox
    let poster = WebhookPoster()
    let logger: Logger

    struct Hook: Codable, Sendable {
        var id: Int64
        var url: String
        var events: [String]
        var isActive: Bool
        var createdAt: String
        enum CodingKeys: String, CodingKey {
            case id, url, events
            case isActive = "is_active"
            case createdAt = "created_at"
        }
    }

    struct Delivery: Codable, Sendable {
        var id: Int64
        var webhookId: Int64
        var event: String
        var status: String
        var attempts: Int
        var lastStatusCode: Int?
        var lastError: String?
        var nextAttemptAt: String
        var createdAt: String
        var deliveredAt: String?
        enum CodingKeys: String, CodingKey {
            case id, event, status, attempts
            case webhookId = "webhook_id"
            case lastStatusCode = "last_status_code"
            case lastError = "last_error"
            case nextAttemptAt = "next_attempt_at"
            case createdAt = "created_at"
            case deliveredAt = "delivered_at"
        }
    }

    /// Registers a webhook; returns its id and the signing secret (shown once).
    func create(url: String, events: [String]) async throws -> (Int64, String) {
        let secret = KeyStore.base64url(KeyStore.random(32))
        let sealed = try box.seal(["secret": secret])
        let id = try await db.writer.write { db in
            try db.execute(
                sql: "INSERT INTO webhook (url, events, secret, created_at) VALUES (?, ?, ?, ?)",
                arguments: [url, events.joined(separator: ","), sealed, Timestamp.now()]
            )
            return db.lastInsertedRowID
        }
        return (id, secret)
    }

    func list() async throws -> [Hook] {
        try await db.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM webhook ORDER BY id").map {
                Hook(
                    id: $0["id"],
                    url: $0["url"],
                    events: ($0["events"] as String).split(separator: ",").map(String.init),
                    isActive: $0["is_active"],
                    createdAt: $0["created_at"]
                )
            }
        }
    }

    func delete(_ id: Int64) async throws -> Bool {
        try await db.writer.write { db in
            try db.execute(sql: "DELETE FROM webhook WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    func deliveries(webhookId: Int64, limit: Int) async throws -> [Delivery] {
        try await db.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM webhook_delivery WHERE webhook_id = ? ORDER BY id DESC LIMIT ?", arguments: [webhookId, limit])
                .map {
                    Delivery(
                        id: $0["id"],
                        webhookId: $0["webhook_id"],
                        event: $0["event"],
                        status: $0["status"],
                        attempts: $0["attempts"],
                        lastStatusCode: $0["last_status_code"],
                        lastError: $0["last_error"],
                        nextAttemptAt: $0["next_attempt_at"],
                        createdAt: $0["created_at"],
                        deliveredAt: $0["delivered_at"]
                    )
                }
        }
    }

    /// Queues a delivery of `event` to every active webhook that wants it.
    /// Queues `hook` for a deployment's event inside the caller's transaction (the ledger's), so
    /// that the state change and its deliveries are written together or not at all.
    static func enqueue(_ hook: WebhookEvent, progress p: DeploymentProgress, in db: Database) throws {
        try enqueue(
            hook,
            data: [
                "deployment_id": p.deploymentId, "seq": p.seq, "status": p.status.rawValue, "step": p.step.rawValue,
                "message": p.message, "details": p.details,
            ],
            in: db
        )
    }

    /// Queues a delivery of `hook` to every active webhook that wants it.
    func notify(_ hook: WebhookEvent, data: [String: Any]) async {
        guard let payload = Self.payload(hook, data: data) else { return }
        do {
            try await db.writer.write { db in try Self.insertDeliveries(hook, payload: payload, in: db) }
        } catch {
            logger.error("cannot queue a webhook delivery", metadata: ["error": "\(error)"])
        }
    }

    private static func enqueue(_ hook: WebhookEvent, data: [String: Any], in db: Database) throws {
        guard let payload = payload(hook, data: data) else { return }
        try insertDeliveries(hook, payload: payload, in: db)
    }

    private static func payload(_ hook: WebhookEvent, data: [String: Any]) -> String? {
        let body: [String: Any] = ["event": hook.rawValue, "timestamp": Timestamp.now(), "data": data]
        guard let json = try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]) else { return nil }
        return String(decoding: json, as: UTF8.self)
    }

    private static func insertDeliveries(_ hook: WebhookEvent, payload: String, in db: Database) throws {
        let now = Timestamp.now()
        for row in try Row.fetchAll(db, sql: "SELECT id, events FROM webhook WHERE is_active = 1") {
            let wanted = (row["events"] as String).split(separator: ",").map(String.init)
            guard wanted.contains(hook.rawValue) else { continue }
            try db.execute(
                sql: "INSERT INTO webhook_delivery (webhook_id, event, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [row["id"] as Int64, hook.rawValue, payload, now, now]
            )
        }
    }

    /// Sends what is due; called by ``WebhookDispatcher``.
    func deliverDue() async {
        let due: [(id: Int64, url: String, secret: Data, event: String, payload: String, attempts: Int)]
        do {
            due = try await db.writer.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT d.id, w.url, w.secret, d.event, d.payload, d.attempts FROM webhook_delivery d JOIN webhook w ON w.id = d.webhook_id
                        WHERE d.status = 'pending' AND d.next_attempt_at <= ? ORDER BY d.id LIMIT 20
                        """,
                    arguments: [Timestamp.now()]
                ).map { ($0["id"], $0["url"], $0["secret"], $0["event"], $0["payload"], $0["attempts"]) }
            }
        } catch {
            return
        }
        for d in due {
            guard let secret = try? box.open(d.secret)["secret"] else { continue }
            let body = Array(d.payload.utf8)
            let signature = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))).map {
                String(format: "%02x", $0)
            }.joined()
            let result = await poster.post(
                url: d.url,
                body: body,
                headers: [
                    "X-IceShelves-Event: \(d.event)", "X-IceShelves-Delivery: \(d.id)", "X-IceShelves-Signature: sha256=\(signature)",
                    "User-Agent: IceShelves-Webhooks/1",
                ]
            )
            let attempts = d.attempts + 1
            var status = "pending"
            var code: Int?
            var error: String?
            switch result {
            case .success(let c):
                code = c
                if (200..<300).contains(c) { status = "delivered" } else { error = "HTTP \(c)" }
            case .failure(let e):
                error = e.message
            }
            if status == "pending" && attempts >= Self.maxAttempts { status = "failed" }
            let next = Timestamp.string(Date().addingTimeInterval(Double(1 << min(attempts, 10))))  // 2, 4, 8, … s
            let (finalStatus, finalCode, finalError) = (status, code, error)
            try? await db.writer.write { db in
                try db.execute(
                    sql: """
                        UPDATE webhook_delivery SET status = ?, attempts = ?, last_status_code = ?, last_error = ?, next_attempt_at = ?,
                            delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END WHERE id = ?
                        """,
                    arguments: [finalStatus, attempts, finalCode, finalError, next, finalStatus, Timestamp.now(), d.id]
                )
            }
            if status != "delivered" {
                logger.warning("webhook delivery failed", metadata: ["delivery": "\(d.id)", "attempt": "\(attempts)", "error": "\(error ?? "")"])
            }
        }
    }
}

/// Runs ``Webhooks/deliverDue()`` every half second until shutdown.
struct WebhookDispatcher: Service {
    let webhooks: Webhooks

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await webhooks.deliverDue()
            try? await Task.sleep(for: .milliseconds(500))
        }
    }
}
