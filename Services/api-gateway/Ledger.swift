import Foundation
import GRDB
import IceShelvesContracts

/// The deployment ledger: one row per deployment, its log, and legal state moves only.
struct Ledger: Sendable {
    let db: GatewayDatabase

    struct Deployment: Codable, Sendable {
        var id: String
        var eggId: Int64?
        var eggName: String
        var eggVersion: String?
        var clusterId: Int64
        var instanceName: String
        var targetMember: String?
        var status: String
        var deploymentType: String
        var instanceInfo: [String: String]?
        var error: String?
        var deployedBy: String?
        var retryOf: String?
        var createdAt: String
        var startedAt: String?
        var completedAt: String?
        var updatedAt: String

        enum CodingKeys: String, CodingKey {
            case id, status, error
            case eggId = "egg_id"
            case eggName = "egg_name"
            case eggVersion = "egg_version"
            case clusterId = "cluster_id"
            case instanceName = "instance_name"
            case targetMember = "target_member"
            case deploymentType = "deployment_type"
            case instanceInfo = "instance_info"
            case deployedBy = "deployed_by"
            case retryOf = "retry_of"
            case createdAt = "created_at"
            case startedAt = "started_at"
            case completedAt = "completed_at"
            case updatedAt = "updated_at"
        }

        init(row: Row) {
            id = row["id"]
            eggId = row["egg_id"]
            eggName = row["egg_name"]
            eggVersion = row["egg_version"]
            clusterId = row["cluster_id"]
            instanceName = row["instance_name"]
            targetMember = row["target_member"]
            status = row["status"]
            deploymentType = row["deployment_type"]
            instanceInfo = (row["instance_info_json"] as String?).flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) }
            error = row["error"]
            deployedBy = row["deployed_by"]
            retryOf = row["retry_of"]
            createdAt = row["created_at"]
            startedAt = row["started_at"]
            completedAt = row["completed_at"]
            updatedAt = row["updated_at"]
        }
    }

    struct LogEntry: Codable, Sendable {
        var timestamp: String
        var level: String
        var step: String?
        var message: String
    }

    /// The stored request has no connection (its secrets live with the cluster); a retry rebuilds it.
    func insert(id: String, request: DeploymentRequested, eggId: Int64?, clusterId: Int64, deployedBy: String?, retryOf: String? = nil) throws {
        var stored = request
        stored.destination?.connection = ClusterConnection(method: request.destination?.connection.method ?? .unixSocket)
        let json = String(decoding: try JSONEncoder().encode(stored), as: UTF8.self)
        let now = Timestamp.now()
        try db.writer.write { db in
            try db.execute(sql: """
                INSERT INTO deployment (id, egg_id, egg_name, egg_version, cluster_id, instance_name, target_member, status, deployment_type,
                                        request_json, deployed_by, retry_of, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?)
                """, arguments: [id, eggId, request.eggName, request.eggVersion, clusterId, request.instanceName, request.destination?.targetMember,
                                 request.target.rawValue, json, deployedBy, retryOf, now, now])
            try db.execute(sql: "INSERT INTO deployment_log (deployment_id, timestamp, level, step, message) VALUES (?, ?, 'INFO', 'request', ?)",
                           arguments: [id, now, "deployment of \(request.eggName) as \(request.instanceName) requested by \(deployedBy ?? "?")"])
        }
    }

    func get(_ id: String) throws -> Deployment? {
        try db.writer.read { db in try Row.fetchOne(db, sql: "SELECT * FROM deployment WHERE id = ?", arguments: [id]).map(Deployment.init) }
    }

    /// A deployment with its log and its cluster's name, in one read.
    func detail(_ id: String, logLimit: Int = 1000) throws -> (deployment: Deployment, logs: [LogEntry], clusterName: String?)? {
        try db.writer.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT d.*, c.name AS cluster_name FROM deployment d LEFT JOIN cluster c ON c.id = d.cluster_id WHERE d.id = ?",
                                             arguments: [id]) else { return nil }
            let logs = try Row.fetchAll(db, sql: "SELECT timestamp, level, step, message FROM deployment_log WHERE deployment_id = ? ORDER BY id LIMIT ?", arguments: [id, logLimit])
                .map { LogEntry(timestamp: $0["timestamp"], level: $0["level"], step: $0["step"], message: $0["message"]) }
            return (Deployment(row: row), logs, row["cluster_name"])
        }
    }

    func request(_ id: String) throws -> DeploymentRequested? {
        let json: String? = try db.writer.read { try String.fetchOne($0, sql: "SELECT request_json FROM deployment WHERE id = ?", arguments: [id]) }
        return try json.map { try JSONDecoder().decode(DeploymentRequested.self, from: Data($0.utf8)) }
    }

    struct Filter: Sendable {
        var status: String?
        var clusterId: Int64?
        var eggId: Int64?
        var eggName: String?
    }

    func list(_ f: Filter, page: Int, perPage: Int) throws -> (items: [Deployment], total: Int) {
        var clauses: [String] = []
        var args: [any DatabaseValueConvertible] = []
        if let s = f.status { clauses.append("status = ?"); args.append(s) }
        if let c = f.clusterId { clauses.append("cluster_id = ?"); args.append(c) }
        if let e = f.eggId { clauses.append("egg_id = ?"); args.append(e) }
        if let n = f.eggName { clauses.append("egg_name = ?"); args.append(n) }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        return try db.writer.read { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM deployment \(whereSQL)", arguments: StatementArguments(args)) ?? 0
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM deployment \(whereSQL) ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
                                        arguments: StatementArguments(args + [perPage, (page - 1) * perPage]))
            return (rows.map(Deployment.init), total)
        }
    }

    func logs(_ id: String, limit: Int = 1000) throws -> [LogEntry] {
        try db.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT timestamp, level, step, message FROM deployment_log WHERE deployment_id = ? ORDER BY id LIMIT ?", arguments: [id, limit])
                .map { LogEntry(timestamp: $0["timestamp"], level: $0["level"], step: $0["step"], message: $0["message"]) }
        }
    }

    /// Moves a deployment if the move is legal and logs the change. Returns the previous status
    /// when it moved, `nil` when the move was not legal (the event is still logged).
    @discardableResult
    func apply(_ id: String, status next: DeploymentStatus, level: String, step: String?, message: String, instanceInfo: [String: String]? = nil) throws -> DeploymentStatus? {
        let now = Timestamp.now()
        return try db.writer.write { db in
            guard let current = try String.fetchOne(db, sql: "SELECT status FROM deployment WHERE id = ?", arguments: [id]).flatMap(DeploymentStatus.init) else {
                return nil
            }
            try db.execute(sql: "INSERT INTO deployment_log (deployment_id, timestamp, level, step, message) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id, now, level, step, String(message.prefix(4000))])
            guard current.canMove(to: next) else { return nil }
            var sets = ["status = ?", "updated_at = ?"]
            var args: [any DatabaseValueConvertible] = [next.rawValue, now]
            if next == .inProgress { sets.append("started_at = COALESCE(started_at, ?)"); args.append(now) }
            if next.isFinal { sets.append("completed_at = ?"); args.append(now) }
            if next == .failed || next == .timeout { sets.append("error = ?"); args.append(String(message.prefix(4000))) }
            if let info = instanceInfo { sets.append("instance_info_json = ?"); args.append(String(decoding: try JSONEncoder().encode(info), as: UTF8.self)) }
            try db.execute(sql: "UPDATE deployment SET \(sets.joined(separator: ", ")) WHERE id = ?", arguments: StatementArguments(args + [id]))
            return current
        }
    }

    /// Unfinished deployments on a cluster (for `MAX_CONCURRENT_DEPLOYMENTS` and cluster deletion).
    func activeCount(clusterId: Int64) throws -> Int {
        try db.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM deployment WHERE cluster_id = ? AND status NOT IN ('completed','failed','cancelled','timeout')", arguments: [clusterId]) ?? 0 }
    }

    /// Unfinished deployments created before `cutoff`.
    func overdue(before cutoff: String) throws -> [String] {
        try db.writer.read { try String.fetchAll($0, sql: "SELECT id FROM deployment WHERE status NOT IN ('completed','failed','cancelled','timeout') AND created_at < ?", arguments: [cutoff]) }
    }

    func instanceNameInUse(_ name: String, clusterId: Int64) throws -> Bool {
        try db.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM deployment WHERE cluster_id = ? AND instance_name = ? AND status NOT IN ('completed','failed','cancelled','timeout')", arguments: [clusterId, name]) ?? 0 > 0 }
    }
}
