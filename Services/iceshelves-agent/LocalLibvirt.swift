import IceShelvesContracts
import IceShelvesKVMDeploy
import IceShelvesLibvirt

/// The libvirt on this machine (`--libvirt-uri`, default `qemu:///system`), with the pool,
/// network and domain type the agent's VMs use. A connection is opened per job.
struct LocalLibvirt: Sendable {
    let settings: LibvirtSettings
    let opener: LibvirtOpener

    func connection() async throws -> LibvirtConnection { try await opener.open(settings) }
}
