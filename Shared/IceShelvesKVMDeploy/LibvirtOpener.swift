import Foundation
import IceShelvesContracts
import IceShelvesLibvirt

/// Opens a libvirt connection from a cluster's settings: checks the URI, puts the SSH key and
/// pinned host key (or the TLS certificates) into a private temporary folder for libvirt to read
/// while it connects, and removes them right after.
///
/// - `qemu:///system` (or `/session`): as is.
/// - `qemu+ssh://user@host[:port]/system`: through libvirt's libssh2 transport, key auth only,
///   the host key checked against the pinned one (`known_hosts_verify=normal`).
/// - `qemu+tls://host/system`: `pkipath` with the client certificate, key and CA.
/// - `qemu+tcp://` and `test…://`: only when `allowInsecure` (tests).
///
/// URIs with a query are refused: libvirt's query parameters include local commands to run.
public struct LibvirtOpener: Sendable {
    let timeout: Duration
    let allowInsecure: Bool

    public init(timeout: Duration, allowInsecure: Bool) {
        self.timeout = timeout
        self.allowInsecure = allowInsecure
    }

    /// The URI libvirt gets, and the private folder of the key files it names (removed after the connect).
    public struct Prepared: Sendable {
        public var uri: String
        public var folder: URL?
    }

    /// Opens a connection with `settings`; the key files are gone once it returns.
    public func open(_ settings: LibvirtSettings) async throws -> LibvirtConnection {
        let prepared = try prepare(settings)
        defer { if let f = prepared.folder { try? FileManager.default.removeItem(at: f) } }
        return try await LibvirtConnection.open(prepared.uri, timeout: timeout)
    }

    /// Checks the URI and writes what its transport needs.
    public func prepare(_ settings: LibvirtSettings) throws -> Prepared {
        let uri = settings.uri.trimmingCharacters(in: .whitespaces)
        guard let parts = URLComponents(string: uri), let scheme = parts.scheme else {
            throw LibvirtError(.invalid, "the libvirt URI '\(uri)' is not a URI")
        }
        if parts.query != nil || parts.fragment != nil || uri.contains("?") {
            throw LibvirtError(.invalid, "the libvirt URI must not carry parameters (?…); give keys and certificates as fields")
        }
        switch scheme {
        case "qemu":
            guard parts.host == nil || parts.host == "" else { throw LibvirtError(.invalid, "qemu:// takes no host; use qemu+ssh or qemu+tls") }
            return Prepared(uri: uri)
        case "qemu+tcp", "test", "test+tcp":
            guard allowInsecure else {
                throw LibvirtError(.invalid, "\(scheme):// is for tests only and not allowed here (set ICESHELVES_KVM_ALLOW_INSECURE=1)")
            }
            return Prepared(uri: uri)
        case "qemu+ssh", "qemu+libssh2":
            guard let host = parts.host, !host.isEmpty else { throw LibvirtError(.invalid, "qemu+ssh needs a host") }
            guard let key = settings.sshKey, !key.isEmpty else { throw LibvirtError(.invalid, "qemu+ssh needs ssh_key (a private key)") }
            guard let hostKey = settings.sshHostKey?.trimmingCharacters(in: .whitespacesAndNewlines), hostKey.split(separator: " ").count >= 2
            else {
                throw LibvirtError(.invalid, "qemu+ssh needs ssh_host_key, the host's public key as in known_hosts ('ssh-ed25519 AAAA…')")
            }
            let folder = try Self.privateFolder()
            let keyFile = folder.appendingPathComponent("id")
            let known = folder.appendingPathComponent("known_hosts")
            try Self.write(key.hasSuffix("\n") ? key : key + "\n", to: keyFile)
            let hostPart = parts.port.map { "[\(host)]:\($0)" } ?? host
            let keyParts = hostKey.split(separator: " ")
            try Self.write("\(hostPart) \(keyParts[0]) \(keyParts[1])\n", to: known)
            var rewritten = parts
            rewritten.scheme = "qemu+libssh2"
            rewritten.query = nil
            let base = rewritten.string ?? uri
            let query =
                "keyfile=\(keyFile.path)&known_hosts=\(known.path)&known_hosts_verify=normal&sshauth=privkey&no_tty=1"
            return Prepared(uri: base + "?" + query, folder: folder)
        case "qemu+tls":
            guard let cert = settings.clientCert, let key = settings.clientKey, let ca = settings.caCert else {
                throw LibvirtError(.invalid, "qemu+tls needs client_cert, client_key and ca_cert")
            }
            let folder = try Self.privateFolder()
            try Self.write(ca, to: folder.appendingPathComponent("cacert.pem"))
            try Self.write(cert, to: folder.appendingPathComponent("clientcert.pem"))
            try Self.write(key, to: folder.appendingPathComponent("clientkey.pem"))
            return Prepared(uri: uri + "?pkipath=\(folder.path)", folder: folder)
        default:
            throw LibvirtError(.invalid, "unsupported libvirt URI scheme '\(scheme)' (use qemu, qemu+ssh or qemu+tls)")
        }
    }

    static func privateFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("iceshelves-libvirt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        return url
    }

    static func write(_ text: String, to url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw LibvirtError(.other, "cannot write \(url.lastPathComponent) for libvirt")
        }
    }
}
