import IceShelvesContracts
import IceShelvesLXD
import Yams

/// Turns an egg's `lxd-profile.yaml` into the LXD profile IceShelves creates for that egg
/// version (named by ``LXDInstancePlan/profileName(egg:version:)``).
enum ProfileMapper {
    static func profile(yaml: String, egg: String, version: String) throws -> LXDProfile {
        let root: Any?
        do {
            root = try Yams.load(yaml: yaml)
        } catch {
            throw DeployFailure(step: .profile, message: "the egg's LXD profile is not YAML: \(error)")
        }
        let map = root as? [String: Any] ?? [:]
        var config: [String: String] = [:]
        for (k, v) in map["config"] as? [String: Any] ?? [:] { config[k] = scalar(v) }
        var devices: [String: [String: String]] = [:]
        for (name, d) in map["devices"] as? [String: Any] ?? [:] {
            var device: [String: String] = [:]
            for (k, v) in d as? [String: Any] ?? [:] { device[k] = scalar(v) }
            devices[name] = device
        }
        let description = (map["description"] as? String) ?? "IceShelves egg \(egg) \(version)"
        return LXDProfile(name: LXDInstancePlan.profileName(egg: egg, version: version), description: description, config: config, devices: devices)
    }

    /// LXD config values are strings; YAML may give booleans or numbers.
    private static func scalar(_ v: Any) -> String {
        switch v {
        case let b as Bool: b ? "true" : "false"
        case let s as String: s
        default: "\(v)"
        }
    }
}
