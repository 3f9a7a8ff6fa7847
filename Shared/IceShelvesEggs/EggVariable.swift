import IceShelvesContracts

/// A variable an egg declares, which a deploy (or "create from template") may set.
public struct EggVariable: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case string, integer, boolean
        /// A list of strings, for example SSH public keys.
        case list
    }

    public var name: String
    public var description: String
    public var type: Kind
    public var `default`: VariableValue?
    public var required: Bool
    /// A regular expression the whole value (each item, for lists) must match.
    public var pattern: String?
    /// The allowed values, when the variable is an enumeration.
    public var allowed: [String]?

    public init(
        name: String,
        description: String = "",
        type: Kind = .string,
        default: VariableValue? = nil,
        required: Bool = false,
        pattern: String? = nil,
        allowed: [String]? = nil
    ) {
        self.name = name
        self.description = description
        self.type = type
        self.default = `default`
        self.required = required
        self.pattern = pattern
        self.allowed = allowed
    }

    enum CodingKeys: String, CodingKey {
        case name, description, type, `default`, required, pattern
        case allowed = "enum"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        description = try c.decodeIfPresent(String.self, forKey: .description) ?? ""
        type = try c.decodeIfPresent(Kind.self, forKey: .type) ?? .string
        `default` = try c.decodeIfPresent(VariableValue.self, forKey: .default)
        required = try c.decodeIfPresent(Bool.self, forKey: .required) ?? false
        pattern = try c.decodeIfPresent(String.self, forKey: .pattern)
        allowed = try c.decodeIfPresent([String].self, forKey: .allowed)
    }
}
