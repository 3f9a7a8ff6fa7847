import Foundation
import GRDB
import IceShelvesContracts

extension Ledger {
    /// One deployment as the API shows it.
    struct Deployment: Codable, Sendable {
        var id: String
        var eggId: Int64?
        var eggName: String
        var eggVersion: String?
        /// The exact egg content deployed (pinned when the deployment was accepted).
        var eggContentHash: String?
        var clusterId: Int64
        var instanceName: String
        var targetMember: String?
        var status: DeploymentStatus
        var deploymentType: TargetType
        var instanceInfo: [String: String]?
        var error: String?
        var deployedBy: String?
        var retryOf: String?
        /// The number of the deployment's latest event.
        var lastSeq: Int64
        var createdAt: String
        var startedAt: String?
        var completedAt: String?
        var updatedAt: String
        /// Set while the instance of a failed deployment could not be removed: when
        /// ``LeftoverCleaner`` tries again.
        var cleanupRetryAt: String?

        enum CodingKeys: String, CodingKey {
            case id, status, error
            case eggId = "egg_id"
            case eggName = "egg_name"
            case eggVersion = "egg_version"
            case eggContentHash = "egg_content_hash"
            case clusterId = "cluster_id"
            case instanceName = "instance_name"
            case targetMember = "target_member"
            case deploymentType = "deployment_type"
            case instanceInfo = "instance_info"
            case deployedBy = "deployed_by"
            case retryOf = "retry_of"
            case lastSeq = "last_seq"
            case createdAt = "created_at"
            case startedAt = "started_at"
            case completedAt = "completed_at"
            case updatedAt = "updated_at"
            case cleanupRetryAt = "cleanup_retry_at"
        }

        init(row: Row) {
            id = row["id"]
            eggId = row["egg_id"]
            eggName = row["egg_name"]
            eggVersion = row["egg_version"]
            eggContentHash = row["egg_content_hash"]
            clusterId = row["cluster_id"]
            instanceName = row["instance_name"]
            targetMember = row["target_member"]
            status = DeploymentStatus(rawValue: row["status"]) ?? .failed
            deploymentType = TargetType(rawValue: row["deployment_type"]) ?? .lxd
            instanceInfo = (row["instance_info_json"] as String?).flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) }
            error = row["error"]
            deployedBy = row["deployed_by"]
            retryOf = row["retry_of"]
            lastSeq = row["last_seq"]
            createdAt = row["created_at"]
            startedAt = row["started_at"]
            completedAt = row["completed_at"]
            updatedAt = row["updated_at"]
            cleanupRetryAt = row["cleanup_retry_at"]
        }
    }

    /// One line of a deployment's log: every event the ledger recorded, numbered.
    struct LogEntry: Codable, Sendable {
        var seq: Int64
        var timestamp: String
        var level: LogLevel
        var step: EventStep?
        var message: String

        init(row: Row) {
            seq = row["seq"] ?? 0
            timestamp = row["timestamp"]
            level = LogLevel(rawValue: row["level"]) ?? .info
            step = (row["step"] as String?).flatMap(EventStep.init(rawValue:))
            message = row["message"]
        }
    }

    /// What recording an event did.
    struct Recorded: Sendable {
        /// The event as numbered and stored, with the deployment's status after it.
        var progress: DeploymentProgress
        /// The status before, when the event moved the deployment; `nil` when it did not.
        var movedFrom: DeploymentStatus?
    }

    /// List filters.
    struct Filter: Sendable {
        var status: DeploymentStatus?
        var clusterId: Int64?
        var eggId: Int64?
        var eggName: String?
    }
}
