/// A value in an AMQP field table (message headers, queue arguments).
///
/// Only the kinds the project uses are modelled. Others read from the wire are skipped.
public enum HeaderValue: Sendable, Equatable, Hashable {
    case string(String)
    case int(Int64)
    case bool(Bool)

    /// The integer value, if this is an integer.
    public var intValue: Int64? { if case .int(let v) = self { v } else { nil } }
    /// The string value, if this is a string.
    public var stringValue: String? { if case .string(let v) = self { v } else { nil } }
}
