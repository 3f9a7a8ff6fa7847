import ArgumentParser
import Foundation
import Hummingbird
import IceShelvesBus
import IceShelvesContracts
import IceShelvesService
import IceShelvesSettings
import Prometheus
import ServiceLifecycle

/// The `api-gateway` executable: the REST API under `/iceshelves` on port 8000, the deployment
/// ledger, webhooks, and the consumer of deployment events.
@main
struct ApiGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration.iceShelvesService(
        .apiGateway,
        abstract: "IceShelves API gateway: REST API, auth, the deployment ledger, live progress and webhooks.",
        metricsPort: 9100
    )

    @OptionGroup var options: ServiceOptions

    @Option(
        name: .customLong("http-host"),
        help: ArgumentHelp("Address of the REST API. Env: ICESHELVES_HTTP_HOST. Default: 127.0.0.1", valueName: "host")
    )
    var httpHost: String?

    @Option(name: .customLong("http-port"), help: ArgumentHelp("Port of the REST API. Env: ICESHELVES_HTTP_PORT. Default: 8000", valueName: "port"))
    var httpPort: Int?

    @Option(
        name: .customLong("data-dir"),
        help: ArgumentHelp(
            "Folder for gateway.sqlite, master.key and admin.key. Env: ICESHELVES_GATEWAY_DATA_DIR. Default: /var/tmp/iceshelves",
            valueName: "path"
        )
    )
    var dataDir: String?

    @Option(
        name: .customLong("deployment-timeout"),
        help: ArgumentHelp(
            "Least seconds a deployment has once a deployer took it (longer when the deployer's own budget is longer) before it is marked timeout. Env: DEPLOYMENT_TIMEOUT. Default: 600",
            valueName: "seconds"
        )
    )
    var deploymentTimeout: Int?

    @Option(
        name: .customLong("queue-timeout"),
        help: ArgumentHelp(
            "Seconds a deployment may wait for a deployer before it is marked timeout. Env: QUEUE_TIMEOUT. Default: 3600",
            valueName: "seconds"
        )
    )
    var queueTimeout: Int?

    @Option(
        name: .customLong("max-concurrent-deployments"),
        help: ArgumentHelp("Unfinished deployments allowed per cluster. Env: MAX_CONCURRENT_DEPLOYMENTS. Default: 10", valueName: "n")
    )
    var maxConcurrent: Int?

    @Option(name: .customLong("max-egg-size-mb"), help: ArgumentHelp("Largest egg upload. Env: MAX_EGG_SIZE_MB. Default: 100", valueName: "MB"))
    var maxEggSizeMB: Int?

    @Option(
        name: .customLong("allowed-hosts"),
        help: ArgumentHelp(
            "Hosts clusters and webhooks may point at: comma-separated host names or addresses, 'loopback' for 127.0.0.0/8, ::1 and localhost. Env: ICESHELVES_ALLOWED_HOSTS. Default: any",
            valueName: "hosts"
        )
    )
    var allowedHosts: String?

    @Option(
        name: .customLong("auth-failure-limit"),
        help: ArgumentHelp(
            "Failed authentications per minute from one address before it gets 429 for a minute; 0 turns it off. Env: ICESHELVES_AUTH_FAILURE_LIMIT. Default: 20",
            valueName: "n"
        )
    )
    var authFailureLimit: Int?

    @Option(
        name: .customLong("deployer-users"),
        help: ArgumentHelp(
            "Broker users that may fetch cluster connections (cluster.connection), comma-separated. Env: ICESHELVES_DEPLOYER_USERS. Default: lxd-deployer,kvm-deployer,agent-broker",
            valueName: "users"
        )
    )
    var deployerUsers: String?

    @Option(
        name: .customLong("allow-insecure-libvirt"),
        help: ArgumentHelp(
            "1 accepts qemu+tcp:// KVM clusters (no authentication, no encryption: tests only). Env: ICESHELVES_ALLOW_INSECURE_LIBVIRT. Default: 0",
            valueName: "0|1"
        )
    )
    var allowInsecureLibvirt: Int?

    @Option(
        name: .customLong("agent-url"),
        help: ArgumentHelp(
            "The agent-broker's URL that agents use, shown in the web UI's agent install command (ICESHELVES_SERVER). Env: ICESHELVES_AGENT_URL. Default: http://<http-host>:8010",
            valueName: "url"
        )
    )
    var agentURL: String?

    func run() async throws {
        let trusted = Set(
            (deployerUsers ?? Environment.value("ICESHELVES_DEPLOYER_USERS") ?? "lxd-deployer,kvm-deployer,agent-broker")
                .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        )
        let ownUser = try options.resolvedAMQPURL().user
        let host = httpHost ?? Environment.value("ICESHELVES_HTTP_HOST") ?? "127.0.0.1"
        let port = try Environment.integer(httpPort, flagName: "--http-port", key: "ICESHELVES_HTTP_PORT", default: 8000, in: 0...65535)
        let timeout = try Environment.integer(
            deploymentTimeout,
            flagName: "--deployment-timeout",
            key: "DEPLOYMENT_TIMEOUT",
            default: 600,
            in: 1...86400
        )
        let failureLimit = try Environment.integer(
            authFailureLimit,
            flagName: "--auth-failure-limit",
            key: "ICESHELVES_AUTH_FAILURE_LIMIT",
            default: 20,
            in: 0...1_000_000
        )
        let queueLimit = try Environment.integer(queueTimeout, flagName: "--queue-timeout", key: "QUEUE_TIMEOUT", default: 3600, in: 1...604_800)
        let concurrent = try Environment.integer(
            maxConcurrent,
            flagName: "--max-concurrent-deployments",
            key: "MAX_CONCURRENT_DEPLOYMENTS",
            default: 10,
            in: 1...10000
        )
        let eggMB = try Environment.integer(maxEggSizeMB, flagName: "--max-egg-size-mb", key: "MAX_EGG_SIZE_MB", default: 100, in: 1...4096)
        let insecureLibvirt = try Environment.integer(
            allowInsecureLibvirt,
            flagName: "--allow-insecure-libvirt",
            key: "ICESHELVES_ALLOW_INSECURE_LIBVIRT",
            default: 0,
            in: 0...1
        )
        let agent = try Self.resolvedAgentURL(agentURL ?? Environment.value("ICESHELVES_AGENT_URL"), httpHost: host)
        let data = dataDir ?? Environment.value("ICESHELVES_GATEWAY_DATA_DIR") ?? "/var/tmp/iceshelves"
        try DataDirectory.prepare(data)

        try await ServiceRunner(name: .apiGateway, options: options, defaultMetricsPort: 9100).run { context, router in
            let db = try await GatewayDatabase.open(path: data + "/gateway.sqlite")
            let box = try SecretBox.load(directory: data)
            let bus = BusGatewayClient(client: context.client, logger: context.logger)
            var settings = Gateway.Settings()
            settings.maxConcurrentPerCluster = concurrent
            settings.maxUploadBytes = eggMB << 20
            settings.authFailureLimit = failureLimit
            settings.hosts = HostPolicy(allowedHosts ?? Environment.value("ICESHELVES_ALLOWED_HOSTS"))
            settings.allowInsecureLibvirt = insecureLibvirt == 1
            settings.agentURL = agent
            let registry = context.metrics
            let client = context.client
            let gateway = Gateway(
                db: db,
                box: box,
                catalog: bus,
                pipeline: bus,
                settings: settings,
                logger: context.logger,
                busConnected: { client.isConnected },
                metricsText: { registry.emitToBuffer() }
            )
            if let path = try await gateway.keys.bootstrapAdmin(directory: data) {
                context.logger.notice(
                    "created the first admin API key; read it from \(path) (mode 0600) and keep it safe",
                    metadata: ["path": "\(path)"]
                )
            }
            let grants = ConnectionGrants(
                clusters: gateway.clusters,
                ledger: gateway.ledger,
                deployerUsers: trusted,
                ownUser: ownUser,
                egress: EgressGuard(policy: gateway.settings.hosts),
                logger: context.logger
            )
            router.onCall(ClusterConnectionRequest.self) { envelope, call in try await grants.grant(envelope.payload, caller: call.caller) }
            let ingest = EventIngest(recorder: gateway.recorder, pipeline: bus)
            router.onCall(AgentKeysRequest.self) { _, call in try await grants.agentKeys(caller: call.caller) }
            router.onCall(WarmPoolsRequest.self) { _, call in try await grants.warmPools(caller: call.caller) }
            let clusterStatus = ClusterStatusIngest(clusters: gateway.clusters, webhooks: gateway.webhooks)
            let logger = context.logger
            let app = Application(
                router: gateway.router(),
                configuration: .init(address: .hostname(host, port: port), serverName: "iceshelves"),
                onServerRunning: { channel in
                    logger.info("REST API listening", metadata: ["address": "\(channel.localAddress?.description ?? "?")", "base": "/iceshelves"])
                },
                logger: context.logger
            )
            return [
                app,
                QueueWorker<DeploymentEvent>(
                    client: context.client,
                    queue: EventIngest.queue,
                    concurrency: 1,
                    topology: EventIngest.topology.merging(.workQueue(BusNames.renderQueue)),
                    logger: context.logger
                ) { try await ingest.handle($0, logger: $1) },
                QueueWorker<ClusterStatusChanged>(
                    client: context.client,
                    queue: ClusterStatusIngest.queue,
                    concurrency: 1,
                    topology: ClusterStatusIngest.topology,
                    logger: context.logger
                ) { try await clusterStatus.handle($0, logger: $1) },
                TimeoutSweeper(
                    ledger: gateway.ledger,
                    recorder: gateway.recorder,
                    pipeline: bus,
                    timeout: .seconds(timeout),
                    queueTimeout: .seconds(queueLimit),
                    pendingEvents: { try await client.queueDepth(EventIngest.queue) },
                    logger: context.logger
                ),
                LeftoverCleaner(
                    ledger: gateway.ledger,
                    clusters: gateway.clusters,
                    recorder: gateway.recorder,
                    pipeline: bus,
                    logger: context.logger
                ),
                DeadLetterIngest(
                    client: context.client,
                    deadLetters: gateway.deadLetters,
                    ledger: gateway.ledger,
                    recorder: gateway.recorder,
                    deliveryLimit: context.client.configuration.deliveryLimit ?? BusNames.defaultDeliveryLimit,
                    senders: context.jobPublishers.union(trusted).union([ServiceName.cloudInitRenderer.rawValue]),
                    logger: context.logger
                ),
                WebhookDispatcher(webhooks: gateway.webhooks),
                StreamCloser(hub: gateway.events),
            ]
        }
    }

    /// The agents' URL: `--agent-url` as given (http or https, a host, no spaces, no query), else
    /// the agent-broker's default port on the gateway's own host.
    static func resolvedAgentURL(_ given: String?, httpHost: String) throws -> String {
        guard let given, !given.isEmpty else {
            let host = httpHost.contains(":") && !httpHost.hasPrefix("[") ? "[\(httpHost)]" : httpHost
            return "http://\(host):8010"
        }
        guard given.unicodeScalars.count <= 2048, !given.contains(where: { $0.isWhitespace || $0.isNewline }),
            let parts = URLComponents(string: given), ["http", "https"].contains(parts.scheme ?? ""), parts.host?.isEmpty == false,
            parts.query == nil, parts.fragment == nil, parts.user == nil, parts.password == nil
        else {
            throw ValidationError("--agent-url (ICESHELVES_AGENT_URL) must be http(s)://host[:port][/path], without spaces, query or credentials")
        }
        return given
    }
}
