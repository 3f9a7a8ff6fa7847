/// What a cluster runs: LXD (containers, and LXD's own VMs) or libvirt/QEMU (KVM virtual machines).
public enum Hypervisor: String, Codable, Sendable, CaseIterable {
    case lxd
    case kvm

    /// The deployment target a cluster of this kind takes.
    public var target: TargetType { self == .kvm ? .kvm : .lxd }
}
