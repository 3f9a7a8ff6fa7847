import Foundation
import GRDB
import IceShelvesBus

/// The dead-lettered jobs the gateway holds (table `dead_letter`), newest first.
struct DeadLetters: Sendable {
    let db: GatewayDatabase

    /// Stores a dead letter; `false` when one with its id is there already (a redelivery).
    @discardableResult
    func add(_ d: DeadLetter) async throws -> Bool {
        let headers = Self.encode(d.headers)
        return try await db.writer.write { db in
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO dead_letter (id, queue, deployment_id, reason, detail, count, requeues, message_type, message_id,
                                                       correlation_id, content_type, headers_json, body, dead_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    d.id, d.queue, d.deploymentId, d.reason, d.detail, d.count, d.requeues, d.messageType, d.messageId, d.correlationId,
                    d.contentType, headers, Data(d.body), d.deadAt,
                ]
            )
            return db.changesCount > 0
        }
    }

    /// A page of dead letters, newest first, and how many there are.
    func list(limit: Int, offset: Int) async throws -> (letters: [DeadLetter], total: Int) {
        try await db.writer.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM dead_letter ORDER BY dead_at DESC, id LIMIT ? OFFSET ?", arguments: [limit, offset])
            return (rows.map(Self.letter), try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM dead_letter") ?? 0)
        }
    }

    func get(_ id: String) async throws -> DeadLetter? {
        try await db.writer.read { db in try Row.fetchOne(db, sql: "SELECT * FROM dead_letter WHERE id = ?", arguments: [id]).map(Self.letter) }
    }

    /// Removes a dead letter; `false` when there was none with that id.
    @discardableResult
    func remove(_ id: String) async throws -> Bool {
        try await db.writer.write { db in
            try db.execute(sql: "DELETE FROM dead_letter WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    private static func letter(_ row: Row) -> DeadLetter {
        let body: Data = row["body"] ?? Data()
        return DeadLetter(
            id: row["id"],
            queue: row["queue"],
            deploymentId: row["deployment_id"],
            reason: row["reason"],
            detail: row["detail"],
            count: row["count"],
            requeues: row["requeues"],
            messageType: row["message_type"],
            messageId: row["message_id"],
            correlationId: row["correlation_id"],
            contentType: row["content_type"],
            headers: decode(row["headers_json"]),
            body: Array(body),
            deadAt: row["dead_at"]
        )
    }

    /// Headers as a JSON object (strings, integers, booleans: the kinds ``HeaderValue`` has).
    static func encode(_ headers: [String: HeaderValue]) -> String {
        var object: [String: Any] = [:]
        for (k, v) in headers {
            switch v {
            case .string(let s): object[k] = s
            case .int(let i): object[k] = ["int": i]
            case .bool(let b): object[k] = ["bool": b]
            }
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ json: String?) -> [String: HeaderValue] {
        guard let data = json?.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        var headers: [String: HeaderValue] = [:]
        for (k, v) in object {
            if let s = v as? String {
                headers[k] = .string(s)
            } else if let box = v as? [String: Any] {
                if let i = box["int"] as? NSNumber { headers[k] = .int(i.int64Value) }
                if let b = box["bool"] as? Bool { headers[k] = .bool(b) }
            }
        }
        return headers
    }
}
