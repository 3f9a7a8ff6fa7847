import Yams

/// A fast, offline check of cloud-config top-level keys and the types of the common ones,
/// after cloud-init 22.4's schema. It is stricter about unknown keys than cloud-init (which only
/// warns), so that a typo such as `runcmds` is caught before a deploy. CI also runs the real
/// `cloud-init schema` on every built-in egg and on eggs made from templates.
public enum CloudConfigSchema {
    enum Kind { case string, boolean, integer, array, mapping, stringOrArray, stringOrMapping, booleanOrString, any }

    /// The top-level keys cloud-init 22.4 documents, with the kind of value where it is fixed.
    static let keys: [String: Kind] = [
        "ansible": .mapping, "apk_repos": .mapping, "apt": .mapping, "apt_pipelining": .any,
        "apt_reboot_if_required": .boolean, "apt_update": .boolean, "apt_upgrade": .boolean,
        "bootcmd": .array, "byobu_by_default": .string, "ca_certs": .mapping, "ca-certs": .mapping,
        "chef": .mapping, "chpasswd": .mapping, "cloud_config_modules": .array, "cloud_final_modules": .array,
        "cloud_init_modules": .array, "create_hostname_file": .boolean, "datasource": .mapping,
        "datasource_list": .array, "device_aliases": .mapping, "disable_ec2_metadata": .boolean,
        "disable_root": .boolean, "disable_root_opts": .string, "disk_setup": .mapping, "drivers": .mapping,
        "fan": .mapping, "final_message": .string, "fqdn": .string, "fs_setup": .array, "groups": .any,
        "growpart": .mapping, "grub_dpkg": .mapping, "grub-dpkg": .mapping, "hostname": .string,
        "keyboard": .mapping, "landscape": .mapping, "locale": .any, "locale_configfile": .string, "lxd": .mapping,
        "manage_etc_hosts": .booleanOrString, "manage_resolv_conf": .boolean, "mcollective": .mapping,
        "merge_how": .any, "merge_type": .any, "migrate": .boolean, "mount_default_fields": .array, "mounts": .array,
        "no_ssh_fingerprints": .boolean, "ntp": .any, "output": .mapping, "package_reboot_if_required": .boolean,
        "package_update": .boolean, "package_upgrade": .boolean, "packages": .array, "password": .string,
        "phone_home": .mapping, "power_state": .mapping, "prefer_fqdn_over_hostname": .boolean,
        "preserve_hostname": .boolean, "puppet": .mapping, "random_seed": .mapping, "reporting": .mapping,
        "resize_rootfs": .booleanOrString, "resolv_conf": .mapping, "rh_subscription": .mapping, "rsyslog": .any,
        "runcmd": .array, "salt_minion": .mapping, "snap": .mapping, "spacewalk": .mapping, "ssh": .mapping,
        "ssh_authorized_keys": .array, "ssh_deletekeys": .boolean, "ssh_fp_console_blacklist": .array,
        "ssh_genkeytypes": .array, "ssh_import_id": .array, "ssh_key_console_blacklist": .array, "ssh_keys": .mapping,
        "ssh_publish_hostkeys": .mapping, "ssh_pwauth": .booleanOrString, "ssh_quiet_keygen": .boolean, "swap": .mapping,
        "system_info": .mapping, "timezone": .string, "ubuntu_advantage": .mapping, "updates": .mapping,
        "user": .stringOrMapping, "users": .any, "vendor_data": .mapping, "wireguard": .mapping, "write_files": .array,
        "yum_repo_dir": .string, "yum_repos": .mapping, "zypper": .mapping, "syslog_fix_perms": .any,
        "manual_cache_clean": .boolean, "network": .mapping, "unverified_modules": .array,
    ]

    /// Returns the problems in a parsed cloud-config document.
    public static func problems(in root: Node?, file: String) -> [EggError] {
        guard let root else { return [] }  // an empty cloud-config is valid
        guard case .mapping(let mapping) = root else { return [EggError(file, "the top level must be a mapping of cloud-config keys")] }
        var problems: [EggError] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                problems.append(EggError(file, "a top-level key is not a plain string"))
                continue
            }
            guard let kind = keys[key] else {
                problems.append(EggError(file, "unknown cloud-config key '\(key.prefix(64))'"))
                continue
            }
            if !matches(value, kind) {
                problems.append(EggError(file, "'\(key)' must be \(describe(kind))"))
            } else if key == "write_files", case .sequence(let items) = value {
                for (i, item) in items.enumerated() where item.mapping?["path"]?.scalar == nil {
                    problems.append(EggError(file, "write_files[\(i)] needs a 'path'"))
                }
            }
        }
        return problems
    }

    static func matches(_ node: Node, _ kind: Kind) -> Bool {
        switch (kind, node) {
        case (.any, _): true
        case (.array, .sequence), (.mapping, .mapping), (.stringOrArray, .sequence), (.stringOrMapping, .mapping): true
        case (.string, .scalar), (.stringOrArray, .scalar), (.stringOrMapping, .scalar): true
        case (.boolean, .scalar(let s)): Bool.construct(from: s) != nil
        case (.booleanOrString, .scalar): true
        case (.integer, .scalar(let s)): Int.construct(from: s) != nil
        default: false
        }
    }

    static func describe(_ kind: Kind) -> String {
        switch kind {
        case .string: "a string"
        case .boolean: "true or false"
        case .integer: "an integer"
        case .array: "a list"
        case .mapping: "a mapping"
        case .stringOrArray: "a string or a list"
        case .stringOrMapping: "a string or a mapping"
        case .booleanOrString: "a boolean or a string"
        case .any: "any value"
        }
    }
}
