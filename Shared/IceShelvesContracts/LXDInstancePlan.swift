/// What IceShelves asks LXD to create for a rendered deployment: the instance's config keys and
/// its profiles. The LXD deployer sends exactly this; the gateway's dry run shows it.
public enum LXDInstancePlan {
    /// The marker every instance carries: the deployment that created it.
    public static let deploymentIdKey = "user.iceshelves.deployment-id"
    /// The egg, version and content hash the instance was made from.
    public static let eggKey = "user.iceshelves.egg"

    /// The profile made from the egg's `lxd-profile.yaml`: one per egg content, so a running
    /// instance's profile is never rewritten under it (the name carries the content hash).
    public static func profileName(egg: String, version: String, contentHash: String) -> String {
        let safe = version.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "-" }
        return "iceshelves-\(egg)-\(String(safe))-\(contentHash.prefix(12))"
    }

    /// `default`, plus the egg version's profile when the egg has one.
    public static func profiles(for job: DeploymentRendered) -> [String] {
        guard let yaml = job.lxdProfile, !yaml.isEmpty else { return ["default"] }
        return ["default", profileName(egg: job.eggName, version: job.eggVersion, contentHash: job.eggContentHash)]
    }

    /// The config: the deployment's overrides first, then the cloud-init data and the markers
    /// (which overrides cannot replace). `modernKeys: false` uses the `user.*` keys old servers know.
    public static func config(for job: DeploymentRendered, modernKeys: Bool = true) -> [String: String] {
        var config = job.destination?.configOverrides ?? [:]
        let prefix = modernKeys ? "cloud-init." : "user."
        config[prefix + "user-data"] = job.userData
        if let v = job.vendorData { config[prefix + "vendor-data"] = v }
        if let n = job.networkConfig { config[prefix + "network-config"] = n }
        config["user.meta-data"] = job.metaData
        config[deploymentIdKey] = job.deploymentId
        config[eggKey] = "\(job.eggName) \(job.eggVersion) \(job.eggContentHash.prefix(12))"
        return config
    }
}
