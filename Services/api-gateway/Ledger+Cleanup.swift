import Foundation
import GRDB

extension Ledger {
    /// Ended deployments whose instance removal failed and is due again (``LeftoverCleaner``),
    /// oldest first, each with the number of tries so far.
    func cleanupsDue(now: Date, limit: Int = 20) async throws -> [(deployment: Deployment, attempts: Int)] {
        try await db.writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM deployment WHERE cleanup_retry_at IS NOT NULL AND cleanup_retry_at <= ?
                    AND status IN \(SQLStatus.terminal) ORDER BY cleanup_retry_at LIMIT ?
                    """,
                arguments: [Timestamp.string(now), limit]
            ).map { (Deployment(row: $0), $0["cleanup_attempts"] ?? 0) }
        }
    }

    /// After another failed try: the next one at `retryAt`. Nothing changes when the removal was
    /// settled meanwhile (a cleanup event cleared `cleanup_retry_at`).
    func postponeCleanup(_ id: String, attempts: Int, retryAt: Date) async throws {
        try await db.writer.write { db in
            try db.execute(
                sql: "UPDATE deployment SET cleanup_retry_at = ?, cleanup_attempts = ? WHERE id = ? AND cleanup_retry_at IS NOT NULL",
                arguments: [Timestamp.string(retryAt), attempts, id]
            )
        }
    }
}
