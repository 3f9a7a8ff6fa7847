import Foundation
import GRDB
import IceShelvesContracts

/// The broker's own SQLite: every job for an agent-poll cluster from the moment it comes off the
/// bus until an agent finishes it (or it is cancelled), with its lease.
///
/// A job is `pending` until an agent takes it; then `leased` until `lease_until`. A lease that
/// runs out makes the job available again, with the same deployment id. Claims happen in one
/// write transaction, so a job is never leased to two agents at once.
struct JobStore: Sendable {
    let writer: any DatabaseWriter

    /// A stored job.
    struct Job: Sendable, Equatable {
        var deploymentId: String
        var clusterId: String
        var target: TargetType
        var rendered: DeploymentRendered
        var state: State
        /// Who holds the lease: `original` (the original agent's protocol) or our agent's id.
        var leaseHolder: String?
        var leaseUntil: Date?
        var handedOut: Int
        var cancelRequested: Bool
    }

    enum State: String, Sendable {
        case pending, leased, finished
    }

    /// Opens (creating) the database at `path`; `nil` opens an in-memory database for tests.
    static func open(path: String?) throws -> JobStore {
        let writer: any DatabaseWriter
        if let path {
            var config = Configuration()
            config.busyMode = .timeout(5)
            writer = try DatabasePool(path: path, configuration: config)
        } else {
            writer = try DatabaseQueue()
        }
        try migrator.migrate(writer)
        return JobStore(writer: writer)
    }

