/// `GET /iceshelves/api/services`: every service's health, as the gateway gathered it over the
/// bus (a ``Ping`` to each). The gateway answers for itself.
public struct ServicesHealth: Codable, Sendable, Equatable {
    /// One service's answer, or its silence.
    public struct Service: Codable, Sendable, Equatable {
        public var service: ServiceName
        /// Whether it answered within the timeout.
        public var up: Bool
        public var version: String?
        /// The answering process (one of several competing instances).
        public var instanceId: String?
        public var uptimeSeconds: Double?
        /// The round trip over the bus, in milliseconds.
        public var latencyMs: Double?
        /// Why it is counted down.
        public var error: String?

        public init(
            service: ServiceName,
            up: Bool,
            version: String? = nil,
            instanceId: String? = nil,
            uptimeSeconds: Double? = nil,
            latencyMs: Double? = nil,
            error: String? = nil
        ) {
            self.service = service
            self.up = up
            self.version = version
            self.instanceId = instanceId
            self.uptimeSeconds = uptimeSeconds
            self.latencyMs = latencyMs
            self.error = error
        }

        enum CodingKeys: String, CodingKey {
            case service, up, version, error
            case instanceId = "instance_id"
            case uptimeSeconds = "uptime_seconds"
            case latencyMs = "latency_ms"
        }
    }

    /// `true` when every service answered.
    public var healthy: Bool
    public var services: [Service]

    public init(services: [Service]) {
        self.services = services
        healthy = services.allSatisfy(\.up)
    }

    /// The services the gateway asks: all but the agent, which is not on the bus.
    public static let busServices = ServiceName.allCases.filter { $0 != .agent }
}
