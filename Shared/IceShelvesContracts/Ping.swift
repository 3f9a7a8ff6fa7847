/// Asks a service whether it is alive. Every service answers it on its RPC queue.
public struct Ping: BusMessage, Equatable {
    public static let messageType = "ping"
    public static let messageVersion = 1
    public init() {}
}

/// A service's answer to ``Ping``.
public struct Pong: BusMessage, Equatable {
    public static let messageType = "pong"
    public static let messageVersion = 1
    /// The service's name, for example `egg-catalog`.
    public var service: String
    /// The service's version.
    public var version: String
    /// A per-process id, so that competing instances can be told apart.
    public var instanceId: String
    /// Seconds since the process started.
    public var uptimeSeconds: Double

    public init(service: String, version: String, instanceId: String, uptimeSeconds: Double) {
        self.service = service
        self.version = version
        self.instanceId = instanceId
        self.uptimeSeconds = uptimeSeconds
    }

    enum CodingKeys: String, CodingKey {
        case service, version
        case instanceId = "instance_id"
        case uptimeSeconds = "uptime_seconds"
    }
}
