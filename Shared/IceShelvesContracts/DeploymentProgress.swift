import Foundation

/// One deployment event as the gateway recorded it: what the Server-Sent Events stream sends
/// (`event: deployment`, `id: <seq>`) and what clients decode.
///
/// `seq` counts the events of one deployment from 1, without gaps, in the order the ledger
/// recorded them; `status` is the deployment's status after the event, which never moves
/// backwards (an event that arrives late is still shown, with the status the deployment has).
public struct DeploymentProgress: Codable, Sendable, Equatable {
    public var deploymentId: String
    /// The event's number within its deployment, from 1.
    public var seq: Int64
    /// The deployment's status after this event.
    public var status: DeploymentStatus
    public var step: EventStep
    public var level: LogLevel
    public var message: String
    public var details: [String: String]
    /// When the event was made (ISO 8601).
    public var timestamp: String

    public init(
        deploymentId: String,
        seq: Int64,
        status: DeploymentStatus,
        step: EventStep,
        level: LogLevel,
        message: String,
        details: [String: String],
        timestamp: String
    ) {
        self.deploymentId = deploymentId
        self.seq = seq
        self.status = status
        self.step = step
        self.level = level
        self.message = message
        self.details = details
        self.timestamp = timestamp
    }

    enum CodingKeys: String, CodingKey {
        case seq, status, step, level, message, details, timestamp
        case deploymentId = "deployment_id"
    }
}
