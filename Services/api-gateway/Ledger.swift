import Foundation
import GRDB
import IceShelvesContracts

/// The deployment ledger: one row per deployment and its numbered log, legal state moves only.
///
/// Every event is recorded with the next `seq` of its deployment; the status moves only
/// forwards (``DeploymentStatus/canMove(to:)``), so a late event is logged but changes nothing.
/// Every call uses GRDB's async access: no SQLite call runs on an event loop or the cooperative pool.
struct Ledger: Sendable {
    let db: GatewayDatabase

    /// Inserts new deployments, each with its first event (`pending`, step `request`), in one
    /// transaction that first checks the cluster's limit of unfinished deployments and that no
    /// unfinished deployment on the cluster uses one of the instance names.
    /// `observe` sees each new deployment's first event inside the transaction.
    func insert(
        _ requests: [DeploymentRequested],
        eggId: Int64?,
        clusterId: Int64,
        clusterName: String,
        deployedBy: String?,
        retryOf: String? = nil,
        limit: Int,
        observe: @escaping @Sendable (Database, Recorded) throws -> Void = { _, _ in }
    ) async throws -> [DeploymentProgress] {
        var rows: [(request: DeploymentRequested, json: String)] = []
        for request in requests {
            // The request names its cluster by id only: no connection, no secret is stored or sent.
            rows.append((request, String(decoding: try JSONEncoder().encode(request), as: UTF8.self)))
        }
        let now = Timestamp.now()
        let pending = rows
        return try await db.writer.write { db in
            let active =
                try Int.fetchOne(
                    db,
                    sql: "SELECT COUNT(*) FROM deployment WHERE cluster_id = ? AND status IN \(SQLStatus.active)",
                    arguments: [clusterId]
                ) ?? 0
            guard active + pending.count <= limit else {
                throw APIError(
                    .tooManyRequests,
                    "cluster \(clusterName) has \(active) active deployment(s); the limit is \(limit) (MAX_CONCURRENT_DEPLOYMENTS)"
                )
            }
            var out: [DeploymentProgress] = []
            for (request, json) in pending {
                let taken =
                    try Int.fetchOne(
                        db,
                        sql: "SELECT COUNT(*) FROM deployment WHERE cluster_id = ? AND instance_name = ? AND status IN \(SQLStatus.active)",
                        arguments: [clusterId, request.instanceName]
                    ) ?? 0
                guard taken == 0 else {
                    throw APIError.conflict("an active deployment on cluster \(clusterName) already uses the instance name \(request.instanceName)")
                }
                let message =
                    retryOf.map { "retry of \($0) as \(request.instanceName) requested by \(deployedBy ?? "?")" }
                    ?? "deployment of \(request.eggName) as \(request.instanceName) requested by \(deployedBy ?? "?")"
                try db.execute(
                    sql: """
                        INSERT INTO deployment (id, egg_id, egg_name, egg_version, egg_content_hash, cluster_id, instance_name, target_member, status,
                                                deployment_type, request_json, deployed_by, retry_of, last_seq, created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
                        """,
                    arguments: [
                        request.deploymentId, eggId, request.eggName, request.eggVersion, request.eggContentHash, clusterId, request.instanceName,
                        request.destination?.targetMember, DeploymentStatus.pending.rawValue, request.target.rawValue, json, deployedBy,
                        retryOf, now, now,
                    ]
                )
                try db.execute(
                    sql: "INSERT INTO deployment_log (deployment_id, seq, status, timestamp, level, step, message) VALUES (?, 1, ?, ?, ?, ?, ?)",
                    arguments: [
                        request.deploymentId, DeploymentStatus.pending.rawValue, now, LogLevel.info.rawValue, EventStep.request.rawValue, message,
                    ]
                )
                let first = DeploymentProgress(
                    deploymentId: request.deploymentId,
                    seq: 1,
                    status: .pending,
                    step: .request,
                    level: .info,
                    message: message,
                    details: [:],
                    timestamp: now
                )
                try observe(db, Recorded(progress: first, movedFrom: nil))
                out.append(first)
            }
            return out
        }
    }

