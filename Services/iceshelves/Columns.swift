import Foundation

/// The columns a list or show prints: a command's defaults, or the ones `-c` names (dotted paths
/// such as `instance_info.ipv4` reach into nested objects).
struct Columns: Sendable, Equatable {
    var names: [String]
    /// Whether the user picked them; otherwise `json` and `yaml` print whole objects.
    var picked: Bool

    /// Parses `-c name,status` (also accepted several times); `nil` or empty keeps the defaults.
    static func parse(_ specs: [String], defaults: [String]) throws -> Columns {
        let names = specs.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if names.isEmpty { return Columns(names: defaults, picked: false) }
        for n in names where !n.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }) {
            throw CLIError("bad column '\(n.prefix(40))': use field names such as \(defaults.prefix(3).joined(separator: ","))")
        }
        return Columns(names: names, picked: true)
    }

    /// The picked fields of one object (whole object when not picked).
    func project(_ item: JSONValue) -> JSONValue {
        guard picked else { return item }
        var out: [String: JSONValue] = [:]
        for n in names { out[n] = item.value(at: n) ?? .null }
        return .object(out)
    }
}
