/// How to reach an LXD host or cluster: the original's cluster record, made to work.
///
/// Secrets (`client_key`, `ssh_key`) travel only inside deployer jobs and RPCs; ``description``
/// never shows them, so logging a connection is safe.
public struct ClusterConnection: Codable, Sendable, Equatable, CustomStringConvertible {
    public enum Method: String, Codable, Sendable, CaseIterable {
        /// LXD's HTTPS API with a client certificate, the server pinned by certificate or fingerprint.
        case directAPI = "direct-api"
        /// An SSH tunnel (libssh2) to the remote LXD unix socket, the host key pinned.
        case ssh
        /// The LXD unix socket on the deployer's own machine.
        case unixSocket = "unix-socket"
        /// A KVM cluster: libvirt, as ``ClusterConnection/libvirt`` says.
        case libvirt
    }

    public var method: Method
    /// `https://host:8443` for `direct-api`.
    public var endpointURL: String?
    /// PEM client certificate and key for `direct-api`.
    public var clientCert: String?
    public var clientKey: String?
    /// The server's PEM certificate to pin (the cluster certificate for a cluster).
    public var serverCert: String?
    /// Or the SHA-256 fingerprint of the server certificate (hex, colons allowed).
    public var serverFingerprint: String?
    /// `false` turns certificate verification off: an explicit, logged opt-in for a lab, never the default.
    public var verifySSL: Bool
    public var sshHost: String?
    public var sshPort: Int
    public var sshUser: String?
    /// The PEM (or OpenSSH) private key for `ssh`.
    public var sshKey: String?
    /// The pinned host key, as OpenSSH prints it: `SHA256:<base64>`. An unknown or changed key is refused.
    public var sshHostKeyFingerprint: String?
    /// The LXD unix socket: local for `unix-socket`, on the remote host for `ssh`.
    public var socketPath: String
    /// The LXD project; `default` when absent.
    public var project: String?
    /// The address the gateway resolved and checked for the endpoint's host (`docs/security.md`,
    /// egress): the deployer connects there, so the name cannot point elsewhere in between.
    public var pinnedAddress: String?
    /// A KVM cluster's libvirt connection (method `libvirt`); the LXD fields above are then unused.
    public var libvirt: LibvirtSettings?

    public static let defaultSocketPath = "/var/lib/lxd/unix.socket"

    public init(
        method: Method,
        endpointURL: String? = nil,
        clientCert: String? = nil,
        clientKey: String? = nil,
        serverCert: String? = nil,
        serverFingerprint: String? = nil,
        verifySSL: Bool = true,
        sshHost: String? = nil,
        sshPort: Int = 22,
        sshUser: String? = nil,
        sshKey: String? = nil,
        sshHostKeyFingerprint: String? = nil,
        socketPath: String = ClusterConnection.defaultSocketPath,
        project: String? = nil
    ) {
        self.method = method
        self.endpointURL = endpointURL
        self.clientCert = clientCert
        self.clientKey = clientKey
        self.serverCert = serverCert
        self.serverFingerprint = serverFingerprint
        self.verifySSL = verifySSL
        self.sshHost = sshHost
        self.sshPort = sshPort
        self.sshUser = sshUser
        self.sshKey = sshKey
        self.sshHostKeyFingerprint = sshHostKeyFingerprint
        self.socketPath = socketPath
        self.project = project
    }

    public static func unixSocket(_ path: String = defaultSocketPath) -> ClusterConnection { .init(method: .unixSocket, socketPath: path) }

    public static func libvirt(_ settings: LibvirtSettings) -> ClusterConnection {
        var c = ClusterConnection(method: .libvirt)
        c.libvirt = settings
        return c
    }

    /// Where it points, without secrets.
    public var description: String {
        if let libvirt { return libvirt.description }
        return switch method {
        case .directAPI: "direct-api \(endpointURL ?? "?")"
        case .ssh: "ssh \(sshUser ?? "?")@\(sshHost ?? "?"):\(sshPort) → \(socketPath)"
        case .unixSocket: "unix-socket \(socketPath)"
        case .libvirt: "libvirt (not configured)"
        }
    }

    enum CodingKeys: String, CodingKey {
        case method = "connection_method"
        case endpointURL = "endpoint_url"
        case clientCert = "client_cert"
        case clientKey = "client_key"
        case serverCert = "server_cert"
        case serverFingerprint = "server_fingerprint"
        case verifySSL = "verify_ssl"
        case sshHost = "ssh_host"
        case sshPort = "ssh_port"
        case sshUser = "ssh_user"
        case sshKey = "ssh_key"
        case sshHostKeyFingerprint = "ssh_host_key_fingerprint"
        case socketPath = "socket_path"
        case project, libvirt
        case pinnedAddress = "pinned_address"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        method = try c.decode(Method.self, forKey: .method)
        endpointURL = try c.decodeIfPresent(String.self, forKey: .endpointURL)
        clientCert = try c.decodeIfPresent(String.self, forKey: .clientCert)
        clientKey = try c.decodeIfPresent(String.self, forKey: .clientKey)
        serverCert = try c.decodeIfPresent(String.self, forKey: .serverCert)
        serverFingerprint = try c.decodeIfPresent(String.self, forKey: .serverFingerprint)
        verifySSL = try c.decodeIfPresent(Bool.self, forKey: .verifySSL) ?? true
        sshHost = try c.decodeIfPresent(String.self, forKey: .sshHost)
        sshPort = try c.decodeIfPresent(Int.self, forKey: .sshPort) ?? 22
        sshUser = try c.decodeIfPresent(String.self, forKey: .sshUser)
        sshKey = try c.decodeIfPresent(String.self, forKey: .sshKey)
        sshHostKeyFingerprint = try c.decodeIfPresent(String.self, forKey: .sshHostKeyFingerprint)
        socketPath = try c.decodeIfPresent(String.self, forKey: .socketPath) ?? Self.defaultSocketPath
        project = try c.decodeIfPresent(String.self, forKey: .project)
        pinnedAddress = try c.decodeIfPresent(String.self, forKey: .pinnedAddress)
        libvirt = try c.decodeIfPresent(LibvirtSettings.self, forKey: .libvirt)
    }
}
