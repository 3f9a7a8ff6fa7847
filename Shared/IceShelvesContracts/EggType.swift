/// Where an egg can be deployed.
public enum EggType: String, Codable, Sendable, CaseIterable {
    /// An LXD container only.
    case lxdContainer = "lxd-container"
    /// A KVM virtual machine only.
    case kvmVM = "kvm-vm"
    /// Either.
    case hybrid

    /// Whether an egg of this type may be deployed as `target`.
    public func allows(_ target: TargetType) -> Bool {
        switch (self, target) {
        case (.hybrid, _), (.lxdContainer, .lxd), (.kvmVM, .kvm): true
        default: false
        }
    }

    /// The target a deployment gets when its request names none.
    public var defaultTarget: TargetType { self == .kvmVM ? .kvm : .lxd }
}
