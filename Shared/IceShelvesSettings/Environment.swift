import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// Reads configuration from an environment: the process's (``process``) or a fixed one (tests).
///
/// Settings are read flag first, then environment variable, then default. This module pulls in
/// no server code, so the command-line client and the agent use it too.
public struct Environment: Sendable {
    private let lookup: @Sendable (String) -> String?

    /// The process environment.
    public static let process = Environment { key in
        guard let raw = getenv(key) else { return nil }
        return String(cString: raw)
    }

    /// A fixed environment, for tests.
    public init(_ values: [String: String]) { lookup = { values[$0] } }

    private init(lookup: @escaping @Sendable (String) -> String?) { self.lookup = lookup }

    /// The value of `key`, or `nil` when it is unset or empty.
    public func value(_ key: String) -> String? {
        guard let value = lookup(key), !value.isEmpty else { return nil }
        return value
    }

    /// An integer setting: the flag's value, else the environment variable `key`, else
    /// `default`; it must lie in `range`. The error names both the flag and the variable.
    public func integer(_ flag: Int?, flagName: String, key: String, default: Int, in range: ClosedRange<Int>) throws -> Int {
        let value: Int
        if let flag {
            value = flag
        } else if let text = self.value(key) {
            guard let v = Int(text) else { throw ValidationError("\(key) must be a number, got '\(text.prefix(20))'") }
            value = v
        } else {
            value = `default`
        }
        guard range.contains(value) else { throw ValidationError("\(flagName) / \(key) must be \(range.lowerBound) to \(range.upperBound)") }
        return value
    }

    /// ``value(_:)`` in the process environment.
    public static func value(_ key: String) -> String? { process.value(key) }

    /// ``integer(_:flagName:key:default:in:)`` in the process environment.
    public static func integer(_ flag: Int?, flagName: String, key: String, default: Int, in range: ClosedRange<Int>) throws -> Int {
        try process.integer(flag, flagName: flagName, key: key, default: `default`, in: range)
    }
}
