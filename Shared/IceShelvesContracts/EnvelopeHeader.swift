import Foundation

/// The envelope fields without the payload, for routing a message before its type is known.
public struct EnvelopeHeader: Codable, Sendable, Equatable {
    /// The message's wire name.
    public var type: String
    /// The contract version.
    public var version: Int
    /// The message id.
    public var messageId: String
    /// The correlation id, if any.
    public var correlationId: String?
    /// The deployment id, if any.
    public var deploymentId: String?

    enum CodingKeys: String, CodingKey {
        case type, version
        case messageId = "message_id"
        case correlationId = "correlation_id"
        case deploymentId = "deployment_id"
    }
}
