import ArgumentParser
import IceShelvesService

/// The `agent-broker` executable: parses options, builds the service group and runs it until SIGTERM.
@main
struct AgentBrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration.iceShelvesService(
        .agentBroker,
        abstract: "IceShelves agent broker: hands deployments to polling agents.",
        metricsPort: 9105
    )

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        try await ServiceRunner(name: .agentBroker, options: options, defaultMetricsPort: 9105).run()
    }
}
