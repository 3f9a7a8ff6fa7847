import Crypto
import Foundation
import GRDB
import IceShelvesContracts
import Logging
import ServiceLifecycle
import Synchronization

/// Webhooks: deployment.started, deployment.completed, deployment.failed and
/// cluster.status_changed, POSTed as JSON and signed with HMAC-SHA256 over a timestamp and the
/// body (``signatureHeaders(secret:body:timestamp:)``), retried with exponential backoff for
/// about two hours. Deliveries are written in the same transaction as the state change (an
/// outbox) and sent from that table; every attempt is shown by the API.
struct Webhooks: Sendable {
    static let events = WebhookEvent.allCases.map(\.rawValue)
    static let maxAttempts = 15

    let db: GatewayDatabase
    let box: SecretBox
    let poster = WebhookPoster()
    /// Checks and pins each delivery's destination when it is sent.
    let egress: EgressGuard
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

    /// A delivery that is due.
    struct Due: Sendable {
        var id: Int64
        var webhookId: Int64
        var url: String
        var secret: Data
        var event: String
        var payload: String
        var attempts: Int
    }

    /// The oldest due delivery of each webhook not in `busy` (one at a time per webhook keeps
    /// its order, and a slow endpoint holds up only its own deliveries).
    func due(skipping busy: Set<Int64>) async -> [Due] {
        let rows = try? await db.writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT d.id, d.webhook_id, w.url, w.secret, d.event, d.payload, d.attempts FROM webhook_delivery d
                    JOIN webhook w ON w.id = d.webhook_id
                    WHERE d.status = 'pending' AND d.next_attempt_at <= ? ORDER BY d.id LIMIT 500
                    """,
                arguments: [Timestamp.now()]
            )
        }
        var seen = busy
        var out: [Due] = []
        for r in rows ?? [] where !seen.contains(r["webhook_id"]) {
            seen.insert(r["webhook_id"])
            out.append(
                Due(
                    id: r["id"],
                    webhookId: r["webhook_id"],
                    url: r["url"],
                    secret: r["secret"],
                    event: r["event"],
                    payload: r["payload"],
                    attempts: r["attempts"]
                )
            )
        }
        return out
    }

    /// The pause before attempt `n + 1`: 2, 4, 8, … s, at most 15 minutes, with up to 10 %
    /// jitter. ``maxAttempts`` of them span about 1.8 hours.
    static func backoff(afterAttempt n: Int) -> Double {
        let base = min(pow(2, Double(n)), 900)
        return base + Double.random(in: 0...(base / 10))
    }

    /// The signature headers: `X-IceShelves-Timestamp: <unix seconds>` and
    /// `X-IceShelves-Signature: t=<timestamp>,sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`,
    /// so that a receiver can refuse an old delivery played again.
    static func signatureHeaders(secret: String, body: [UInt8], timestamp: Int) -> [String] {
        let signed = Array("\(timestamp).".utf8) + body
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8))).map { String(format: "%02x", $0) }
            .joined()
        return ["X-IceShelves-Timestamp: \(timestamp)", "X-IceShelves-Signature: t=\(timestamp),sha256=\(mac)"]
    }

    /// Sends one delivery and records the outcome.
    func deliver(_ d: Due) async {
        guard let secret = try? box.open(d.secret)["secret"] else { return }
        let body = Array(d.payload.utf8)
        var status = "pending"
        var code: Int?
        var failure: String?
        do {
            guard let u = URLComponents(string: d.url), let host = u.host else { throw EgressGuard.Refused(description: "the URL has no host") }
            let port = u.port ?? (u.scheme == "https" ? 443 : 80)
            let address = try egress.resolve(host: host, port: port)
            let headers =
                ["X-IceShelves-Event: \(d.event)", "X-IceShelves-Delivery: \(d.id)", "User-Agent: IceShelves-Webhooks/1"]
                + Self.signatureHeaders(secret: secret, body: body, timestamp: Int(Date().timeIntervalSince1970))
            switch await poster.post(url: d.url, pin: (host, port, address), body: body, headers: headers) {
            case .success(let c):
                code = c
                if (200..<300).contains(c) { status = "delivered" } else { failure = "HTTP \(c)" }
            case .failure(let e):
                // The deliveries list shows one text for every transport failure, so that it
                // cannot tell a closed port from a silent or non-HTTP one; the log has the reason.
                failure = WebhookPoster.unreachable
                logger.warning("webhook endpoint not reached", metadata: ["delivery": "\(d.id)", "reason": "\(e.message)"])
            }
        } catch {
            status = "failed"  // the destination is not allowed: no retry sends it anywhere
            failure = "refused: \(error)"
        }
        let attempts = d.attempts + 1
        if status == "pending" && attempts >= Self.maxAttempts { status = "failed" }
        let next = Timestamp.string(Date().addingTimeInterval(Self.backoff(afterAttempt: attempts)))
        let (finalStatus, finalCode, finalError) = (status, code, failure)
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
            logger.warning("webhook delivery failed", metadata: ["delivery": "\(d.id)", "attempt": "\(attempts)", "error": "\(failure ?? "")"])
        }
    }
}

/// Sends due webhook deliveries until shutdown: each webhook's deliveries one at a time and in
/// order, different webhooks at once, so one slow endpoint does not hold up the others.
struct WebhookDispatcher: Service {
    let webhooks: Webhooks

    func run() async throws {
        let busy = Busy()
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                for d in await webhooks.due(skipping: busy.ids.withLock { $0 }) {
                    busy.ids.withLock { _ = $0.insert(d.webhookId) }
                    group.addTask {
                        await webhooks.deliver(d)
                        busy.ids.withLock { _ = $0.remove(d.webhookId) }
                    }
                }
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }
}

/// The webhooks with a delivery on its way.
private final class Busy: Sendable {
    let ids = Mutex<Set<Int64>>([])
}
