import Foundation

/// Which hosts clusters and webhooks may point at (`ICESHELVES_ALLOWED_HOSTS`). By default any;
/// a test or lab can limit the gateway to `loopback` (127.0.0.0/8, ::1, localhost) and named
/// hosts, so that nothing it is told can make it send traffic elsewhere.
struct HostPolicy: Sendable {
    /// `nil` allows every host.
    var allowed: Set<String>?

    init(_ setting: String?) {
        guard let setting, !setting.isEmpty, setting != "*" else {
            allowed = nil
            return
        }
        allowed = Set(setting.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
    }

    /// Refuses a host outside the allowed set with 403: the body is well formed, the deployment does not allow it.
    func check(_ host: String, field: String) throws {
        guard let allowed else { return }
        let h = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if allowed.contains(h) { return }
        if allowed.contains("loopback"), h == "localhost" || h == "::1" || Self.isLoopbackIPv4(h) { return }
        throw APIError.forbidden("\(field) host \(host.prefix(255)) is not allowed here (ICESHELVES_ALLOWED_HOSTS)")
    }

    static func isLoopbackIPv4(_ h: String) -> Bool {
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
