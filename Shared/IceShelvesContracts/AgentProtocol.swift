/// Our own agent protocol, version 1 (HTTP JSON, next to the original one on the same URL):
/// `POST <server>/api/agent/v1/poll/<cluster>` (long-poll), `…/v1/lease/<deployment>` (renewal),
/// `…/v1/report/<deployment>` (a ``DeploymentEvent``). Every request carries `X-Agent-Key`.
/// docs/agent-installation.md describes it.
public enum AgentProtocol {
    /// The version this build speaks.
    public static let version = 1
    /// The path of a poll, after the server URL.
    public static func pollPath(cluster: String) -> String { "/api/agent/v1/poll/\(cluster)" }
    /// The path of a lease renewal.
    public static func leasePath(deployment: String) -> String { "/api/agent/v1/lease/\(deployment)" }
    /// The path of a progress report.
    public static func reportPath(deployment: String) -> String { "/api/agent/v1/report/\(deployment)" }
    /// The longest a poll is held (seconds); the server takes off up to 1/16 of it as jitter.
    public static let maxWaitSeconds = 50

    /// The body of a poll: who is asking.
    public struct Poll: Codable, Sendable, Equatable {
        /// Random per agent process: the lease holder.
        public var agentId: String
        public var agentVersion: String
        public var hostname: String
        /// What the agent can deploy (`lxd`; `kvm` once it can).
        public var capabilities: [TargetType]
        /// Deployments the agent may take now (0 to only renew its presence and hear commands).
        public var maxJobs: Int

        public init(agentId: String, agentVersion: String, hostname: String, capabilities: [TargetType], maxJobs: Int) {
            self.agentId = agentId
            self.agentVersion = agentVersion
            self.hostname = hostname
            self.capabilities = capabilities
            self.maxJobs = maxJobs
        }

        enum CodingKeys: String, CodingKey {
            case hostname, capabilities
            case agentId = "agent_id"
            case agentVersion = "agent_version"
            case maxJobs = "max_jobs"
        }
    }

    /// Something the agent must do about a deployment it holds.
    public struct Command: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable {
            /// Stop the deployment and remove what it created (unless the deployment keeps failures).
            case cancel
        }

        public var kind: Kind
        public var deploymentId: String

        public init(kind: Kind, deploymentId: String) {
            self.kind = kind
            self.deploymentId = deploymentId
        }

        enum CodingKeys: String, CodingKey {
            case kind
            case deploymentId = "deployment_id"
        }
    }

    /// The answer to a poll.
    public struct PollAnswer: Codable, Sendable, Equatable {
        public var protocolVersion: Int
        /// The jobs now leased to this agent, each the full rendered deployment.
        public var jobs: [DeploymentRendered]
        public var commands: [Command]
        /// How long a lease lasts without renewal.
        public var leaseSeconds: Int

        public init(protocolVersion: Int = AgentProtocol.version, jobs: [DeploymentRendered], commands: [Command], leaseSeconds: Int) {
            self.protocolVersion = protocolVersion
            self.jobs = jobs
            self.commands = commands
            self.leaseSeconds = leaseSeconds
        }

        enum CodingKeys: String, CodingKey {
            case jobs, commands
            case protocolVersion = "protocol"
            case leaseSeconds = "lease_seconds"
        }
    }

    /// The answer to a lease renewal.
    public struct LeaseAnswer: Codable, Sendable, Equatable {
        public var leaseSeconds: Int
        /// The deployment was cancelled: stop and clean up.
        public var cancel: Bool

        public init(leaseSeconds: Int, cancel: Bool) {
            self.leaseSeconds = leaseSeconds
            self.cancel = cancel
        }

        enum CodingKeys: String, CodingKey {
            case cancel
            case leaseSeconds = "lease_seconds"
        }
    }

    /// The body of a lease renewal.
    public struct Lease: Codable, Sendable, Equatable {
        public var agentId: String

        public init(agentId: String) { self.agentId = agentId }

        enum CodingKeys: String, CodingKey {
            case agentId = "agent_id"
        }
    }
}
