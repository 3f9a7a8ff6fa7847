/// How to reach a KVM cluster (a libvirt/QEMU host) and where its VMs go. Part of a
/// ``ClusterConnection`` when the cluster's hypervisor is `kvm`.
///
/// Secrets (`ssh_key`, `client_key`) never appear in ``description``.
public struct LibvirtSettings: Codable, Sendable, Equatable, CustomStringConvertible {
    /// `qemu:///system`, `qemu+ssh://user@host[:port]/system`, `qemu+tls://host/system`, or
    /// (tests only, refused unless the gateway allows it) `qemu+tcp://host/system`.
    public var uri: String
    /// The storage pool the base images are in and the VM volumes go to.
    public var storagePool: String
    /// The libvirt network the VMs' NIC joins.
    public var network: String
    /// `kvm` (the default), or `qemu` (software emulation) where KVM is unavailable.
    public var domainType: String
    /// `qemu+ssh`: the private key (OpenSSH or PEM) and the pinned host key as a `known_hosts`
    /// key (`ssh-ed25519 AAAA…`); an unknown or changed host key is refused.
    public var sshKey: String?
    public var sshHostKey: String?
    /// `qemu+tls`: the client certificate and key, and the CA that signed the server's certificate (PEM).
    public var clientCert: String?
    public var clientKey: String?
    public var caCert: String?

    public init(
        uri: String,
        storagePool: String = "default",
        network: String = "default",
        domainType: String = "kvm",
        sshKey: String? = nil,
        sshHostKey: String? = nil,
        clientCert: String? = nil,
        clientKey: String? = nil,
        caCert: String? = nil
    ) {
        self.uri = uri
        self.storagePool = storagePool
        self.network = network
        self.domainType = domainType
        self.sshKey = sshKey
        self.sshHostKey = sshHostKey
        self.clientCert = clientCert
        self.clientKey = clientKey
        self.caCert = caCert
    }

    /// The URI's scheme: `qemu`, `qemu+ssh`, `qemu+tls`, `qemu+tcp`, …
    public var scheme: String { String(uri.prefix { $0 != ":" }) }

    public var description: String { "libvirt \(uri.prefix { $0 != "?" }) pool=\(storagePool) network=\(network) type=\(domainType)" }

    enum CodingKeys: String, CodingKey {
        case uri, network
        case storagePool = "storage_pool"
        case domainType = "domain_type"
        case sshKey = "ssh_key"
        case sshHostKey = "ssh_host_key"
        case clientCert = "client_cert"
        case clientKey = "client_key"
        case caCert = "ca_cert"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        uri = try c.decode(String.self, forKey: .uri)
        storagePool = try c.decodeIfPresent(String.self, forKey: .storagePool) ?? "default"
        network = try c.decodeIfPresent(String.self, forKey: .network) ?? "default"
        domainType = try c.decodeIfPresent(String.self, forKey: .domainType) ?? "kvm"
        sshKey = try c.decodeIfPresent(String.self, forKey: .sshKey)
        sshHostKey = try c.decodeIfPresent(String.self, forKey: .sshHostKey)
        clientCert = try c.decodeIfPresent(String.self, forKey: .clientCert)
        clientKey = try c.decodeIfPresent(String.self, forKey: .clientKey)
        caCert = try c.decodeIfPresent(String.self, forKey: .caCert)
    }
}
