/// `kvm.test`: checks a registered KVM cluster's connection (the gateway's "test connection"),
/// answered with ``KVMTestResult``. The deployer fetches the connection from the gateway.
public struct KVMTestRequest: BusMessage, Equatable {
    public static let messageType = "kvm.test"
    public static let messageVersion = 1
    public var clusterId: String

    public init(clusterId: String) { self.clusterId = clusterId }

    enum CodingKeys: String, CodingKey {
        case clusterId = "cluster_id"
    }
}

/// What a libvirt host says about itself.
public struct KVMTestResult: BusMessage, Equatable {
    public static let messageType = "kvm.test.result"
    public static let messageVersion = 1

    public struct Pool: Codable, Sendable, Equatable {
        public var name: String
        public var active: Bool
        public var capacityBytes: UInt64
        public var availableBytes: UInt64

        public init(name: String, active: Bool, capacityBytes: UInt64, availableBytes: UInt64) {
            self.name = name
            self.active = active
            self.capacityBytes = capacityBytes
            self.availableBytes = availableBytes
        }

        enum CodingKeys: String, CodingKey {
            case name, active
            case capacityBytes = "capacity_bytes"
            case availableBytes = "available_bytes"
        }
    }

    public var hostname: String
    /// The hypervisor driver (`QEMU`).
    public var hypervisor: String
    public var hypervisorVersion: String
    public var libvirtVersion: String
    public var cpuModel: String
    public var cpuCores: Int
    public var memoryBytes: UInt64
    public var pools: [Pool]
    /// Whether the cluster's own pool and network exist.
    public var storagePoolFound: Bool
    public var networkFound: Bool

    public init(
        hostname: String,
        hypervisor: String,
        hypervisorVersion: String,
        libvirtVersion: String,
        cpuModel: String,
        cpuCores: Int,
        memoryBytes: UInt64,
        pools: [Pool],
        storagePoolFound: Bool,
        networkFound: Bool
    ) {
        self.hostname = hostname
        self.hypervisor = hypervisor
        self.hypervisorVersion = hypervisorVersion
        self.libvirtVersion = libvirtVersion
        self.cpuModel = cpuModel
        self.cpuCores = cpuCores
        self.memoryBytes = memoryBytes
        self.pools = pools
        self.storagePoolFound = storagePoolFound
        self.networkFound = networkFound
    }

    enum CodingKeys: String, CodingKey {
        case hostname, hypervisor, pools
        case hypervisorVersion = "hypervisor_version"
        case libvirtVersion = "libvirt_version"
        case cpuModel = "cpu_model"
        case cpuCores = "cpu_cores"
        case memoryBytes = "memory_bytes"
        case storagePoolFound = "storage_pool_found"
        case networkFound = "network_found"
    }
}

/// `kvm.cleanup`: destroys and undefines a deployment's VM and deletes its volumes. Answered with
/// ``KVMCleanupResult``. Only a domain IceShelves defined for this deployment is removed; the
/// deployer fetches the cluster's connection from the gateway.
public struct KVMCleanupRequest: BusMessage, Equatable {
    public static let messageType = "kvm.cleanup"
    public static let messageVersion = 1
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

public struct KVMCleanupResult: BusMessage, Equatable {
    public static let messageType = "kvm.cleanup.result"
    public static let messageVersion = 1
    public var removed: Bool
    public var message: String

    public init(removed: Bool, message: String) {
        self.removed = removed
        self.message = message
    }
}
