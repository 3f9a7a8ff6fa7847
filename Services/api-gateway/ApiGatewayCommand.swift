import ArgumentParser
import IceShelvesService

/// The `api-gateway` executable: parses options, builds the service group and runs it until SIGTERM.
@main
struct ApiGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration.iceShelvesService(
        .apiGateway, abstract: "IceShelves API gateway: REST API, web UI and auth.", metricsPort: 9100)

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceRunner(name: .apiGateway, options: options, defaultMetricsPort: 9100).run()
    }
}
