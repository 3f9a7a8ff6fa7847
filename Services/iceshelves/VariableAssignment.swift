import Foundation
import IceShelvesContracts

/// `--var name=value`. The value is typed by the egg's declared variable (integer, boolean,
/// list as `a,b,c`); a variable the egg does not declare is sent as a string.
struct VariableAssignment: Sendable, Equatable {
    var name: String
    var text: String

    static func parse(_ spec: String) throws -> VariableAssignment {
        guard let eq = spec.firstIndex(of: "="), eq != spec.startIndex else { throw CLIError("--var takes name=value, got '\(spec.prefix(60))'") }
        let name = String(spec[..<eq])
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            throw CLIError("bad variable name '\(name.prefix(60))'")
        }
        return VariableAssignment(name: name, text: String(spec[spec.index(after: eq)...]))
    }

    /// The value typed as `type` (`string`, `integer`, `boolean`, `list`).
    func value(as type: String?) throws -> VariableValue {
        switch type {
        case "integer":
            guard let i = Int(text) else { throw CLIError("variable \(name) must be an integer, got '\(text.prefix(40))'") }
            return .integer(i)
        case "boolean":
            switch text.lowercased() {
            case "true", "yes", "1", "on": return .boolean(true)
            case "false", "no", "0", "off": return .boolean(false)
            default: throw CLIError("variable \(name) must be true or false, got '\(text.prefix(40))'")
            }
        case "list":
            return .list(text.isEmpty ? [] : text.split(separator: ",", omittingEmptySubsequences: false).map(String.init))
        default:
            return .string(text)
        }
    }

    /// The declared variable types (`name` → `type`) in an egg's `metadata_json`.
    static func declaredTypes(in egg: JSONValue) -> [String: String] {
        var meta = egg["metadata"]
        if let text = egg["metadata_json"]?.string { meta = try? JSONValue.parse(Data(text.utf8)) }
        var out: [String: String] = [:]
        for v in meta?["variables"]?.array ?? [] {
            if let n = v["name"]?.string { out[n] = v["type"]?.string ?? "string" }
        }
        return out
    }
}
