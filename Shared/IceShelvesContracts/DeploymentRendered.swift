/// `deployment.rendered`: what cloud-init will read, on `deploy.lxd` or `deploy.kvm`
/// (renderer → deployer), and the answer to `render.preview`.
public struct DeploymentRendered: BusMessage, Equatable {
    public static let messageType = "deployment.rendered"
    public static let messageVersion = 1
    public var deploymentId: String
    public var instanceName: String
    public var target: TargetType
    public var eggName: String
    public var eggVersion: String
    public var eggContentHash: String
    public var baseImage: String
    public var userData: String
    public var metaData: String
    public var networkConfig: String?
    public var vendorData: String?
    /// The egg's LXD profile (YAML), for LXD targets.
    public var lxdProfile: String?
    /// The egg's libvirt domain fragment, for KVM targets.
    public var kvmConfig: String?
    /// The NoCloud seed ISO (label `cidata`), base64, for KVM targets.
    public var seedISOBase64: String?
    /// The cluster, connection and placement, as the gateway set them.
    public var destination: DeploymentTarget?
    /// The egg's requirements (`requirements` in its metadata): a KVM deployer sizes the VM from them.
    public var minMemoryMB: Int?
    public var minDiskGB: Int?
    public var minCores: Int?

    public init(
        deploymentId: String,
        instanceName: String,
        target: TargetType,
        eggName: String,
        eggVersion: String,
        eggContentHash: String,
        baseImage: String,
        userData: String,
        metaData: String,
        networkConfig: String? = nil,
        vendorData: String? = nil,
        lxdProfile: String? = nil,
        kvmConfig: String? = nil,
        seedISOBase64: String? = nil,
        destination: DeploymentTarget? = nil,
        minMemoryMB: Int? = nil,
        minDiskGB: Int? = nil,
        minCores: Int? = nil
    ) {
        self.deploymentId = deploymentId
        self.instanceName = instanceName
        self.target = target
        self.eggName = eggName
        self.eggVersion = eggVersion
        self.eggContentHash = eggContentHash
        self.baseImage = baseImage
        self.userData = userData
        self.metaData = metaData
        self.networkConfig = networkConfig
        self.vendorData = vendorData
        self.lxdProfile = lxdProfile
        self.kvmConfig = kvmConfig
        self.seedISOBase64 = seedISOBase64
        self.destination = destination
        self.minMemoryMB = minMemoryMB
        self.minDiskGB = minDiskGB
        self.minCores = minCores
    }

    enum CodingKeys: String, CodingKey {
        case target, destination
        case deploymentId = "deployment_id"
        case instanceName = "instance_name"
        case eggName = "egg_name"
        case eggVersion = "egg_version"
        case eggContentHash = "egg_content_hash"
        case baseImage = "base_image"
        case userData = "user_data"
        case metaData = "meta_data"
        case networkConfig = "network_config"
        case vendorData = "vendor_data"
        case lxdProfile = "lxd_profile"
        case kvmConfig = "kvm_config"
        case seedISOBase64 = "seed_iso_base64"
        case minMemoryMB = "min_memory_mb"
        case minDiskGB = "min_disk_gb"
        case minCores = "min_cores"
    }
}

/// `render.preview`: renders without deploying (the gateway's dry run). Answered with
/// ``DeploymentRendered`` (without a seed ISO unless `includeSeed`).
public struct RenderPreviewRequest: BusMessage, Equatable {
    public static let messageType = "render.preview"
    public static let messageVersion = 1
    public var request: DeploymentRequested
    public var includeSeed: Bool

    public init(request: DeploymentRequested, includeSeed: Bool = false) {
        self.request = request
        self.includeSeed = includeSeed
    }

    enum CodingKeys: String, CodingKey {
        case request
        case includeSeed = "include_seed"
    }
}
