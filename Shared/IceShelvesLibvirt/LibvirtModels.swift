/// What `virConnectGetVersion`, `virConnectGetLibVersion` and `virNodeGetInfo` tell about a host.
public struct LibvirtHostInfo: Sendable, Equatable {
    public var hostname: String
    /// The hypervisor driver (`QEMU`, `Test`).
    public var driver: String
    /// The hypervisor's version, `major.minor.micro`.
    public var hypervisorVersion: String
    public var libvirtVersion: String
    public var cpuModel: String
    public var cpus: Int
    public var memoryBytes: UInt64
}

/// A storage pool as `virStoragePoolGetInfo` sees it.
public struct LibvirtPoolInfo: Sendable, Equatable {
    public var name: String
    public var active: Bool
    public var capacityBytes: UInt64
    public var availableBytes: UInt64
}

/// A storage volume: its name, path on the hypervisor, and sizes.
public struct LibvirtVolumeInfo: Sendable, Equatable {
    public var name: String
    public var path: String
    public var capacityBytes: UInt64
    public var allocationBytes: UInt64
}

/// A domain's state (`virDomainGetState`).
public enum LibvirtDomainState: String, Sendable {
    case running, blocked, paused, shutdown, shutoff, crashed, suspended, unknown

    init(_ raw: Int32) {
        switch raw {
        case 1: self = .running
        case 2: self = .blocked
        case 3: self = .paused
        case 4: self = .shutdown
        case 5: self = .shutoff
        case 6: self = .crashed
        case 7: self = .suspended
        default: self = .unknown
        }
    }

    public var isActive: Bool { self != .shutoff && self != .crashed && self != .unknown }
}
