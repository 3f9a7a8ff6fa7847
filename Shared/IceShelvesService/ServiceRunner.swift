import Foundation
import IceShelvesBus
import IceShelvesContracts
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// Builds and runs one service's `ServiceGroup`: the AMQP client, the RPC server (with `ping`),
/// the health and metrics endpoint, and the service's own workers.
///
/// SIGTERM and SIGINT shut it down gracefully: workers stop consuming and finish in-flight
/// work, then the connection closes, and the process exits 0. All of it within one budget
/// (`--shutdown-grace-seconds`, see ``ShutdownBudget``): work still running near its end is
/// cancelled and requeued, and at its end the process exits regardless.
public struct ServiceRunner: Sendable {
    /// The version every service reports in ``Pong``.
    public static let version = "0.1.0"

    let name: ServiceName
    let options: ServiceOptions
    let defaultMetricsPort: Int

    public init(name: ServiceName, options: ServiceOptions, defaultMetricsPort: Int) {
        self.name = name
        self.options = options
        self.defaultMetricsPort = defaultMetricsPort
    }

    /// Bootstraps logging and metrics (once per process), then runs until a signal.
    ///
    /// - Parameter setUp: adds RPC handlers to the router and returns the service's own services.
    public func run(_ setUp: @Sendable (ServiceContext, inout RPCRouter) async throws -> [any Service] = { _, _ in [] }) async throws {
        let level = try options.resolvedLogLevel()
        let label = name.rawValue
        LoggingSystem.bootstrap { lbl in
            var handler = StreamLogHandler.standardError(label: lbl)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: label)
        Gauge(label: "iceshelves_service_info", dimensions: [("service", label), ("version", Self.version)]).record(1)

        let urls = try options.resolvedAMQPURLs()
        let client = AMQPClient(configuration: .init(urls: urls, name: label, deliveryLimit: try options.resolvedDeliveryLimit()), logger: logger)
        let started = ContinuousClock.now
        let instanceId = "\(label)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(6).lowercased())"

        var router = RPCRouter()
        router.on(Ping.self) { _, _ in
            let uptime = ContinuousClock.now - started
            return Pong(service: label, version: Self.version, instanceId: instanceId, uptimeSeconds: uptime / .seconds(1))
        }
        let context = ServiceContext(
            name: name,
            client: client,
            logger: logger,
            metrics: registry,
            jobPublishers: try options.resolvedJobPublishers(for: name)
        )
        let own = try await setUp(context, &router)

        var services: [any Service] = [client]
        if let port = try options.resolvedMetricsPort(default: defaultMetricsPort) {
            services.append(
                HealthEndpoint.make(service: label, host: options.resolvedMetricsHost, port: port, client: client, registry: registry, logger: logger)
            )
        }
        services.append(
            RPCServer(client: client, queue: name.rpcQueue, router: router, concurrency: try options.resolvedRPCConcurrency(), logger: logger)
        )
        services.append(contentsOf: own)
        // Last, so that it is told first and its clock starts with the shutdown.
        let budget = ShutdownBudget(budget: try options.resolvedShutdownGrace(), logger: logger)
        services.append(budget)

        logger.info(
            "starting",
            metadata: ["broker": "\(urls.map(\.redacted).joined(separator: ","))", "version": "\(Self.version)", "instance": "\(instanceId)"]
        )
        var configuration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        configuration.maximumGracefulShutdownDuration = budget.drainTime
        let group = ServiceGroup(configuration: configuration)
        try await group.run()
        logger.info("stopped")
    }
}
