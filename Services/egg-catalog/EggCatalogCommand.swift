import ArgumentParser
import IceShelvesService

/// The `egg-catalog` executable: parses options, builds the service group and runs it until SIGTERM.
@main
struct EggCatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration.iceShelvesService(
        .eggCatalog, abstract: "IceShelves egg catalogue: imports, validates, versions and serves eggs.", metricsPort: 9101)

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceRunner(name: .eggCatalog, options: options, defaultMetricsPort: 9101).run()
    }
}
