/// Where a deployment lands, set by the gateway and passed through the renderer to the deployer
/// untouched. It names the cluster but carries no connection: the deployer asks the gateway for
/// that (``ClusterConnectionRequest``), so no secret rides in a job.
public struct DeploymentTarget: Codable, Sendable, Equatable {
    public var clusterId: String
    /// The cluster member to place the instance on; `nil` lets the deployer choose (see docs/lxd-deployer.md).
    public var targetMember: String?
    /// An image (alias or fingerprint) instead of the egg's `base_image`.
    public var image: String?
    /// Extra LXD config keys for the instance (the original's `config_overrides`).
    public var configOverrides: [String: String]
    /// Keep a failed instance for debugging instead of removing it.
    public var keepOnFailure: Bool
    /// The cluster is `agent-poll`: the renderer sends the job to the agent-broker
    /// (``BusNames/agentQueue``) instead of the target's deployer.
    public var viaAgent: Bool

    public init(
        clusterId: String,
        targetMember: String? = nil,
        image: String? = nil,
        configOverrides: [String: String] = [:],
        keepOnFailure: Bool = false,
        viaAgent: Bool = false
    ) {
        self.clusterId = clusterId
        self.targetMember = targetMember
        self.image = image
        self.configOverrides = configOverrides
        self.keepOnFailure = keepOnFailure
        self.viaAgent = viaAgent
    }

    enum CodingKeys: String, CodingKey {
        case image
        case clusterId = "cluster_id"
        case targetMember = "target_member"
        case configOverrides = "config_overrides"
        case keepOnFailure = "keep_on_failure"
        case viaAgent = "via_agent"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        clusterId = try c.decode(String.self, forKey: .clusterId)
        targetMember = try c.decodeIfPresent(String.self, forKey: .targetMember)
        image = try c.decodeIfPresent(String.self, forKey: .image)
        configOverrides = try c.decodeIfPresent([String: String].self, forKey: .configOverrides) ?? [:]
        keepOnFailure = try c.decodeIfPresent(Bool.self, forKey: .keepOnFailure) ?? false
        viaAgent = try c.decodeIfPresent(Bool.self, forKey: .viaAgent) ?? false
    }
}
