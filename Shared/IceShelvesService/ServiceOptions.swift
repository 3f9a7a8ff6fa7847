import ArgumentParser
import IceShelvesBus
import IceShelvesContracts
import IceShelvesSettings
import Logging

/// The options every service takes. Each flag falls back to an environment variable, then to a
/// default; `--help` lists both.
public struct ServiceOptions: ParsableArguments, Sendable {
    @Option(
        name: .customLong("amqp-url"),
        help: ArgumentHelp(
            "AMQP broker URL, or the nodes of one RabbitMQ cluster as comma-separated URLs with the same user and vhost (amqp://u:p@node1:5672/v,amqp://u:p@node2:5672/v): the service connects to the first and, when a connection fails or is lost, to the next in turn. Env: ICESHELVES_AMQP_URL. Default: amqp://guest:guest@127.0.0.1:5672/",
            valueName: "url[,url...]"
        )
    )
    public var amqpURL: String?

    @Option(
        name: .customLong("metrics-host"),
        help: ArgumentHelp(
            "Address of the health and Prometheus endpoint. Env: ICESHELVES_METRICS_HOST. Default: 127.0.0.1",
            valueName: "host"
        )
    )
    public var metricsHost: String?

    @Option(
        name: .customLong("metrics-port"),
        help: ArgumentHelp(
            "Port of GET /healthz and GET /metrics; 0 picks a free port, -1 turns the endpoint off. Env: ICESHELVES_METRICS_PORT. Default: the service's own port (see docs/operations.md)",
            valueName: "port"
        )
    )
    public var metricsPort: Int?

    @Option(
        name: .customLong("log-level"),
        help: ArgumentHelp(
            "trace, debug, info, notice, warning, error or critical. Env: ICESHELVES_LOG_LEVEL. Default: info",
            valueName: "level"
        )
    )
    public var logLevel: String?

    @Option(
        name: .customLong("rpc-concurrency"),
        help: ArgumentHelp(
            "RPC requests handled at once. Env: ICESHELVES_RPC_CONCURRENCY. Default: 16",
            valueName: "n"
        )
    )
    public var rpcConcurrency: Int?

    @Option(
        name: .customLong("shutdown-grace-seconds"),
        help: ArgumentHelp(
            "The budget of a graceful shutdown (SIGTERM, SIGINT): in-flight work may finish until 5 s before it (at most half of it earlier), is then cancelled and requeued, and at the budget the process exits; nothing unacked is lost, the broker gives it to the next consumer. Keep it below the supervisor's kill timeout (compose stop_grace_period, systemd TimeoutStopSec). Env: ICESHELVES_SHUTDOWN_GRACE_SECONDS. Default: 25",
            valueName: "seconds"
        )
    )
    public var shutdownGraceSeconds: Int?

    @Option(
        name: .customLong("delivery-limit"),
        help: ArgumentHelp(
            "How often the broker hands out a job (deploy.* queues) whose consumer crashed before it dead-letters it; every service must use the same value. Env: ICESHELVES_DELIVERY_LIMIT. Default: 5",
            valueName: "n"
        )
    )
    public var deliveryLimit: Int?

    @Option(
        name: .customLong("job-publishers"),
        help: ArgumentHelp(
            "Broker users (comma-separated) whose jobs this service takes from its job queue (deploy.*); a job that another user published is dead-lettered unread. The service's own broker user (its retries) is always trusted. Env: ICESHELVES_JOB_PUBLISHERS. Default: api-gateway for cloud-init-renderer; cloud-init-renderer,api-gateway for the deployers and agent-broker (the gateway requeues dead letters)",
            valueName: "users"
        )
    )
    public var jobPublishers: String?

    public init() {}

    /// The broker URLs after flag, environment and default: one, or a cluster's nodes in the
    /// order the service tries them (``AMQPURL/list(parsing:)``).
    public func resolvedAMQPURLs(in env: Environment = .process) throws -> [AMQPURL] {
        guard let text = amqpURL ?? env.value("ICESHELVES_AMQP_URL") else { return [.default] }
        do {
            return try AMQPURL.list(parsing: text)
        } catch {
            throw ValidationError("--amqp-url / ICESHELVES_AMQP_URL: \(error)")
        }
    }

