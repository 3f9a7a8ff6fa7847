import ArgumentParser
import IceShelvesBus
import IceShelvesContracts
import IceShelvesLXD
import IceShelvesService
import IceShelvesSettings

/// The `lxd-deployer` executable: consumes `deploy.lxd` (several jobs at a time, and as one of
/// several competing processes), answers `lxd.test` and `lxd.cleanup`, and obeys `deployment.cancel`.
@main
struct LxdDeployerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration.iceShelvesService(
        .lxdDeployer,
        abstract: "IceShelves LXD deployer: deploys eggs to LXD hosts and clusters.",
        metricsPort: 9103
    )

    @OptionGroup var options: ServiceOptions

    @Option(help: ArgumentHelp("Deployments worked on at once. Env: ICESHELVES_LXD_CONCURRENCY. Default: 4", valueName: "n"))
    var concurrency: Int?

    @Option(
        name: .customLong("lxd-timeout"),
        help: ArgumentHelp("Seconds for connecting to LXD and for each request. Env: LXD_CONNECTION_TIMEOUT. Default: 30", valueName: "seconds")
    )
    var lxdTimeout: Int?

    @Option(
        name: .customLong("operation-timeout"),
        help: ArgumentHelp(
            "Seconds an LXD create, start or delete may take. Env: ICESHELVES_LXD_OPERATION_TIMEOUT. Default: 300",
            valueName: "seconds"
        )
    )
    var operationTimeout: Int?

    @Option(
        name: .customLong("cloud-init-timeout"),
        help: ArgumentHelp("Seconds cloud-init may take after the start. Env: ICESHELVES_CLOUD_INIT_TIMEOUT. Default: 600", valueName: "seconds")
    )
    var cloudInitTimeout: Int?

    @Option(
        name: .customLong("warm-pool-interval"),
        help: ArgumentHelp("Seconds between warm-pool fills. Env: ICESHELVES_LXD_WARM_POOL_INTERVAL. Default: 10", valueName: "seconds")
    )
    var warmPoolInterval: Int?

    @Option(
        name: .customLong("warm-pool-prefix"),
        help: ArgumentHelp(
            "Name prefix and marker of this installation's warm-pool instances. Env: ICESHELVES_LXD_WARM_POOL_PREFIX. Default: iceshelves-pool",
            valueName: "prefix"
        )
    )
    var warmPoolPrefix: String?

    func run() async throws {
        let workers = try Environment.integer(concurrency, flagName: "--concurrency", key: "ICESHELVES_LXD_CONCURRENCY", default: 4, in: 1...256)
        let timeout = try Environment.integer(lxdTimeout, flagName: "--lxd-timeout", key: "LXD_CONNECTION_TIMEOUT", default: 30, in: 1...3600)
        let operations = try Environment.integer(
            operationTimeout,
            flagName: "--operation-timeout",
            key: "ICESHELVES_LXD_OPERATION_TIMEOUT",
            default: 300,
            in: 1...86400
        )
        let cloudInit = try Environment.integer(
            cloudInitTimeout,
            flagName: "--cloud-init-timeout",
            key: "ICESHELVES_CLOUD_INIT_TIMEOUT",
            default: 600,
            in: 1...86400
        )
        let poolInterval = try Environment.integer(
            warmPoolInterval,
            flagName: "--warm-pool-interval",
            key: "ICESHELVES_LXD_WARM_POOL_INTERVAL",
            default: 10,
            in: 1...3600
        )
        let poolPrefix = warmPoolPrefix ?? Environment.value("ICESHELVES_LXD_WARM_POOL_PREFIX") ?? "iceshelves-pool"
        guard poolPrefix.count <= 40, InstanceNameRule.problem(poolPrefix) == nil else {
            throw ValidationError("--warm-pool-prefix must be a valid instance name of at most 40 characters")
        }
        try await ServiceRunner(name: .lxdDeployer, options: options, defaultMetricsPort: 9103).run { context, router in
            let connector = LXDConnector(timeout: .seconds(timeout), logger: context.logger)
            let cancels = CancelRegistry()
            let connections = GatewayConnectionSource(bus: context.client, logger: context.logger)
            let clients = ClientCache(connector: connector)
            let book = WarmPoolBook(prefix: poolPrefix)
            let activity = DeployActivity()
            let worker = DeployWorker(
                bus: context.client,
                clients: clients,
                connections: connections,
                cancels: cancels,
                cloudInitTimeout: .seconds(cloudInit),
                operationTimeout: .seconds(operations),
                warmPools: WarmPoolClaims(book: book, operationTimeout: .seconds(operations)),
                activity: activity
            )
            let filler = WarmPoolFiller(
                bus: context.client,
                book: book,
                clients: clients,
                connections: connections,
                activity: activity,
                interval: .seconds(poolInterval),
                operationTimeout: .seconds(operations),
                logger: context.logger
            )
            let queries = LXDQueries(connector: connector, connections: connections, operationTimeout: .seconds(operations), warmPools: book)
            router.on(LXDTestRequest.self) { envelope, _ in try await queries.test(envelope.payload) }
            router.on(LXDCleanupRequest.self) { envelope, _ in try await queries.cleanup(envelope.payload) }
            router.on(LXDPoolStatusRequest.self) { envelope, _ in queries.poolStatus(envelope.payload) }
            return [
                QueueWorker<DeploymentRendered>(
                    client: context.client,
                    queue: DeployWorker.queue,
                    concurrency: workers,
                    publishers: context.jobPublishers,
                    logger: context.logger
                ) {
                    try await worker.handle($0, logger: $1)
                },
                CancelListener(service: .lxdDeployer, bus: context.client, cancels: cancels, logger: context.logger),
                filler,
            ]
        }
    }
}
