/// Why bytes from the bus could not be read as a message.
public struct ContractError: Error, CustomStringConvertible, Sendable, Equatable {
    private enum Code: Sendable, Equatable {
        case wrongType(expected: String, found: String)
        case unsupportedVersion(type: String, expected: Int, found: Int)
        case malformed(String)
    }

    private let code: Code

    /// The envelope carries another message type than the one expected.
    public static func wrongType(expected: String, found: String) -> Self { .init(code: .wrongType(expected: expected, found: found)) }
    /// The envelope carries a contract version this build does not speak.
    public static func unsupportedVersion(type: String, expected: Int, found: Int) -> Self {
        .init(code: .unsupportedVersion(type: type, expected: expected, found: found))
    }
    /// The bytes are not a valid envelope.
    public static func malformed(_ reason: String) -> Self { .init(code: .malformed(reason)) }

    public var description: String {
        switch code {
        case .wrongType(let expected, let found): "expected message type '\(expected)', got '\(found)'"
        case .unsupportedVersion(let type, let expected, let found):
            "message '\(type)' version \(found) is not supported (this build speaks version \(expected))"
        case .malformed(let reason): "malformed envelope: \(reason)"
        }
    }
}