    /// The first broker URL after flag, environment and default; every URL in the list has its
    /// user and vhost.
    public func resolvedAMQPURL(in env: Environment = .process) throws -> AMQPURL { try resolvedAMQPURLs(in: env)[0] }

    /// The metrics port after flag, environment and the service's default; `nil` when turned off.
    public func resolvedMetricsPort(default port: Int, in env: Environment = .process) throws -> Int? {
        let value: Int
        if let metricsPort {
            value = metricsPort
        } else if let text = env.value("ICESHELVES_METRICS_PORT") {
            guard let v = Int(text) else { throw ValidationError("ICESHELVES_METRICS_PORT must be a number, got '\(text.prefix(20))'") }
            value = v
        } else {
            value = port
        }
        guard (-1...65535).contains(value) else { throw ValidationError("the metrics port must be -1 (off), 0 (any) or 1-65535") }
        return value < 0 ? nil : value
    }

    public var resolvedMetricsHost: String { resolvedMetricsHost(in: .process) }

    /// The metrics address after flag, environment and default.
    public func resolvedMetricsHost(in env: Environment) -> String { metricsHost ?? env.value("ICESHELVES_METRICS_HOST") ?? "127.0.0.1" }

    public func resolvedLogLevel(in env: Environment = .process) throws -> Logger.Level {
        let text = logLevel ?? env.value("ICESHELVES_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            throw ValidationError("unknown log level '\(text.prefix(20))'; use trace, debug, info, notice, warning, error or critical")
        }
        return level
    }

    public func resolvedRPCConcurrency(in env: Environment = .process) throws -> Int {
        try env.integer(rpcConcurrency, flagName: "--rpc-concurrency", key: "ICESHELVES_RPC_CONCURRENCY", default: 16, in: 1...1024)
    }

    /// The graceful-shutdown budget after flag, environment and default.
    public func resolvedShutdownGrace(in env: Environment = .process) throws -> Duration {
        .seconds(
            try env.integer(
                shutdownGraceSeconds,
                flagName: "--shutdown-grace-seconds",
                key: "ICESHELVES_SHUTDOWN_GRACE_SECONDS",
                default: 25,
                in: 1...3600
            )
        )
    }

    /// The job queues' delivery limit after flag, environment and default (``BusNames/defaultDeliveryLimit``).
    public func resolvedDeliveryLimit(in env: Environment = .process) throws -> Int {
        try env.integer(
            deliveryLimit,
            flagName: "--delivery-limit",
            key: "ICESHELVES_DELIVERY_LIMIT",
            default: BusNames.defaultDeliveryLimit,
            in: 1...100
        )
    }

    /// The broker users whose jobs a service takes: flag, environment or the service's default,
    /// plus the service's own login (its retries).
    public func resolvedJobPublishers(for service: ServiceName, in env: Environment = .process) throws -> Set<String> {
        let defaults: [ServiceName] = service == .cloudInitRenderer ? [.apiGateway] : [.cloudInitRenderer, .apiGateway]
        var users = defaults.map(\.rawValue)
        if let text = jobPublishers ?? env.value("ICESHELVES_JOB_PUBLISHERS") {
            users = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !users.isEmpty else { throw ValidationError("--job-publishers / ICESHELVES_JOB_PUBLISHERS names no broker user") }
        }
        return Set(users).union([try resolvedAMQPURL(in: env).user])
    }

    public mutating func validate() throws {
        _ = try resolvedShutdownGrace()
        _ = try resolvedDeliveryLimit()
        _ = try resolvedAMQPURLs()
        _ = try resolvedLogLevel()
        _ = try resolvedRPCConcurrency()
        _ = try resolvedMetricsPort(default: 0)
    }
}
