import ArgumentParser
import IceShelvesService

/// The `cloud-init-renderer` executable: parses options, builds the service group and runs it until SIGTERM.
@main
struct CloudInitRendererCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration.iceShelvesService(
        .cloudInitRenderer, abstract: "IceShelves cloud-init renderer: user-data, meta-data and NoCloud seeds.", metricsPort: 9102)

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceRunner(name: .cloudInitRenderer, options: options, defaultMetricsPort: 9102).run()
    }
}
