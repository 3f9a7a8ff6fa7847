import ArgumentParser
import IceShelvesService

/// The `lxd-deployer` executable: parses options, builds the service group and runs it until SIGTERM.
@main
struct LxdDeployerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration.iceShelvesService(
        .lxdDeployer, abstract: "IceShelves LXD deployer: deploys eggs to LXD hosts and clusters.", metricsPort: 9103)

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceRunner(name: .lxdDeployer, options: options, defaultMetricsPort: 9103).run()
    }
}
