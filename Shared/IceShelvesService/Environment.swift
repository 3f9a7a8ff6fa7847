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
}
