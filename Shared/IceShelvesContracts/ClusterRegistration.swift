/// What a caller sends to register a cluster: the original's bodies per connection method,
/// plus server pins. The gateway checks it for its method (see `docs/api.md`), stores it, and
/// makes a ``ClusterConnection`` from it for the deployers; secrets are write-only.
public struct ClusterRegistration: Codable, Sendable, Equatable {
    /// How IceShelves reaches the cluster.
    public enum Method: String, Codable, Sendable, CaseIterable {
        /// LXD's HTTPS API with a client certificate.
        case directAPI = "direct-api"
        /// An SSH tunnel to the remote LXD unix socket.
        case ssh
        /// The LXD unix socket on the deployer's machine.
        case unixSocket = "unix-socket"
        /// An agent on the hypervisor polls for work; nothing connects to it.
        case agentPoll = "agent-poll"
        /// A KVM cluster: a libvirt URI (`libvirt_uri`).
        case libvirt

        /// The deployer's connection method; `nil` for `agent-poll`.
        public var connectionMethod: ClusterConnection.Method? {
            switch self {
            case .directAPI: .directAPI
            case .ssh: .ssh
            case .unixSocket: .unixSocket
            case .libvirt: .libvirt
            case .agentPoll: nil
            }
        }
    }

    public var name: String
    public var description: String?
    public var connectionMethod: Method
    public var endpointURL: String?
    public var authType: String?
    public var clientCert: String?
    public var clientKey: String?
    public var serverCert: String?
    public var serverFingerprint: String?
    public var verifySSL: Bool?
    public var isCluster: Bool?
    public var sshHost: String?
    public var sshPort: Int?
    public var sshUser: String?
    public var sshKey: String?
    public var sshHostKeyFingerprint: String?
    public var socketPath: String?
    public var agentPollInterval: Int?
    /// `lxd` (the default) or `kvm`; a `kvm` cluster uses the `libvirt` method.
    public var hypervisor: Hypervisor?
    /// KVM: the libvirt URI, the storage pool, the network and the domain type (`kvm` or `qemu`).
    public var libvirtURI: String?
    public var storagePool: String?
    public var network: String?
    public var domainType: String?
    /// KVM over `qemu+ssh`: the pinned host key as in known_hosts (`ssh-ed25519 AAAA…`).
    public var sshHostKey: String?
    /// KVM over `qemu+tls`: the CA that signed the hypervisor's certificate.
    public var caCert: String?

    public init(
        name: String,
        description: String? = nil,
        connectionMethod: Method,
        endpointURL: String? = nil,
        authType: String? = nil,
        clientCert: String? = nil,
        clientKey: String? = nil,
        serverCert: String? = nil,
        serverFingerprint: String? = nil,
        verifySSL: Bool? = nil,
        isCluster: Bool? = nil,
        sshHost: String? = nil,
        sshPort: Int? = nil,
        sshUser: String? = nil,
        sshKey: String? = nil,
        sshHostKeyFingerprint: String? = nil,
        socketPath: String? = nil,
        agentPollInterval: Int? = nil,
        hypervisor: Hypervisor? = nil,
        libvirtURI: String? = nil,
        storagePool: String? = nil,
        network: String? = nil,
        domainType: String? = nil,
        sshHostKey: String? = nil,
        caCert: String? = nil
    ) {
        self.name = name
        self.description = description
        self.connectionMethod = connectionMethod
        self.endpointURL = endpointURL
        self.authType = authType
        self.clientCert = clientCert
        self.clientKey = clientKey
        self.serverCert = serverCert
        self.serverFingerprint = serverFingerprint
        self.verifySSL = verifySSL
        self.isCluster = isCluster
        self.sshHost = sshHost
        self.sshPort = sshPort
        self.sshUser = sshUser
        self.sshKey = sshKey
        self.sshHostKeyFingerprint = sshHostKeyFingerprint
        self.socketPath = socketPath
        self.agentPollInterval = agentPollInterval
        self.hypervisor = hypervisor
        self.libvirtURI = libvirtURI
        self.storagePool = storagePool
        self.network = network
        self.domainType = domainType
        self.sshHostKey = sshHostKey
        self.caCert = caCert
    }

    enum CodingKeys: String, CodingKey {
        case name, description
        case connectionMethod = "connection_method"
        case endpointURL = "endpoint_url"
        case authType = "auth_type"
        case clientCert = "client_cert"
        case clientKey = "client_key"
        case serverCert = "server_cert"
        case serverFingerprint = "server_fingerprint"
        case verifySSL = "verify_ssl"
        case isCluster = "is_cluster"
        case sshHost = "ssh_host"
        case sshPort = "ssh_port"
        case sshUser = "ssh_user"
        case sshKey = "ssh_key"
        case sshHostKeyFingerprint = "ssh_host_key_fingerprint"
        case socketPath = "socket_path"
        case agentPollInterval = "agent_poll_interval"
        case hypervisor, network
        case libvirtURI = "libvirt_uri"
        case storagePool = "storage_pool"
        case domainType = "domain_type"
        case sshHostKey = "ssh_host_key"
        case caCert = "ca_cert"
    }
}
