import Foundation

/// The versioned wrapper around every message on the bus.
///
/// The JSON form is `{"type", "version", "message_id", "correlation_id", "deployment_id",
/// "timestamp", "payload"}`; see `docs/messages.md`.
public struct Envelope<Payload: BusMessage>: Codable, Sendable {
    /// The message's wire name; it equals `Payload.messageType`.
    public var type: String
    /// The contract version; it equals `Payload.messageVersion`.
    public var version: Int
    /// A unique id for this message. Consumers use it, with the deployment id, to stay idempotent.
    public var messageId: String
    /// Ties a reply or an event to the request it answers.
    public var correlationId: String?
    /// The deployment this message is about, where there is one.
    public var deploymentId: String?
    /// When the message was made.
    public var timestamp: Date
    /// The message itself.
    public var payload: Payload

    /// Wraps `payload` in a new envelope with a fresh message id and the current time.
    public init(
        _ payload: Payload,
        messageId: String = UUID().uuidString.lowercased(),
        correlationId: String? = nil,
        deploymentId: String? = nil,
        timestamp: Date = Date()
    ) {
        self.type = Payload.messageType
        self.version = Payload.messageVersion
        self.messageId = messageId
        self.correlationId = correlationId
        self.deploymentId = deploymentId
        self.timestamp = timestamp
        self.payload = payload
    }

    enum CodingKeys: String, CodingKey {
        case type, version, payload, timestamp
        case messageId = "message_id"
        case correlationId = "correlation_id"
        case deploymentId = "deployment_id"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decode(String.self, forKey: .type)
        let version = try c.decode(Int.self, forKey: .version)
        guard type == Payload.messageType else {
            throw ContractError.wrongType(expected: Payload.messageType, found: type)
        }
        guard version == Payload.messageVersion else {
            throw ContractError.unsupportedVersion(type: type, expected: Payload.messageVersion, found: version)
        }
        self.type = type
        self.version = version
        self.messageId = try c.decode(String.self, forKey: .messageId)
        self.correlationId = try c.decodeIfPresent(String.self, forKey: .correlationId)
        self.deploymentId = try c.decodeIfPresent(String.self, forKey: .deploymentId)
        self.timestamp = try c.decode(Date.self, forKey: .timestamp)
        self.payload = try c.decode(Payload.self, forKey: .payload)
    }
}
