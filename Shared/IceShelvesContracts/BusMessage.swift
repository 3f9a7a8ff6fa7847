/// A message that travels on the bus inside an ``Envelope``.
///
/// Each message type names itself and its contract version. A consumer refuses an envelope whose
/// type or version it does not know, and the bus dead-letters it.
public protocol BusMessage: Codable, Sendable {
    /// The wire name of the message, for example `"ping"` or `"deployment.requested"`.
    static var messageType: String { get }
    /// The contract version. Bump it when a change is not backward compatible.
    static var messageVersion: Int { get }
}