    private static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE job (
                        deployment_id TEXT PRIMARY KEY,
                        cluster_id TEXT NOT NULL,
                        target TEXT NOT NULL,
                        rendered BLOB NOT NULL,
                        state TEXT NOT NULL DEFAULT 'pending',
                        lease_holder TEXT,
                        lease_until REAL,
                        handed_out INTEGER NOT NULL DEFAULT 0,
                        cancel_requested INTEGER NOT NULL DEFAULT 0,
                        created_at REAL NOT NULL,
                        finished_at REAL
                    );
                    CREATE INDEX job_cluster_state ON job (cluster_id, state, created_at);
                    """
            )
        }
        return m
    }

    /// Stores a job from the bus. Returns `false` when it was there already (a redelivery).
    func insert(_ rendered: DeploymentRendered, clusterId: String) async throws -> Bool {
        let blob = try JSONEncoder().encode(rendered)
        return try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO job (deployment_id, cluster_id, target, rendered, created_at)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [rendered.deploymentId, clusterId, rendered.target.rawValue, blob, Date().timeIntervalSince1970]
            )
            return db.changesCount > 0
        }
    }

    /// Leases up to `limit` available jobs of `clusterId` (pending, or leased with an expired
    /// lease) whose target is in `targets`, to `holder` for `lease`.
    func claim(clusterId: String, targets: Set<TargetType>, holder: String, lease: Duration, limit: Int, now: Date = Date()) async throws -> [Job] {
        let until = now.addingTimeInterval(lease.seconds)
        let targetList = targets.map(\.rawValue)
        // Most polls find nothing: a read says so without queueing behind the one writer.
        let available = try await writer.read { db in
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM job WHERE cluster_id = ? AND cancel_requested = 0
                    AND (state = 'pending' OR (state = 'leased' AND lease_until < ?)))
                    """,
                arguments: [clusterId, now.timeIntervalSince1970]
            ) ?? false
        }
        guard available else { return [] }
        return try await writer.write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM job WHERE cluster_id = ? AND cancel_requested = 0
                    AND (state = 'pending' OR (state = 'leased' AND lease_until < ?))
                    ORDER BY created_at LIMIT ?
                    """,
                arguments: [clusterId, now.timeIntervalSince1970, limit * 4]
            )
            var jobs: [Job] = []
            for row in rows {
                guard var job = try Self.job(row), targetList.contains(job.target.rawValue), jobs.count < limit else { continue }
                try db.execute(
                    sql: "UPDATE job SET state = 'leased', lease_holder = ?, lease_until = ?, handed_out = handed_out + 1 WHERE deployment_id = ?",
                    arguments: [holder, until.timeIntervalSince1970, job.deploymentId]
                )
                job.state = .leased
                job.leaseHolder = holder
                job.leaseUntil = until
                job.handedOut += 1
                jobs.append(job)
            }
            return jobs
        }
    }

    /// The job, whatever its state.
    func get(_ deploymentId: String) async throws -> Job? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM job WHERE deployment_id = ?", arguments: [deploymentId]).flatMap { try Self.job($0) }
        }
    }

    /// Extends the lease of an unfinished job. Returns the job, or `nil` when it is finished or unknown.
    func renew(_ deploymentId: String, holder: String, lease: Duration, now: Date = Date()) async throws -> Job? {
        let until = now.addingTimeInterval(lease.seconds)
        return try await writer.write { db in
            try db.execute(
                sql: "UPDATE job SET state = 'leased', lease_holder = ?, lease_until = ? WHERE deployment_id = ? AND state != 'finished'",
                arguments: [holder, until.timeIntervalSince1970, deploymentId]
            )
            guard db.changesCount > 0 else { return nil }
            return try Row.fetchOne(db, sql: "SELECT * FROM job WHERE deployment_id = ?", arguments: [deploymentId]).flatMap { try Self.job($0) }
        }
    }

    /// Marks the job finished: it is never handed out again.
    func finish(_ deploymentId: String, now: Date = Date()) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE job SET state = 'finished', finished_at = ?, lease_until = NULL WHERE deployment_id = ?",
                arguments: [now.timeIntervalSince1970, deploymentId]
            )
        }
    }

    /// A cancel arrived: a job no agent has yet is finished at once (returns `.pending`); a leased
    /// one is flagged so our agent hears it on its next poll (returns `.leased`).
    func requestCancel(_ deploymentId: String, now: Date = Date()) async throws -> State? {
        try await writer.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT state, lease_until FROM job WHERE deployment_id = ?", arguments: [deploymentId]) else {
                return nil
            }
            let state = State(rawValue: row["state"]) ?? .finished
            let leaseUntil: Double? = row["lease_until"]
            let leaseHolds = state == .leased && (leaseUntil ?? 0) >= now.timeIntervalSince1970
            switch state {
            case .finished:
                return .finished
            case .pending,
                .leased where !leaseHolds:
                try db.execute(
                    sql: "UPDATE job SET state = 'finished', cancel_requested = 1, finished_at = ? WHERE deployment_id = ?",
                    arguments: [now.timeIntervalSince1970, deploymentId]
                )
                return .pending
            case .leased:
                try db.execute(sql: "UPDATE job SET cancel_requested = 1 WHERE deployment_id = ?", arguments: [deploymentId])
                return .leased
            }
        }
    }

    /// The unfinished, cancel-flagged jobs `holder` holds: the cancel commands for its next poll.
    func cancels(clusterId: String, holder: String) async throws -> [String] {
        try await writer.read { db in
            try String.fetchAll(
                db,
                sql: "SELECT deployment_id FROM job WHERE cluster_id = ? AND lease_holder = ? AND cancel_requested = 1 AND state = 'leased'",
                arguments: [clusterId, holder]
            )
        }
    }

    /// The clusters that have a job whose lease ran out (their waiting agents should look again).
    func clustersWithExpiredLeases(now: Date = Date()) async throws -> [String] {
        try await writer.read { db in
            try String.fetchAll(
                db,
                sql: "SELECT DISTINCT cluster_id FROM job WHERE state = 'leased' AND lease_until < ? AND cancel_requested = 0",
                arguments: [now.timeIntervalSince1970]
            )
        }
    }

    /// Unfinished jobs per state, for metrics and tests.
    func count(_ state: State) async throws -> Int {
        try await writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM job WHERE state = ?", arguments: [state.rawValue]) ?? 0 }
    }

    private static func job(_ row: Row) throws -> Job? {
        let blob: Data = row["rendered"]
        guard let target = TargetType(rawValue: row["target"]) else { return nil }
        let rendered = try JSONDecoder().decode(DeploymentRendered.self, from: blob)
        let until: Double? = row["lease_until"]
        return Job(
            deploymentId: row["deployment_id"],
            clusterId: row["cluster_id"],
            target: target,
            rendered: rendered,
            state: State(rawValue: row["state"]) ?? .finished,
            leaseHolder: row["lease_holder"],
            leaseUntil: until.map { Date(timeIntervalSince1970: $0) },
            handedOut: row["handed_out"],
            cancelRequested: row["cancel_requested"]
        )
    }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    var seconds: TimeInterval {
        let (s, atto) = components
        return TimeInterval(s) + TimeInterval(atto) / 1e18
    }
}