    /// Records an event: logs it with the deployment's next `seq` and moves the status if the
    /// move is legal. `nil` when there is no such deployment, or when the message with this
    /// `messageId` was recorded already (the bus delivers at least once). `observe` runs inside
    /// the transaction, after the change: what it writes is committed with it, and what it
    /// publishes goes out in `seq` order.
    func record(
        _ id: String,
        _ event: DeploymentEvent,
        timestamp: String = Timestamp.now(),
        messageId: String? = nil,
        observe: @escaping @Sendable (Database, Recorded) throws -> Void = { _, _ in }
    ) async throws -> Recorded? {
        let message = String(event.message.prefix(4000))
        let details = event.details.isEmpty ? nil : String(decoding: try JSONEncoder().encode(event.details), as: UTF8.self)
        return try await db.writer.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT status, last_seq FROM deployment WHERE id = ?", arguments: [id]),
                let current = DeploymentStatus(rawValue: row["status"])
            else { return nil }
            if let messageId,
                try Int.fetchOne(
                    db,
                    sql: "SELECT COUNT(*) FROM deployment_log WHERE deployment_id = ? AND message_id = ?",
                    arguments: [id, messageId]
                ) ?? 0 > 0
            {
                return nil
            }
            let seq: Int64 = row["last_seq"] + 1
            let moves = current.canMove(to: event.status)
            let after = moves ? event.status : current
            try db.execute(
                sql: """
                    INSERT INTO deployment_log (deployment_id, seq, status, message_id, timestamp, level, step, message, details_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [id, seq, after.rawValue, messageId, timestamp, event.level.rawValue, event.step.rawValue, message, details]
            )
            var sets = ["last_seq = ?", "updated_at = ?"]
            var args: StatementArguments = [seq, timestamp]
            if let budget = event.details[DeploymentEvent.budgetKey].flatMap(Int.init), budget > 0 {
                sets.append("deployer_budget_seconds = ?")
                args += [min(budget, 7 * 86400)]
            }
            // A removal that failed leaves the instance for ``LeftoverCleaner``; any other
            // cleanup event (an instance removed, or nothing left to remove) settles it.
            if event.step == .cleanup {
                if event.level == .error {
                    sets.append("cleanup_retry_at = COALESCE(cleanup_retry_at, ?)")
                    args += [Timestamp.string((Timestamp.date(timestamp) ?? Date()).addingTimeInterval(LeftoverCleaner.firstDelay))]
                } else {
                    sets.append("cleanup_retry_at = NULL, cleanup_attempts = 0")
                }
            }
            if moves {
                sets.append("status = ?")
                args += [event.status.rawValue]
                if event.status == .inProgress {
                    sets.append("started_at = COALESCE(started_at, ?)")
                    args += [timestamp]
                }
                if event.status.isTerminal {
                    sets.append("completed_at = ?")
                    args += [timestamp]
                }
                if event.status == .failed || event.status == .timeout {
                    sets.append("error = ?")
                    args += [message]
                }
                if event.status == .completed {
                    sets.append("instance_info_json = ?")
                    args += [String(decoding: try JSONEncoder().encode(event.details), as: UTF8.self)]
                }
            }
            try db.execute(sql: "UPDATE deployment SET \(sets.joined(separator: ", ")) WHERE id = ?", arguments: args + [id])
            let progress = DeploymentProgress(
                deploymentId: id,
                seq: seq,
                status: after,
                step: event.step,
                level: event.level,
                message: message,
                details: event.details,
                timestamp: timestamp
            )
            let recorded = Recorded(progress: progress, movedFrom: moves ? current : nil)
            try observe(db, recorded)
            return recorded
        }
    }

    func get(_ id: String) async throws -> Deployment? {
        try await db.writer.read { db in try Row.fetchOne(db, sql: "SELECT * FROM deployment WHERE id = ?", arguments: [id]).map(Deployment.init) }
    }

    /// A deployment with its log and its cluster's name, in one read.
    func detail(_ id: String, logLimit: Int = 1000) async throws -> (deployment: Deployment, logs: [LogEntry], clusterName: String?)? {
        try await db.writer.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: "SELECT d.*, c.name AS cluster_name FROM deployment d LEFT JOIN cluster c ON c.id = d.cluster_id WHERE d.id = ?",
                    arguments: [id]
                )
            else { return nil }
            let logs = try Row.fetchAll(
                db,
                sql: "SELECT seq, timestamp, level, step, message FROM deployment_log WHERE deployment_id = ? ORDER BY id LIMIT ?",
                arguments: [id, logLimit]
            ).map(LogEntry.init)
            return (Deployment(row: row), logs, row["cluster_name"])
        }
    }

    func request(_ id: String) async throws -> DeploymentRequested? {
        let json: String? = try await db.writer.read {
            try String.fetchOne($0, sql: "SELECT request_json FROM deployment WHERE id = ?", arguments: [id])
        }
        return try json.map { try JSONDecoder().decode(DeploymentRequested.self, from: Data($0.utf8)) }
    }

    func list(_ f: Filter, page: Int, perPage: Int) async throws -> (items: [Deployment], total: Int) {
        var clauses: [String] = []
        var args: StatementArguments = []
        if let s = f.status {
            clauses.append("status = ?")
            args += [s.rawValue]
        }
        if let c = f.clusterId {
            clauses.append("cluster_id = ?")
            args += [c]
        }
        if let e = f.eggId {
            clauses.append("egg_id = ?")
            args += [e]
        }
        if let n = f.eggName {
            clauses.append("egg_name = ?")
            args += [n]
        }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let filterArgs = args
        let pageArgs = args + [perPage, (page - 1) * perPage]
        return try await db.writer.read { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM deployment \(whereSQL)", arguments: filterArgs) ?? 0
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM deployment \(whereSQL) ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
                arguments: pageArgs
            )
            return (rows.map(Deployment.init), total)
        }
    }

    /// A deployment's events after `seq`, as they were recorded (for a stream that resumes).
    func progress(_ id: String, after seq: Int64, limit: Int = 1000) async throws -> [DeploymentProgress] {
        try await db.writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, status, timestamp, level, step, message, details_json FROM deployment_log
                    WHERE deployment_id = ? AND seq > ? ORDER BY seq LIMIT ?
                    """,
                arguments: [id, seq, limit]
            ).map { row in
                DeploymentProgress(
                    deploymentId: id,
                    seq: row["seq"],
                    status: (row["status"] as String?).flatMap(DeploymentStatus.init(rawValue:)) ?? .pending,
                    step: (row["step"] as String?).flatMap(EventStep.init(rawValue:)) ?? .deploy,
                    level: LogLevel(rawValue: row["level"]) ?? .info,
                    message: row["message"],
                    details: (row["details_json"] as String?).flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) }
                        ?? [:],
                    timestamp: row["timestamp"]
                )
            }
        }
    }

    func logs(_ id: String, limit: Int = 1000) async throws -> [LogEntry] {
        try await db.writer.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT seq, timestamp, level, step, message FROM deployment_log WHERE deployment_id = ? ORDER BY id LIMIT ?",
                arguments: [id, limit]
            ).map(LogEntry.init)
        }
    }

    /// Unfinished deployments on a cluster (for cluster deletion).
    func activeCount(clusterId: Int64) async throws -> Int {
        try await db.writer.read {
            try Int.fetchOne(
                $0,
                sql: "SELECT COUNT(*) FROM deployment WHERE cluster_id = ? AND status IN \(SQLStatus.active)",
                arguments: [clusterId]
            ) ?? 0
        }
    }

    /// Unfinished deployments created before `cutoff`.
    /// Unfinished deployments past their time, with the reason:
    /// - not taken by a deployer within `queueTimeout` of their creation;
    /// - taken, and without a result `deploymentTimeout` after that, or the deployer's own budget
    ///   (from its `accept` event) plus `grace`, whichever is longer.
    func overdue(now: Date, deploymentTimeout: Int, queueTimeout: Int, grace: Int = 60) async throws -> [(id: String, message: String)] {
        let rows = try await db.writer.read {
            try Row.fetchAll(
                $0,
                sql: "SELECT id, status, created_at, started_at, deployer_budget_seconds FROM deployment WHERE status IN \(SQLStatus.active)"
            )
        }
        let queueCutoff = Timestamp.string(now.addingTimeInterval(-Double(queueTimeout)))
        return rows.compactMap { row -> (String, String)? in
            let id: String = row["id"]
            guard let started: String = row["started_at"] else {
                let created: String = row["created_at"]
                return created < queueCutoff ? (id, "no deployer took it within \(queueTimeout) s (QUEUE_TIMEOUT)") : nil
            }
            let budget: Int? = row["deployer_budget_seconds"]
            let limit = max(deploymentTimeout, (budget ?? 0) + grace)
            return started < Timestamp.string(now.addingTimeInterval(-Double(limit)))
                ? (id, "no result \(limit) s after a deployer took it (DEPLOYMENT_TIMEOUT, or the deployer's own budget)") : nil
        }
    }
}
