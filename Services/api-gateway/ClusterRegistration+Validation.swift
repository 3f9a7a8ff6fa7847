import Foundation
import IceShelvesContracts

extension ClusterRegistration {
    /// Checks the body for its method and returns it normalised: only the method's fields, every
    /// default filled in. A bad body is a 400 that names the field.
    func validated(hosts: HostPolicy, allowInsecureLibvirt: Bool = false) throws -> ClusterRegistration {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...100).contains(trimmed.unicodeScalars.count) else { throw APIError.badRequest("name must be 1 to 100 characters") }
        guard (description ?? "").unicodeScalars.count <= 2000 else { throw APIError.badRequest("description must be at most 2000 characters") }
        var r = ClusterRegistration(name: trimmed, description: description ?? "", connectionMethod: connectionMethod)
        let kind = hypervisor ?? (connectionMethod == .libvirt ? .kvm : .lxd)
        // A KVM hypervisor is reached over libvirt, or by its agent (agent-poll) through the local libvirt.
        guard kind == .kvm ? [.libvirt, .agentPoll].contains(connectionMethod) : connectionMethod != .libvirt else {
            throw APIError.badRequest(
                kind == .kvm
                    ? "a kvm cluster uses connection_method libvirt (with libvirt_uri) or agent-poll"
                    : "connection_method libvirt is for kvm clusters (hypervisor: kvm)"
            )
        }
        r.hypervisor = kind
        switch connectionMethod {
        case .libvirt:
            try validateLibvirt(into: &r, hosts: hosts, allowInsecure: allowInsecureLibvirt)
        case .directAPI:
            guard let url = endpointURL, let parsed = URLComponents(string: url), parsed.scheme == "https", let host = parsed.host, !host.isEmpty
            else {
                throw APIError.badRequest("endpoint_url must be https://host:port")
            }
            try hosts.check(host, field: "endpoint_url")
            r.endpointURL = url
            r.authType = authType ?? "certificate"
            guard r.authType == "certificate" else { throw APIError.badRequest("auth_type must be certificate") }
            r.clientCert = try Self.pem(clientCert, "client_cert", marker: "BEGIN CERTIFICATE")
            r.clientKey = try Self.pem(clientKey, "client_key", marker: "PRIVATE KEY")
            if let s = serverCert { r.serverCert = try Self.pem(s, "server_cert", marker: "BEGIN CERTIFICATE") }
            if let f = serverFingerprint {
                let hex = f.lowercased().filter { $0 != ":" }
                guard hex.unicodeScalars.count == 64, hex.unicodeScalars.allSatisfy({ $0.isASCII && $0.properties.isASCIIHexDigit }) else {
                    throw APIError.badRequest("server_fingerprint must be the certificate's SHA-256 in hex")
                }
                r.serverFingerprint = hex
            }
            r.verifySSL = verifySSL ?? true
            if r.serverCert == nil && r.serverFingerprint == nil && r.verifySSL == true {
                throw APIError.badRequest(
                    "give server_cert (PEM) or server_fingerprint to pin the server, or verify_ssl: false to turn verification off explicitly"
                )
            }
            r.isCluster = isCluster ?? false
        case .ssh:
            guard let host = sshHost, (1...255).contains(host.unicodeScalars.count), !host.contains(where: { $0.isWhitespace || $0 == "/" }) else {
                throw APIError.badRequest("ssh_host is required")
            }
            try hosts.check(host, field: "ssh_host")
            r.sshHost = host
            let port = sshPort ?? 22
            guard (1...65535).contains(port) else { throw APIError.badRequest("ssh_port must be 1 to 65535") }
            r.sshPort = port
            guard let user = sshUser, (1...64).contains(user.unicodeScalars.count) else { throw APIError.badRequest("ssh_user is required") }
            r.sshUser = user
            r.sshKey = try Self.pem(sshKey, "ssh_key", marker: "PRIVATE KEY")
            guard let fp = sshHostKeyFingerprint, fp.hasPrefix("SHA256:"), fp.unicodeScalars.count <= 80 else {
                throw APIError.badRequest(
                    "ssh_host_key_fingerprint is required (SHA256:… as ssh-keygen -lf prints it): an unknown host key is refused"
                )
            }
            r.sshHostKeyFingerprint = fp
            r.socketPath = try Self.path(socketPath, "socket_path")
        case .unixSocket:
            r.socketPath = try Self.path(socketPath, "socket_path")
        case .agentPoll:
            let interval = agentPollInterval ?? 300
            guard (1...600).contains(interval) else { throw APIError.badRequest("agent_poll_interval must be 1 to 600 seconds") }
            r.agentPollInterval = interval
        }
        return r
    }

    /// A KVM cluster: the URI for its transport, and what that transport needs.
    private func validateLibvirt(into r: inout ClusterRegistration, hosts: HostPolicy, allowInsecure: Bool) throws {
        guard let uri = libvirtURI?.trimmingCharacters(in: .whitespaces), uri.unicodeScalars.count <= 1024,
            let parts = URLComponents(string: uri), let scheme = parts.scheme
        else {
            throw APIError.badRequest("libvirt_uri is required: qemu:///system, qemu+ssh://user@host/system or qemu+tls://host/system")
        }
        guard parts.query == nil, parts.fragment == nil, !uri.contains("?") else {
            throw APIError.badRequest("libvirt_uri must not carry parameters (?…); give keys and certificates as fields")
        }
        let host = parts.host ?? ""
        switch scheme {
        case "qemu":
            guard host.isEmpty, ["/system", "/session"].contains(parts.path) else {
                throw APIError.badRequest("a local libvirt_uri is qemu:///system or qemu:///session")
            }
        case "qemu+ssh":
            guard !host.isEmpty, parts.user?.isEmpty == false else { throw APIError.badRequest("a qemu+ssh libvirt_uri needs user@host") }
            r.sshKey = try Self.pem(sshKey, "ssh_key", marker: "PRIVATE KEY")
            let fields = (sshHostKey ?? "").split(separator: " ")
            let base64 = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=".unicodeScalars)
            guard fields.count >= 2, fields[0].hasPrefix("ssh-") || fields[0].hasPrefix("ecdsa-"), fields[1].unicodeScalars.count <= 8192,
                fields[1].unicodeScalars.allSatisfy(base64.contains)
            else {
                throw APIError.badRequest(
                    "ssh_host_key is required for qemu+ssh: the host's public key as in known_hosts ('ssh-ed25519 AAAA…'); an unknown host key is refused"
                )
            }
            r.sshHostKey = "\(fields[0]) \(fields[1])"
        case "qemu+tls":
            guard !host.isEmpty else { throw APIError.badRequest("a qemu+tls libvirt_uri needs a host") }
            r.clientCert = try Self.pem(clientCert, "client_cert", marker: "BEGIN CERTIFICATE")
            r.clientKey = try Self.pem(clientKey, "client_key", marker: "PRIVATE KEY")
            r.caCert = try Self.pem(caCert, "ca_cert", marker: "BEGIN CERTIFICATE")
        case "qemu+tcp":
            guard allowInsecure else {
                throw APIError.badRequest("qemu+tcp:// has no authentication and is refused (tests only: --allow-insecure-libvirt 1)")
            }
            guard !host.isEmpty else { throw APIError.badRequest("a qemu+tcp libvirt_uri needs a host") }
        default:
            throw APIError.badRequest("libvirt_uri must be qemu:///system, qemu+ssh://…, or qemu+tls://…")
        }
        guard parts.port.map({ (1...65535).contains($0) }) ?? true else { throw APIError.badRequest("libvirt_uri's port must be 1 to 65535") }
        if !host.isEmpty { try hosts.check(host, field: "libvirt_uri") }
        r.libvirtURI = uri
        r.storagePool = try Self.libvirtName(storagePool ?? "default", "storage_pool")
        r.network = try Self.libvirtName(network ?? "default", "network")
        r.domainType = domainType ?? "kvm"
        guard r.domainType == "kvm" || r.domainType == "qemu" else {
            throw APIError.badRequest("domain_type must be kvm, or qemu (software emulation) where KVM is unavailable")
        }
    }

    private static func libvirtName(_ name: String, _ field: String) throws -> String {
        guard (1...64).contains(name.unicodeScalars.count),
            name.unicodeScalars.allSatisfy({
                $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || "-_.".unicodeScalars.contains($0))
            })
        else {
            throw APIError.badRequest("\(field) must be 1 to 64 letters, digits, '-', '_' or '.'")
        }
        return name
    }

    private static func pem(_ text: String?, _ field: String, marker: String) throws -> String {
        guard let text, text.contains(marker), text.unicodeScalars.count <= 64 * 1024 else {
            throw APIError.badRequest("\(field) must be PEM text (\(marker))")
        }
        return text
    }

    private static func path(_ p: String?, _ field: String) throws -> String? {
        guard let p else { return nil }
        guard p.hasPrefix("/"), p.unicodeScalars.count <= 1024, !p.contains("\0") else {
            throw APIError.badRequest("\(field) must be an absolute path")
        }
        return p
    }
}
