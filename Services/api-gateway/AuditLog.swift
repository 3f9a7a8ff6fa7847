import GRDB

/// Who did what: every change through the API, with the key that did it.
struct AuditLog: Sendable {
    let db: GatewayDatabase

    func record(_ who: Identity?, _ action: String, target: String? = nil, detail: String? = nil) async {
        try? await db.writer.write { db in
            try db.execute(
                sql: "INSERT INTO audit_log (timestamp, key_id, key_name, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [Timestamp.now(), who?.keyId, who?.name, action, target, detail.map { String($0.prefix(1000)) }]
            )
        }
    }

    struct Entry: Codable, Sendable {
        var timestamp: String
        var keyId: String?
        var keyName: String?
        var action: String
        var target: String?
        var detail: String?

        enum CodingKeys: String, CodingKey {
            case timestamp, action, target, detail
            case keyId = "key_id"
            case keyName = "key_name"
        }
    }

    func recent(limit: Int, offset: Int) async throws -> (entries: [Entry], total: Int) {
        try await db.writer.read { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_log") ?? 0
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY id DESC LIMIT ? OFFSET ?", arguments: [limit, offset])
            return (
                rows.map {
                    Entry(
                        timestamp: $0["timestamp"],
                        keyId: $0["key_id"],
                        keyName: $0["key_name"],
                        action: $0["action"],
                        target: $0["target"],
                        detail: $0["detail"]
                    )
                }, total
            )
        }
    }
}
