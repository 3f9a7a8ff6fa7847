import Foundation
import IceShelvesContracts

/// The original agent's wire shapes (../shared/reference/original-agent-protocol.md), kept
/// exactly: agents in the field run that script unchanged.
enum OriginalProtocol {
    /// A poll item: every field the original agent reads, never null.
    struct Item: Encodable {
        var deploymentId: String
        var eggName: String
        var instanceName: String
        var deploymentType: String
        /// The rendered user-data.
        var cloudInit: String
        var lxdProfile: String
        /// Every value a string. Carries `cloud-init.user-data` too, because the original agent
        /// sets user-data under a key cloud-init ignores.
        var configOverrides: [String: String]
        var targetMember: String

        init(_ job: DeploymentRendered) {
            deploymentId = job.deploymentId
            eggName = job.eggName
            instanceName = job.instanceName
            deploymentType = job.target.rawValue
            cloudInit = job.userData
            lxdProfile = job.lxdProfile ?? ""
            configOverrides = LXDInstancePlan.config(for: job)
            targetMember = job.destination?.targetMember ?? ""
        }

        enum CodingKeys: String, CodingKey {
            case deploymentId = "deployment_id"
            case eggName = "egg_name"
            case instanceName = "instance_name"
            case deploymentType = "deployment_type"
            case cloudInit = "cloud_init"
            case lxdProfile = "lxd_profile"
            case configOverrides = "config_overrides"
            case targetMember = "target_member"
        }
    }

    /// The poll answer: `{"deployments": [...]}`.
    struct PollAnswer: Encodable {
        var deployments: [Item]
    }

    /// The status body: always all five keys; `instance_info` and `error_message` may be null,
    /// `details.timestamp` is naive, `instance_info.ipv4` a list of LXD address objects.
    struct StatusReport: Decodable {
        var status: String
        var message: String?
        var instanceInfo: [String: JSONValue]?
        var errorMessage: String?
        var details: [String: JSONValue]?

        enum CodingKeys: String, CodingKey {
            case status, message, details
            case instanceInfo = "instance_info"
            case errorMessage = "error_message"
        }
    }

    /// The statuses the original agent sends.
    enum Status: String {
        case inProgress = "in_progress"
        case completed
        case failed
    }

    /// `instance_info` as flat strings for the event's details: `ipv4` becomes comma-separated
    /// IPv4 addresses (the agent sends LXD's raw address objects, often before DHCP).
    static func flatten(_ info: [String: JSONValue]) -> [String: String] {
        var out: [String: String] = [:]
        for (key, value) in info where key.utf8.count <= 64 {
            if key == "ipv4" || key == "ipv6" {
                out[key] = addresses(value, family: key == "ipv4" ? "inet" : "inet6").joined(separator: ",")
            } else {
                out[key] = String(value.text.prefix(1024))
            }
        }
        return out
    }

    private static func addresses(_ value: JSONValue, family: String) -> [String] {
        guard case .array(let items) = value else { return value.text.isEmpty ? [] : [value.text] }
        return items.compactMap { item in
            switch item {
            case .string(let s): return s
            case .object(let o):
                guard o["family"]?.text == family, let a = o["address"]?.text, !a.isEmpty else { return nil }
                return a
            default: return nil
            }
        }
    }
}
