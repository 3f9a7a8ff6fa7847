import IceShelvesLibvirt

/// Removes a VM and its volumes: destroy, undefine, delete the overlay, seed and console log.
public struct VMRemover: Sendable {
    let libvirt: LibvirtConnection
    let pool: String

    public init(libvirt: LibvirtConnection, pool: String) {
        self.libvirt = libvirt
        self.pool = pool
    }

    /// What a removal found.
    public enum Outcome: Sendable, Equatable {
        case removed
        case nothing
        /// A domain of that name exists but IceShelves did not define it for this deployment.
        case notOurs(String?)
    }

    /// Removes `name` and its volumes when the domain is `deploymentId`'s (any IceShelves domain when `nil`).
    public func remove(_ name: String, ifOwnedBy deploymentId: String?) async throws -> Outcome {
        var removedSomething = false
        if let xml = try await libvirt.domainXML(name) {
            let owner = DomainPlan.deploymentId(inDomainXML: xml)
            if let deploymentId, owner != deploymentId { return .notOurs(owner) }
            if deploymentId == nil, owner == nil { return .notOurs(nil) }
            removedSomething = try await libvirt.removeDomain(name)
        }
        for volume in VolumePlan(instance: name).all where try await libvirt.deleteVolume(volume, pool: pool) {
            removedSomething = true
        }
        return removedSomething ? .removed : .nothing
    }
}
