import Yams

/// An egg's `lxd-profile.yaml`, read: its description, config keys and devices, every value a
/// string as LXD wants (YAML booleans and numbers become their text).
public struct LXDProfileSpec: Sendable, Equatable {
    public var description: String?
    public var config: [String: String]
    public var devices: [String: [String: String]]

    public init(description: String? = nil, config: [String: String] = [:], devices: [String: [String: String]] = [:]) {
        self.description = description
        self.config = config
        self.devices = devices
    }

    /// Reads the YAML; throws ``EggError`` when it is not a YAML mapping.
    public static func parse(_ yaml: String) throws -> LXDProfileSpec {
        let root: Any?
        do {
            root = try Yams.load(yaml: yaml)
        } catch {
            throw EggError("lxd-profile.yaml", "not YAML: \(error)")
        }
        let map = root as? [String: Any] ?? [:]
        var spec = LXDProfileSpec(description: map["description"] as? String)
        for (k, v) in map["config"] as? [String: Any] ?? [:] { spec.config[k] = scalar(v) }
        for (name, d) in map["devices"] as? [String: Any] ?? [:] {
            var device: [String: String] = [:]
            for (k, v) in d as? [String: Any] ?? [:] { device[k] = scalar(v) }
            spec.devices[name] = device
        }
        return spec
    }

    private static func scalar(_ v: Any) -> String {
        switch v {
        case let b as Bool: return b ? "true" : "false"
        case let s as String: return s
        default: return "\(v)"
        }
    }
}
