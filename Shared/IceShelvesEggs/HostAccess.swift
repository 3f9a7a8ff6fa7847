/// What in an LXD instance's config and devices gives host-level power: a privileged container,
/// raw LXC, id maps, kernel modules, syscall interception, host paths and host devices, proxies
/// that bind on the host. Each is root on the hypervisor, or close to it.
///
/// The platform decides who may ask for these (docs/security.md): a finding is refused unless
/// an admin allowed its ``Finding/key`` on the cluster, or reviewed the egg version it comes from.
public enum HostAccess {
    /// One dangerous setting.
    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        /// What an allow-list names: a config key (`security.privileged`, `raw.lxc`) or a device
        /// type (`devices.disk`, `devices.unix-char`).
        public var key: String
        /// Where it was found, for the error message: `config_overrides` or `lxd-profile.yaml`.
        public var origin: String
        /// What exactly: `security.privileged=true`, `device root (disk, source /)`.
        public var detail: String

        public init(key: String, origin: String, detail: String) {
            self.key = key
            self.origin = origin
            self.detail = detail
        }

        public var description: String { "\(origin): \(detail)" }
    }

    /// Config keys that are dangerous with any value (booleans only when true).
    static let dangerousKeys: Set<String> = ["security.privileged", "security.nesting", "linux.kernel_modules"]
    static let dangerousPrefixes = ["raw.", "security.idmap.", "security.syscalls."]
    static let hostDeviceTypes: Set<String> = ["unix-char", "unix-block", "unix-hotplug", "gpu", "usb", "pci", "infiniband"]

    /// The allow-list entries an admin may set: the keys and device types above, `raw.*`-style
    /// prefixes, or a full key under a prefix.
    public static func isKnownAllowEntry(_ entry: String) -> Bool {
        guard !entry.isEmpty,
            entry.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || "0123456789._*-".unicodeScalars.contains($0)) })
        else { return false }
        if dangerousKeys.contains(entry)
            || dangerousPrefixes.contains(where: { entry == $0 + "*" || (entry.hasPrefix($0) && entry.count > $0.count) })
        {
            return true
        }
        return ["devices.disk", "devices.proxy"].contains(entry) || hostDeviceTypes.contains { "devices." + $0 == entry } || kvmKeys.contains(entry)
    }

    /// Dangerous config keys.
    public static func findings(config: [String: String], origin: String) -> [Finding] {
        config.keys.sorted().compactMap { key in
            let value = config[key] ?? ""
            let dangerous = dangerousKeys.contains(key) || dangerousPrefixes.contains { key.hasPrefix($0) }
            guard dangerous, !isOff(value) else { return nil }
            return Finding(key: key, origin: origin, detail: "\(key)=\(value.prefix(40))")
        }
    }

    /// Host paths, host devices and proxies that bind on the host.
    public static func findings(devices: [String: [String: String]], origin: String) -> [Finding] {
        devices.keys.sorted().compactMap { name in
            let d = devices[name] ?? [:]
            let type = d["type"] ?? ""
            if type == "disk", let source = d["source"], !source.isEmpty, d["pool"] == nil {
                return Finding(key: "devices.disk", origin: origin, detail: "device \(name) (disk from the host's \(source.prefix(80)))")
            }
            if hostDeviceTypes.contains(type) {
                return Finding(key: "devices.\(type)", origin: origin, detail: "device \(name) (\(type), a host device)")
            }
            if type == "proxy", (d["bind"] ?? "host") != "container" {
                return Finding(key: "devices.proxy", origin: origin, detail: "device \(name) (proxy that binds on the host)")
            }
            return nil
        }
    }

    /// Whether an allow-list entry covers a finding: the same key, or a `prefix.*` pattern.
    public static func allows(_ allowList: [String], _ finding: Finding) -> Bool {
        allowList.contains { entry in
            entry == finding.key || (entry.hasSuffix(".*") && finding.key.hasPrefix(String(entry.dropLast())))
        }
    }

    private static func isOff(_ value: String) -> Bool {
        ["", "false", "0", "no", "off"].contains(value.lowercased())
    }
}
