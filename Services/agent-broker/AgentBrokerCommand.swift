import ArgumentParser
import Foundation
import Hummingbird
import IceShelvesBus
import IceShelvesContracts
import IceShelvesService
import IceShelvesSettings

/// The `agent-broker` executable: keeps the jobs of agent-poll clusters (from `deploy.agent`)
/// in its own SQLite and serves them to the clusters' agents on an HTTP listener of its own.
@main
struct AgentBrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration.iceShelvesService(
        .agentBroker,
        abstract: "IceShelves agent broker: hands deployments to polling agents.",
        metricsPort: 9105
    )

    @OptionGroup var options: ServiceOptions

    @Option(help: ArgumentHelp("Address of the agents' listener. Env: ICESHELVES_AGENT_HOST. Default: 127.0.0.1", valueName: "host"))
    var host: String?

    @Option(help: ArgumentHelp("Port of the agents' listener (0 picks one). Env: ICESHELVES_AGENT_PORT. Default: 8010", valueName: "port"))
    var port: Int?

    @Option(
        name: .customLong("data-dir"),
        help: ArgumentHelp(
            "Directory of the job database. Env: ICESHELVES_AGENT_BROKER_DATA_DIR. Default: /var/tmp/iceshelves-agent-broker",
            valueName: "path"
        )
    )
    var dataDir: String?

    @Option(
        name: .customLong("lease-seconds"),
        help: ArgumentHelp(
            "Seconds a handed-out job stays with a silent agent. Env: ICESHELVES_AGENT_LEASE_SECONDS. Default: 300",
            valueName: "seconds"
        )
    )
    var leaseSeconds: Int?

    func run() async throws {
        let host = host ?? Environment.value("ICESHELVES_AGENT_HOST") ?? "127.0.0.1"
        let port = try Environment.integer(port, flagName: "--port", key: "ICESHELVES_AGENT_PORT", default: 8010, in: 0...65535)
        let lease = try Environment.integer(
            leaseSeconds,
            flagName: "--lease-seconds",
            key: "ICESHELVES_AGENT_LEASE_SECONDS",
            default: 300,
            in: 2...86400
        )
        let data = dataDir ?? Environment.value("ICESHELVES_AGENT_BROKER_DATA_DIR") ?? "/var/tmp/iceshelves-agent-broker"
        try DataDirectory.prepare(data)

        try await ServiceRunner(name: .agentBroker, options: options, defaultMetricsPort: 9105).run { context, _ in
            let store = try JobStore.open(path: data + "/agent-broker.sqlite")
            let signal = JobSignal()
            let reporter = Reporter(bus: context.client)
            let health = ClusterHealth(bus: context.client, logger: context.logger)
            let service = AgentService(
                store: store,
                signal: signal,
                keys: KeyVerifier(source: BusAgentKeySource(client: context.client), logger: context.logger),
                health: health,
                reporter: reporter,
                settings: .init(lease: .seconds(lease)),
                logger: context.logger
            )
            let intake = JobIntake(store: store, signal: signal, reporter: reporter)
            let logger = context.logger
            let app = Application(
                router: AgentRoutes(service: service).router(),
                // A large backlog: thousands of agents reconnect at once after a restart.
                configuration: .init(address: .hostname(host, port: port), serverName: "iceshelves-agent-broker", backlog: 4096),
                onServerRunning: { channel in
                    logger.info("agent listener up", metadata: ["address": "\(channel.localAddress?.description ?? "?")"])
                },
                logger: context.logger
            )
            // Stopped in reverse order: the held polls are answered first, the health changes sent last.
            return [
                health,
                app,
                QueueWorker<DeploymentRendered>(
                    client: context.client,
                    queue: JobIntake.queue,
                    concurrency: 4,
                    publishers: context.jobPublishers,
                    logger: context.logger
                ) {
                    try await intake.handle($0, logger: $1)
                },
                CancelFollower(bus: context.client, store: store, signal: signal, logger: context.logger),
                Sweeper(store: store, signal: signal, health: health, logger: context.logger),
                signal,
            ]
        }
    }
}
