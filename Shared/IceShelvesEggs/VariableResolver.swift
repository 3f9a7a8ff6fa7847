import IceShelvesContracts

/// Checks caller values against an egg's declared variables and fills in defaults.
public enum VariableResolver {
    /// The final value of every declared variable, or the problems: undeclared names, missing
    /// required values, wrong types, pattern or enumeration mismatches.
    public static func resolve(_ values: [String: VariableValue], declared: [EggVariable]) throws -> [String: VariableValue] {
        var problems: [EggError] = []
        let byName = Dictionary(declared.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for name in values.keys.sorted() where byName[name] == nil {
            problems.append(EggError("variables.\(name.prefix(64))", "is not declared by this egg"))
        }
        var result: [String: VariableValue] = [:]
        for variable in declared {
            if let value = values[variable.name] {
                if let problem = problem(with: value, for: variable) {
                    problems.append(EggError("variables.\(variable.name)", problem))
                } else {
                    result[variable.name] = value
                }
            } else if let d = variable.default {
                result[variable.name] = d
            } else if variable.required {
                problems.append(EggError("variables.\(variable.name)", "is required"))
            }
        }
        guard problems.isEmpty else { throw EggValidationError(egg: "variables", problems: problems) }
        return result
    }

    /// Why `value` does not fit `variable`, or `nil` when it does.
    public static func problem(with value: VariableValue, for variable: EggVariable) -> String? {
        let items: [String]
        switch (variable.type, value) {
        case (.string, .string(let s)): items = [s]
        case (.integer, .integer(let i)): items = [String(i)]
        case (.boolean, .boolean): return nil
        case (.list, .list(let l)):
            if l.count > 256 { return "has more than 256 items" }
            items = l
        default: return "must be \(variable.type == .list ? "a list of strings" : "a \(variable.type.rawValue)")"
        }
        // A pattern stored before patterns were restricted is compiled again here, so an old egg
        // with `(a+)+b` is refused quickly instead of burning CPU.
        var compiled: SafePattern?
        if let pattern = variable.pattern {
            do { compiled = try SafePattern(pattern) } catch { return "cannot be checked: the egg's pattern \(error)" }
        }
        for item in items {
            if item.utf8.count > 16_384 { return "is longer than 16384 bytes" }
            if item.unicodeScalars.contains(where: { $0.value < 32 && $0 != "\n" && $0 != "\t" || $0.value == 0x7f }) {
                return "contains control characters"
            }
            if let allowed = variable.allowed, !allowed.contains(item) { return "must be one of: \(allowed.joined(separator: ", "))" }
            if let compiled {
                do {
                    if try !compiled.wholeMatch(item) { return "does not match the pattern \(variable.pattern ?? "")" }
                } catch {
                    return "could not be checked against the pattern: \(error)"
                }
            }
        }
        return nil
    }
}
