/// `lxd.test`: checks a registered cluster's connection (the gateway's "test connection"),
/// answered with ``LXDTestResult``. The deployer fetches the connection from the gateway.
public struct LXDTestRequest: BusMessage, Equatable {
    public static let messageType = "lxd.test"
    public static let messageVersion = 2
    public var clusterId: String

    public init(clusterId: String) { self.clusterId = clusterId }

    enum CodingKeys: String, CodingKey {
        case clusterId = "cluster_id"
    }
}

/// What an LXD server or cluster says about itself.
public struct LXDTestResult: BusMessage, Equatable {
    public static let messageType = "lxd.test.result"
    public static let messageVersion = 1

    public struct Member: Codable, Sendable, Equatable {
        public var name: String
        public var url: String
        /// `Online`, `Offline`, `Evacuated`, … as LXD reports it.
        public var status: String
        public var message: String

        public init(name: String, url: String, status: String, message: String) {
            self.name = name
            self.url = url
            self.status = status
            self.message = message
        }
    }

    public var serverVersion: String
    public var apiVersion: String
    public var clustered: Bool
    public var members: [Member]
    public var cpuCores: Int
    public var memoryBytes: UInt64
    /// `trusted` when our client certificate (or the unix socket) gives full access.
    public var auth: String

    public init(serverVersion: String, apiVersion: String, clustered: Bool, members: [Member], cpuCores: Int, memoryBytes: UInt64, auth: String) {
        self.serverVersion = serverVersion
        self.apiVersion = apiVersion
        self.clustered = clustered
        self.members = members
        self.cpuCores = cpuCores
        self.memoryBytes = memoryBytes
        self.auth = auth
    }

    enum CodingKeys: String, CodingKey {
        case clustered, members, auth
        case serverVersion = "server_version"
        case apiVersion = "api_version"
        case cpuCores = "cpu_cores"
        case memoryBytes = "memory_bytes"
    }
}

/// `lxd.cleanup`: stops and deletes a deployment's instance (the gateway's deployment cleanup).
/// Answered with ``LXDCleanupResult``. The instance is removed only if IceShelves created it for
/// this deployment; the deployer fetches the cluster's connection from the gateway.
public struct LXDCleanupRequest: BusMessage, Equatable {
    public static let messageType = "lxd.cleanup"
    public static let messageVersion = 2
    public var clusterId: String
    public var instanceName: String
    public var deploymentId: String

    public init(clusterId: String, instanceName: String, deploymentId: String) {
        self.clusterId = clusterId
        self.instanceName = instanceName
        self.deploymentId = deploymentId
    }

    enum CodingKeys: String, CodingKey {
        case clusterId = "cluster_id"
        case instanceName = "instance_name"
        case deploymentId = "deployment_id"
    }
}

public struct LXDCleanupResult: BusMessage, Equatable {
    public static let messageType = "lxd.cleanup.result"
    public static let messageVersion = 1
    /// `false` when there was no such instance (cleanup is idempotent).
    public var removed: Bool
    public var message: String

    public init(removed: Bool, message: String) {
        self.removed = removed
        self.message = message
    }
}
