import IceShelvesBus
import IceShelvesContracts
import Logging
import Prometheus

/// What a service's own code gets from ``ServiceRunner``: the bus client, a logger, and a
/// router to add RPC handlers to. The client is not running yet while the service is set up:
/// declare topology and talk to the bus from the services' `run()`, not from the set-up.
public struct ServiceContext: Sendable {
    public let name: ServiceName
    public let client: AMQPClient
    public let logger: Logger
    /// The Prometheus registry behind `/metrics`, for a service that serves metrics elsewhere too.
    public let metrics: PrometheusCollectorRegistry
    /// The broker users whose jobs the service takes (``ServiceOptions/resolvedJobPublishers(for:in:)``),
    /// for its ``QueueWorker``'s `publishers`.
    public let jobPublishers: Set<String>
}
