/// Where a deployment goes: an LXD container or a KVM virtual machine.
public enum TargetType: String, Codable, Sendable, CaseIterable {
    case lxd
    case kvm

    /// The work queue of the deployer for this target, fed by the renderer.
    public var deployQueue: String { BusNames.deployQueue(self) }
}
