import IceShelvesContracts

extension JSONValue {
    /// A variable's value as JSON.
    init(_ value: VariableValue) {
        switch value {
        case .string(let s): self = .string(s)
        case .integer(let i): self = .number(Double(i))
        case .boolean(let b): self = .bool(b)
        case .list(let l): self = .array(l.map(JSONValue.string))
        }
    }
}
