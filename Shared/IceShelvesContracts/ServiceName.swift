/// The names of the services, as products, log labels and RPC queue suffixes.
public enum ServiceName: String, Sendable, CaseIterable, Codable {
    case apiGateway = "api-gateway"
    case eggCatalog = "egg-catalog"
    case cloudInitRenderer = "cloud-init-renderer"
    case lxdDeployer = "lxd-deployer"
    case kvmDeployer = "kvm-deployer"
    case agentBroker = "agent-broker"
    case agent = "iceshelves-agent"

    /// The durable queue on which this service answers RPC requests, such as ``Ping``.
    public var rpcQueue: String { BusNames.rpcQueue(self) }
}
