/// A variable's value: JSON string, integer, boolean or list of strings.
public enum VariableValue: Codable, Sendable, Equatable, Hashable {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case list([String])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) {
            self = .boolean(b)
        } else if let i = try? c.decode(Int.self) {
            self = .integer(i)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let l = try? c.decode([String].self) {
            self = .list(l)
        } else {
            throw DecodingError.dataCorruptedError(
                in: c,
                debugDescription: "a variable value must be a string, an integer, a boolean or a list of strings"
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .integer(let i): try c.encode(i)
        case .boolean(let b): try c.encode(b)
        case .list(let l): try c.encode(l)
        }
    }
}
