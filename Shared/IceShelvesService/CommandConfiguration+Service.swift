import ArgumentParser
import IceShelvesContracts

extension CommandConfiguration {
    /// The `--help` header every service shares: what it is, its RPC queue, its endpoint.
    public static func iceShelvesService(_ name: ServiceName, abstract: String, metricsPort: Int) -> CommandConfiguration {
        CommandConfiguration(
            commandName: name.rawValue,
            abstract: abstract,
            discussion: """
                Talks only over AMQP 0-9-1 through RabbitMQ and answers 'ping' on the queue \
                \(name.rpcQueue). Health: GET /healthz; Prometheus metrics: GET /metrics \
                (default 127.0.0.1:\(metricsPort)). Stops gracefully on SIGTERM or SIGINT: it \
                stops consuming, finishes in-flight work and exits 0.
                """
        )
    }
}
