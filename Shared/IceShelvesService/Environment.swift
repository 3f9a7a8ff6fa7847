import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// Reads configuration from the process environment.
public enum Environment {
    /// The value of `key`, or `nil` when it is unset or empty.
    public static func value(_ key: String) -> String? {
        guard let raw = getenv(key) else { return nil }
        let value = String(cString: raw)
        return value.isEmpty ? nil : value
    }

    /// An integer setting: the flag's value, else the environment variable `key`, else
    /// `default`; it must lie in `range`. The error names both the flag and the variable.
    public static func integer(_ flag: Int?, flagName: String, key: String, default: Int, in range: ClosedRange<Int>) throws -> Int {
        let value: Int
        if let flag {
            value = flag
        } else if let text = Self.value(key) {
            guard let v = Int(text) else { throw ValidationError("\(key) must be a number, got '\(text.prefix(20))'") }
            value = v
        } else {
            value = `default`
        }
        guard range.contains(value) else { throw ValidationError("\(flagName) / \(key) must be \(range.lowerBound) to \(range.upperBound)") }
        return value
    }
}
