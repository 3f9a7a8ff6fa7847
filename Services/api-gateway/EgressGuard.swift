import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where the gateway itself may send traffic (webhooks), checked when the connection is made:
/// the name is resolved, every address is classified, and the connection is pinned to the
/// address that was checked (so a name cannot resolve to something else a moment later).
///
/// - Link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254),
///   unspecified and multicast addresses are always refused.
/// - Loopback (127.0.0.0/8, ::1) and private ranges (10/8, 172.16/12, 192.168/16, 100.64/10,
///   fc00::/7) only when `--allowed-hosts` names `loopback`, `private` or that host.
/// - Any other (public) address, unless `--allowed-hosts` is set and does not name the host.
struct EgressGuard: Sendable {
    let policy: HostPolicy

    enum Kind: String { case forbidden, loopback, `private`, `public` }

    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    /// The address to connect to, or why not.
    func resolve(host: String, port: Int) throws -> String {
        let name = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let addresses = try Self.lookup(name, port: port)
        guard !addresses.isEmpty else { throw Refused(description: "\(host.prefix(255)) does not resolve") }
        let allowed = policy.allowed
        for address in addresses {
            switch Self.kind(of: address) {
            case .forbidden:
                throw Refused(description: "\(host.prefix(255)) resolves to \(address), a link-local, metadata or reserved address")
            case .loopback:
                guard let allowed, allowed.contains("loopback") || allowed.contains(name.lowercased()) else {
                    throw Refused(description: "\(host.prefix(255)) resolves to a loopback address; --allowed-hosts must name loopback")
                }
            case .private:
                guard let allowed, allowed.contains("private") || allowed.contains(name.lowercased()) else {
                    throw Refused(description: "\(host.prefix(255)) resolves to a private address; --allowed-hosts must name private or the host")
                }
            case .public:
                if let allowed, !allowed.contains(name.lowercased()), !allowed.contains("public") {
                    throw Refused(description: "\(host.prefix(255)) is not in --allowed-hosts")
                }
            }
        }
        return addresses[0]
    }

    /// The numeric addresses of a name (or of an address).
    static func lookup(_ name: String, port: Int) throws -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(name, String(port), &hints, &result)
        guard rc == 0, let first = result else { throw Refused(description: "\(name.prefix(255)) does not resolve") }
        defer { freeaddrinfo(first) }
        var out: [String] = []
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let ai = next {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(ai.pointee.ai_addr, ai.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !out.contains(text) { out.append(text) }
            }
            next = ai.pointee.ai_next
        }
        return out
    }

    /// Classifies a numeric IPv4 or IPv6 address.
    static func kind(of address: String) -> Kind {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            let b = withUnsafeBytes(of: v4.s_addr) { Array($0) }
            switch (b[0], b[1]) {
            case (0, _), (169, 254), (224...255, _): return .forbidden
            case (127, _): return .loopback
            case (10, _), (192, 168), (172, 16...31), (100, 64...127): return .private
            default: return .public
            }
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, address.split(separator: "%").first.map(String.init) ?? address, &v6) == 1 else { return .forbidden }
        let b = withUnsafeBytes(of: v6) { Array($0) }
        if b.allSatisfy({ $0 == 0 }) { return .forbidden }
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return .loopback }
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff {  // IPv4-mapped
            return kind(of: "\(b[12]).\(b[13]).\(b[14]).\(b[15])")
        }
        if b[0] == 0xfe && (b[1] & 0xc0) == 0x80 { return .forbidden }  // fe80::/10
        if b[0] == 0xff { return .forbidden }  // multicast
        if b[0] == 0xfd && b[1] == 0x00 && b[2] == 0x0e && b[3] == 0xc2 { return .forbidden }  // fd00:ec2::/32, the AWS metadata service
        if (b[0] & 0xfe) == 0xfc { return .private }  // fc00::/7
        return .public
    }
}
