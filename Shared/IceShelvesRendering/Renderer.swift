import Foundation
import IceShelvesContracts
import IceShelvesEggs
import Yams

/// Turns an egg version and a deployment's inputs into what cloud-init reads. Pure and
/// deterministic: the same inputs give byte-identical outputs.
public struct Renderer: Sendable {
    public init() {}

    /// The documents for one deployment.
    public struct Output: Equatable, Sendable {
        public var userData: String
        public var metaData: String
        public var networkConfig: String?
        public var vendorData: String?
        public var lxdProfile: String?
        public var kvmConfig: String?
    }

    /// Renders one deployment, or throws a ``RenderError`` that says what is wrong.
    public func render(egg: Egg, request: DeploymentRequested) throws -> Output {
        try Self.checkInstanceName(request.instanceName)
        let o = request.overrides
        let values: [String: VariableValue]
        do {
            values = try VariableResolver.resolve(request.variables, declared: egg.metadata.variables)
        } catch let e as EggValidationError {
            throw RenderError(e.problems.map(\.description).joined(separator: "; "))
        }

        // The egg's user-data with the variables put in, as a tree.
        var root =
            try Self.wrap { try TemplateRenderer.renderNode(yaml: egg.cloudInit, values: values, file: "cloud-init.yaml") }
            ?? .mapping(Node.Mapping([]))

        // The caller's overrides, each checked before it is used.
        if let extra = o.cloudConfig {
            guard let node = try Self.wrap({ try YAMLDocument.load(extra, file: "overrides.cloud_config") }) else {
                throw RenderError("overrides.cloud_config is empty")
            }
            guard case .mapping = node else { throw RenderError("overrides.cloud_config must be a mapping of cloud-config keys") }
            root = CloudConfigMerger.merge(root, node, replaceLists: Set(o.replaceLists))
        }
        if let hostname = o.hostname {
            try Self.check(hostname, matches: Self.hostnamePattern, what: "overrides.hostname")
            root = CloudConfigMerger.set(root, key: "hostname", to: CloudConfigMerger.quoted(hostname))
        }
        if let tz = o.timezone {
            try Self.check(tz, matches: /[A-Za-z0-9_+\/-]{1,64}/, what: "overrides.timezone")
            root = CloudConfigMerger.set(root, key: "timezone", to: CloudConfigMerger.quoted(tz))
        }
        for key in o.sshAuthorizedKeys { try Self.check(key, matches: Self.sshKeyPattern, what: "overrides.ssh_authorized_keys") }
        root = CloudConfigMerger.append(root, key: "ssh_authorized_keys", items: o.sshAuthorizedKeys.map(CloudConfigMerger.quoted))
        for p in o.extraPackages {
            try Self.check(p, matches: /[a-z0-9][a-z0-9+.\-]{0,127}(=[A-Za-z0-9.+~:\-]{1,64})?/, what: "overrides.extra_packages")
        }
        root = CloudConfigMerger.append(root, key: "packages", items: o.extraPackages.map(CloudConfigMerger.quoted))

        let userData = "#cloud-config\n" + (try Self.wrap { try TemplateRenderer.serialize(root, file: "user-data") })
        // The tree is what was written: check it directly instead of parsing the text again.
        var problems = CloudConfigSchema.problems(in: root, file: "user-data")
        if userData.utf8.count > YAMLDocument.maxBytes {
            problems.append(EggError("user-data", "larger than \(YAMLDocument.maxBytes / 1_048_576) MiB"))
        }
        guard problems.isEmpty else {
            throw RenderError("the rendered user-data is not valid cloud-config: " + problems.map { $0.description }.joined(separator: "; "))
        }

        // meta-data: a stable instance id per deployment, and the host name.
        let hostname = o.hostname ?? root.mapping?["hostname"]?.string ?? request.instanceName
        let meta = Node.mapping(
            Node.Mapping([
                (Node("instance-id"), CloudConfigMerger.quoted(Self.instanceId(request.deploymentId))),
                (Node("local-hostname"), CloudConfigMerger.quoted(hostname)),
            ])
        )
        let metaData = try Self.wrap { try TemplateRenderer.serialize(meta, file: "meta-data") }

        // The LXD profile, and the vendor-data and network-config it may carry.
        var profile: String?
        var profileConfig: [String: String] = [:]
        if let text = egg.files[.lxdProfile] {
            profile = try Self.wrap { try TemplateRenderer.render(yaml: text, values: values, file: "lxd-profile.yaml") }
            if let config = (try? YAMLDocument.load(profile!, file: "lxd-profile.yaml"))??.mapping?["config"]?.mapping {
                for (k, v) in config { if let k = k.string, let v = v.string { profileConfig[k] = v } }
            }
        }
        let vendorData = profileConfig["cloud-init.vendor-data"] ?? profileConfig["user.vendor-data"]
        let networkConfig =
            try o.networkConfig.map(Self.checkNetworkConfig)
            ?? (profileConfig["cloud-init.network-config"] ?? profileConfig["user.network-config"]).map(Self.checkNetworkConfig)
        let kvm = egg.files[.kvmConfig].map { TemplateRenderer.renderText($0, values: values, escapeXML: true) }

        return Output(
            userData: userData,
            metaData: metaData,
            networkConfig: networkConfig,
            vendorData: vendorData,
            lxdProfile: request.target == .lxd ? profile : nil,
            kvmConfig: request.target == .kvm ? kvm : nil
        )
    }

    // MARK: Checks

    nonisolated(unsafe) static let hostnamePattern = /[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?/
    nonisolated(unsafe) static let sshKeyPattern =
        /(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+\/=]{16,16384}( [^\n\r]{0,256})?/

    /// LXD's rule for instance names: a host name label, not starting with a digit or a hyphen.
    static func checkInstanceName(_ name: String) throws {
        guard name.wholeMatch(of: /[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?/) != nil else {
            throw RenderError(
                "instance name '\(name.prefix(70))' must be 1-63 letters, digits and hyphens, start with a letter and not end with a hyphen"
            )
        }
    }

    static func check(_ value: String, matches regex: some RegexComponent, what: String) throws {
        guard value.wholeMatch(of: regex) != nil else { throw RenderError("\(what): '\(value.prefix(70))' is not valid") }
    }

    /// `iid-` and the deployment id with anything but letters, digits and hyphens replaced.
    static func instanceId(_ deploymentId: String) -> String {
        "iid-" + String(deploymentId.prefix(64).map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") ? $0 : "-" })
    }

    static func checkNetworkConfig(_ text: String) throws -> String {
        guard let node = try Self.wrap({ try YAMLDocument.load(text, file: "network-config") }), case .mapping(let m) = node else {
            throw RenderError("network-config must be a YAML mapping")
        }
        let version = m["version"]?.int ?? m["network"]?.mapping?["version"]?.int
        guard version == 1 || version == 2 else { throw RenderError("network-config needs 'version: 1' or 'version: 2'") }
        return text
    }

    static func wrap<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as EggError {
            throw RenderError(e.description)
        } catch let e as EggValidationError {
            throw RenderError(e.problems.map(\.description).joined(separator: "; "))
        } catch let e as RenderError {
            throw e
        } catch {
            throw RenderError("could not render: \(error)")
        }
    }
}
