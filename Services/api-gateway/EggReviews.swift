import GRDB

/// Egg versions an admin reviewed for host access: their LXD profile may then use what
/// ``HostAccess`` would refuse. A review names the content hash, so new content needs a new one.
struct EggReviews: Sendable {
    let db: GatewayDatabase

    func isReviewed(egg: String, contentHash: String) async throws -> Bool {
        try await db.writer.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM egg_review WHERE egg_name = ? AND content_hash = ?", arguments: [egg, contentHash]) ?? false
        }
    }

    func review(egg: String, contentHash: String, by: String) async throws {
        try await db.writer.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO egg_review (egg_name, content_hash, reviewed_by, reviewed_at) VALUES (?, ?, ?, ?)",
                arguments: [egg, contentHash, by, Timestamp.now()]
            )
        }
    }

    /// Returns `false` when there was no review.
    func withdraw(egg: String, contentHash: String) async throws -> Bool {
        try await db.writer.write { db in
            try db.execute(sql: "DELETE FROM egg_review WHERE egg_name = ? AND content_hash = ?", arguments: [egg, contentHash])
            return db.changesCount > 0
        }
    }
}
