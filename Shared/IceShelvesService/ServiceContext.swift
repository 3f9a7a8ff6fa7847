import IceShelvesBus
import IceShelvesContracts
import Logging

/// What a service's own code gets from ``ServiceRunner``: the bus client, a logger, and a
/// router to add RPC handlers to.
public struct ServiceContext: Sendable {
    public let name: ServiceName
    public let client: AMQPClient
    public let logger: Logger
}
