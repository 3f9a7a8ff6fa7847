/// Per-deployment changes on top of the egg's user-data.
public struct RenderOverrides: Codable, Sendable, Equatable {
    /// Sets `hostname` and meta-data `local-hostname`.
    public var hostname: String?
    /// Added to the top-level `ssh_authorized_keys`.
    public var sshAuthorizedKeys: [String]
    /// Added to `packages`.
    public var extraPackages: [String]
    /// Sets `timezone`.
    public var timezone: String?
    /// A cloud-config mapping (YAML text, without or with the `#cloud-config` line) merged in:
    /// mappings merge, lists append, other values replace.
    public var cloudConfig: String?
    /// Top-level keys whose lists the caller's values replace instead of extending.
    public var replaceLists: [String]
    /// A network-config document (version 1 or 2) for the instance.
    public var networkConfig: String?

    public init(
        hostname: String? = nil,
        sshAuthorizedKeys: [String] = [],
        extraPackages: [String] = [],
        timezone: String? = nil,
        cloudConfig: String? = nil,
        replaceLists: [String] = [],
        networkConfig: String? = nil
    ) {
        self.hostname = hostname
        self.sshAuthorizedKeys = sshAuthorizedKeys
        self.extraPackages = extraPackages
        self.timezone = timezone
        self.cloudConfig = cloudConfig
        self.replaceLists = replaceLists
        self.networkConfig = networkConfig
    }

    enum CodingKeys: String, CodingKey {
        case hostname, timezone
        case sshAuthorizedKeys = "ssh_authorized_keys"
        case extraPackages = "extra_packages"
        case cloudConfig = "cloud_config"
        case replaceLists = "replace_lists"
        case networkConfig = "network_config"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hostname = try c.decodeIfPresent(String.self, forKey: .hostname)
        sshAuthorizedKeys = try c.decodeIfPresent([String].self, forKey: .sshAuthorizedKeys) ?? []
        extraPackages = try c.decodeIfPresent([String].self, forKey: .extraPackages) ?? []
        timezone = try c.decodeIfPresent(String.self, forKey: .timezone)
        cloudConfig = try c.decodeIfPresent(String.self, forKey: .cloudConfig)
        replaceLists = try c.decodeIfPresent([String].self, forKey: .replaceLists) ?? []
        networkConfig = try c.decodeIfPresent(String.self, forKey: .networkConfig)
    }
}

/// `deployment.requested`: a deployment to render, on the `deploy.render` queue (gateway →
/// renderer). Also the body of a `render.preview` call.
public struct DeploymentRequested: BusMessage, Equatable {
    public static let messageType = "deployment.requested"
    public static let messageVersion = 1
    public var deploymentId: String
    public var eggName: String
    /// A version or content hash; `nil` for the egg's current version.
    public var eggVersion: String?
    /// The exact content to render (the gateway pins it when it accepts a deployment, so a retry
    /// or a later render uses the same egg); the renderer refuses other content.
    public var eggContentHash: String?
    public var instanceName: String
    public var target: TargetType
    public var variables: [String: VariableValue]
    public var overrides: RenderOverrides
    /// The cluster, connection and placement for the deployer (passed through untouched).
    public var destination: DeploymentTarget?

    public init(
        deploymentId: String,
        eggName: String,
        eggVersion: String? = nil,
        eggContentHash: String? = nil,
        instanceName: String,
        target: TargetType,
        variables: [String: VariableValue] = [:],
        overrides: RenderOverrides = .init(),
        destination: DeploymentTarget? = nil
    ) {
        self.deploymentId = deploymentId
        self.eggName = eggName
        self.eggVersion = eggVersion
        self.eggContentHash = eggContentHash
        self.instanceName = instanceName
        self.target = target
        self.variables = variables
        self.overrides = overrides
        self.destination = destination
    }

    enum CodingKeys: String, CodingKey {
        case target, variables, overrides, destination
        case deploymentId = "deployment_id"
        case eggName = "egg_name"
        case eggVersion = "egg_version"
        case eggContentHash = "egg_content_hash"
        case instanceName = "instance_name"
    }
}
