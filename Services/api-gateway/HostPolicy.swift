import Foundation

/// Which hosts clusters and webhooks may point at (`ICESHELVES_ALLOWED_HOSTS`): host names or
/// addresses, `loopback` (127.0.0.0/8, ::1, localhost), `private` (RFC 1918, 100.64/10,
/// fc00::/7) and `public` (every other routable address). Unset, any public host is allowed.
/// ``check(_:field:)`` reads the text at registration; ``EgressGuard`` checks the resolved
/// address when a connection is made, and always refuses link-local and metadata addresses.
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
        // A range by name: an address is checked now, a name when it is resolved (EgressGuard).
        let isAddress = h.contains(":") || h.split(separator: ".").allSatisfy { UInt8($0) != nil }
        switch isAddress ? EgressGuard.kind(of: h) : nil {
        case .private?: if allowed.contains("private") { return }
        case .public?: if allowed.contains("public") { return }
        case nil: if allowed.contains("private") || allowed.contains("public") { return }
        default: break
        }
        throw APIError.forbidden("\(field) host \(host.prefix(255)) is not allowed here (ICESHELVES_ALLOWED_HOSTS)")
    }

    static func isLoopbackIPv4(_ h: String) -> Bool {
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
