import ArgumentParser
import IceShelvesService

/// The `kvm-deployer` executable: parses options, builds the service group and runs it until SIGTERM.
@main
struct KvmDeployerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration.iceShelvesService(
        .kvmDeployer,
        abstract: "IceShelves KVM deployer: deploys eggs to libvirt/QEMU hypervisors.",
        metricsPort: 9104
    )

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceRunner(name: .kvmDeployer, options: options, defaultMetricsPort: 9104).run()
    }
}
